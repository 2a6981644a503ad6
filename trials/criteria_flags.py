"""Prior-therapy flags and disease features read from eligibility items.

    Each item is cut into sentences (on ". " and "; "). A sentence counts for a
    therapy only if it names it (data table ``_LEXICON``) AND speaks about past
    exposure (prior / previous / received / refractory / exposed / history of…),
    so "adequate organ function for CAR-T cell treatment" or "4 months after the
    last dose of daratumumab" do not count. Clause scope: a parenthesis with its
    own verdict ("Prior CAR-T (prior bispecific antibodies are permitted)") or a
    "but / however / whereas" clause speaks only for the therapies it names; a
    therapy is judged on the sentence minus the clauses naming only other
    therapies. Per sentence (scoped):
      * double negative ("not excluded", "not ineligible") → allowed
      * conditional wording (unless / except / provided / as long as /
        "allowed if …" / "if more than 6 months …" / "≥ 3 months since …")
        → allowed, condition quoted
      * optional exposure ("not required / mandatory / necessary", "optional",
        "do not need to", "may or may not", "with or without", "regardless of")
        → allowed
      * "…, but not X": X excluded (inclusion) / allowed (exclusion)
      * "not refractory to X" → allowed, condition quoted (exclusion: required)
      * absence of exposure ("no prior", "never received/exposed", "have not
        received", "not previously", "lack of / free of prior", "naive",
        "without prior"): inclusion/other → excluded; exclusion → required
        (excluding the unexposed), except with a wash-out window ("no X within
        3 months") → excluded. Absence then a ban ("patients who never received
        X are ineligible") → required; "must not have received" → excluded;
        "No prior X allowed" → excluded.
      * prohibition ("not allowed", "must not", "excluded", "ineligible") → excluded
      * permission ("allowed", "permitted", "eligible", "may have received")
        → allowed
      * otherwise by section: exclusion → excluded; inclusion → required;
        other → required only with demand wording (must / refractory /
        received / exposed), else ignored.
      * An exclusion with a time window ("prior CAR T within 3 months") stays
        excluded, with the window quoted as condition.
    Within one item a permitting sentence beats an excluding one (the item
    itself permits it). Across items: required > excluded > allowed; the first
    item of the winning rank gives the sentence. A BCMA CAR T mention sets
    prior_car_t and prior_bcma; a BCMA bispecific sets prior_bispecific and
    prior_bcma. An either/or demand ("treated with CAR T or a bispecific")
    marks every alternative required.
    triple_class: "triple-class exposed/refractory" wording, or one sentence
    naming a PI, an IMiD and an anti-CD38 (class or drug).
"""
from __future__ import annotations

import re
from typing import Iterable

from trials.criteria import fold

# --------------------------------------------------------------------------------------
_LEXICON: dict[str, tuple[str, ...]] = {
    "car_t": (
        r"car[\s-]?t(?:[\s-]?cells?)?", r"chimeric\s+antigen\s+receptor",
        r"\w+cabtagene(?:\s+\w*leucel)?", r"\w+leucel",
        r"(?:ide|cilta|anito|arlo|zevor|orva|eque|axi|tisa|liso|brexu|obe)-cel",
        r"abecma", r"carvykti", r"car-?nk",
    ),
    "bcma_car_t": (
        r"ide-cel", r"idecabtagene(?:\s+vicleucel)?", r"cilta-cel", r"ciltacabtagene(?:\s+autoleucel)?",
        r"abecma", r"carvykti", r"anito-cel", r"anitocabtagene(?:\s+autoleucel)?", r"arlo-cel",
        r"arlocabtagene(?:\s+autoleucel)?", r"zevor-cel", r"zevorcabtagene(?:\s+autoleucel)?",
        r"orva-cel", r"orvacabtagene(?:\s+autoleucel)?", r"eque-cel", r"equecabtagene(?:\s+autoleucel)?",
    ),
    "bcma": (
        r"bcma(?:[\s-]?(?:directed|targeted|targeting|specific))?", r"anti-?\s?bcma",
        r"b[\s-]cell\s+maturation\s+antigen", r"belantamab(?:\s+mafodotin)?", r"blenrep",
        r"gsk\s?2857916", r"teclistamab", r"tecvayli", r"elranatamab", r"elrexfio",
        r"linvoseltamab", r"lynozyfic", r"etentamig", r"abbv-?383", r"alnuctamab", r"pavurutamab",
    ),
    "bispecific": (
        r"bi-?specifics?(?:\s+(?:antibod(?:y|ies)|agents?|t[\s-]cell\s+engagers?))?",
        r"t[\s-]?cell[\s-](?:engag(?:er|ers|ing)|redirect(?:ing|ors?)?)(?:\s+(?:antibod(?:y|ies)|therapy))?",
        r"teclistamab", r"tecvayli", r"elranatamab", r"elrexfio", r"talquetamab", r"talvey",
        r"linvoseltamab", r"lynozyfic", r"etentamig", r"abbv-?383", r"cevostamab", r"alnuctamab",
        r"forimtamab", r"pavurutamab", r"blinatumomab", r"epcoritamab", r"glofitamab",
        r"mosunetuzumab", r"odronextamab", r"(?!mezagi)\w{3,}tamab",
    ),
    "anti_cd38": (
        r"(?:anti-?\s?)?cd\s?-?38(?:[\s-]?(?:directed|targeted|targeting|monoclonal))?(?:\s+(?:monoclonal\s+)?antibod(?:y|ies))?",
        r"daratumumab(?:\s+and\s+hyaluronidase)?", r"darzalex", r"isatuximab", r"sarclisa",
        r"felzartamab", r"mezagitamab", r"tak-?079",
    ),
    "pi": (
        r"proteasome\s+inhibitors?", r"bortezomib", r"carfilzomib", r"ixazomib", r"velcade",
        r"kyprolis", r"ninlaro",
    ),
    "imid": (
        r"immunomodulatory(?:\s+(?:imide\s+)?(?:drugs?|agents?))?", r"immunomodulators?",
        r"lenalidomide", r"pomalidomide", r"thalidomide", r"revlimid", r"pomalyst",
        r"iberdomide", r"mezigdomide",
    ),
    "triple": (
        r"triple[\s-]*(?:class[\s-]*)?(?:exposed|refractory|exposure|resistant)",
        r"triple[\s-]class", r"penta[\s-]*(?:drug[\s-]*)?(?:exposed|refractory)",
        r"quad(?:ruple)?[\s-]*(?:class[\s-]*)?refractory",
    ),
}
_CASE_SENSITIVE: dict[str, tuple[str, ...]] = {
    "bispecific": (r"TCEs?", r"BsAbs?", r"BiTEs?", r"bsAbs?"),
    "pi": (r"PIs?",),
    "imid": (r"IMiDs?", r"IMIDs?"),
    "triple": (r"TCR(?:MM)?",),
}


def _compile(key: str) -> re.Pattern:
    # \b(?:p1|p2|...)\b matches exactly where one of \b(?:p1)\b, \b(?:p2)\b ... does; with the
    # boundary factored out, the regex engine tries the alternatives only at word boundaries.
    parts = []
    if _LEXICON.get(key):
        parts.append(r"(?i:\b(?:" + "|".join(f"(?:{p})" for p in _LEXICON[key]) + r")\b)")
    if _CASE_SENSITIVE.get(key):
        parts.append(r"\b(?:" + "|".join(f"(?:{p})" for p in _CASE_SENSITIVE[key]) + r")\b")
    return re.compile("|".join(parts))


_RX = {k: _compile(k) for k in set(_LEXICON) | set(_CASE_SENSITIVE)}
# Literals every match contains: (in the lower-cased sentence for _LEXICON, as written for
# _CASE_SENSITIVE). A sentence with none of them is not searched. Keep in step with the tables above.
_RX_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "car_t": (("car", "chimeric", "cabtagene", "leucel", "-cel", "abecma"), ()),
    "bcma_car_t": (("-cel", "cabtagene", "abecma", "carvykti"), ()),
    "bcma": (("bcma", "maturation", "tamab", "blenrep", "gsk", "tecvayli", "elrexfio", "lynozyfic", "etentamig", "abbv"), ()),
    "bispecific": (("specific", "engag", "redirect", "tamab", "tecvayli", "elrexfio", "talvey", "lynozyfic", "etentamig",
                    "abbv", "blinatumomab", "mosunetuzumab"), ("TCE", "BsAb", "BiTE", "bsAb")),
    "anti_cd38": (("cd", "daratumumab", "darzalex", "isatuximab", "sarclisa", "tamab", "tak"), ()),
    "pi": (("proteasome", "zomib", "velcade", "kyprolis", "ninlaro"), ("PI",)),
    "imid": (("immunomodulat", "domide", "revlimid", "pomalyst"), ("IMiD", "IMID")),
    "triple": (("triple", "penta", "quad"), ("TCR",)),
}


def _names(key: str, sent: str, low: str | None) -> bool:
    """Whether the sentence names therapy ``key``. ``low``: fold(sent) or None."""
    if low is not None:
        ci, cs = _RX_NEEDS[key]
        if not any(k in low for k in ci) and not any(k in sent for k in cs):
            return False
    return _RX[key].search(sent) is not None
# cheap pre-filter: an item matching none of these literals cannot name any flagged therapy
_MENTION_LITERALS = (
    "car t", "car-t", "cart", "chimeric", "bcma", "maturation", "-cel", "leucel", "cabtagene", "abecma", "carvykti",
    "tamab", "tuximab", "cd38", "cd-38", "cd 38", "daratum", "darzalex", "sarclisa", "specific", "engag", "redirect",
    "tce", "bsab", "bite", "triple", "penta", "quad", "blenrep", "belantamab", "gsk", "abbv", "tecvayli", "elrexfio",
    "talvey", "lynozyfic", "blinatumomab", "mosunetuzumab", "tak-079", "tak079", "etentamig", "car-nk", "carnk", "tcr")


def _trie(words: Iterable[str]) -> str:
    """Regex matching exactly the given literals, shaped as a trie (one branch per next character)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return build(trie)


_MENTION_LITERALS_RX = re.compile(_trie(_MENTION_LITERALS))  # one pass: is any of them in the text?

# "prior exposure" context: without one of these a mention is not about history.
_PRIOR_RX = re.compile(
    r"\b(?:prior|previous(?:ly)?|received|receipt|had\s+(?:a|an|any)?|treated|pre-?treated|exposed|exposure"
    r"|refractory|intoleran\w*|relapsed|relaps\w*\s+(?:on|after|following)|progress\w*\s+(?:on|after|following|during)"
    r"|history\s+of|naive|naïve|unexposed|failed|failure|resistant|since"
    r"|after\s+(?:\w+\s+){0,2}(?:treatments?|therap\w+|regimens?|lines?))\b", re.I)
# "relapsed or refractory disease" describes the disease, not exposure to a named drug
_DISEASE_STATE_RX = re.compile(
    r"\b(?:relapsed|recurrent|refractory)(?:\s*(?:and|or|and/or|/|,)\s*(?:relapsed|recurrent|refractory))*"
    r"\s+(?:multiple\s+)?(?:myeloma|mm|disease|rrmm)\b", re.I)
# "For Daratumumab + lenalidomide (D-Rd) regimen: …" names a study cohort, not a history
_COHORT_RX = re.compile(r"^(?:for|in)\b[^:]{0,200}\b(?:regimens?|cohorts?|arms?|parts?|groups?)\s*:", re.I)
_FUTURE_RX = re.compile(
    r"\b(?:planned|plan\s+to|candidate\s+(?:to|for)|will\s+(?:receive|be\s+treated)|to\s+be\s+treated|"
    r"last\s+dose\s+of|while\s+(?:they\s+are\s+)?receiving|hypersensitiv\w*|allerg\w*|contraindicat\w*)\b", re.I)

_DOUBLE_NEG_RX = re.compile(
    r"\b(?:not|never)\s+(?:be\s+)?(?:excluded|ineligible|an?\s+exclusion|exclusionary|disqualif\w*)|"
    r"\bdoes\s+not\s+(?:exclude|disqualify|preclude)|\bdo\s+not\s+(?:exclude|disqualify|preclude)|"
    r"\bno\s+(?:restriction|limit)s?\s+on\b", re.I)
# A ban on the therapy itself ("not allowed", "excluded", "ineligible") → excluded in any section.
_PROHIBIT_RX = re.compile(
    r"\b(?:(?:is|are|be|was|were)\s+)?(?:not|n't)\s+(?:be\s+)?(?:allowed|permitted|eligible|acceptable|included|enrolled)\b"
    r"|\bineligible\b|\bexcluded\b|\bprohibited\b|\bdisallowed\b", re.I)
# A negated modal ("must not have received") forbids the exposure → excluded in any section.
_MODAL_NEG_RX = re.compile(
    r"\bmust\s+not\b|\bshould\s+not\b|\bmay\s+not\b|\bshall\s+not\b|\bcannot\b|\bcan\s*not\b|\bmustn't\b"
    r"|\bshouldn't\b", re.I)
# Absence of the exposure ("never exposed", "no prior", "lack of prior", "BCMA-naive"). It describes the
# patient, so the section decides: inclusion (wanted) → excluded; exclusion (unwanted) → required.
_ABSENCE_RX = re.compile(
    r"\bno\s+(?:prior|previous|history|exposure|treatment|therapy|pre-?treatment|earlier)\b"
    r"|\bwithout\s+(?:any\s+)?(?:prior|previous|earlier|history|exposure|having|treatment|therapy|pre-?treatment)\b"
    r"|\bnot\s+(?:have\s+|having\s+)?(?:been\s+)?(?:previously\s+|yet\s+|ever\s+|already\s+)?"
    r"(?:receive[ds]?|treated|exposed|pre-?treated|had|taken|given|undergone)\b"
    r"|\b(?:has|have|had)\s+not\s+(?:previously\s+|yet\s+|ever\s+)?(?:been|received|had|undergone)\b"
    r"|\b(?:hasn't|haven't|hadn't|didn't\s+receive)\b"
    r"|\bnever\s+(?:been\s+)?(?:previously\s+)?(?:received|exposed|treated|pre-?treated|had|taken|given|undergone)\b"
    r"|\b(?:lack|lacking|absence|free)\s+of\s+(?:any\s+)?(?:prior|previous|earlier|exposure|treatment|therapy|history"
    r"|pre-?treatment)\b"
    r"|\bnaive\b|\bnaïve\b|\bunexposed\b|\bnon-?exposed\b|\bnot\s+previously\b", re.I)
# Optional exposure ("not required", "optional", "may or may not", "with or without") → allowed.
_OPTIONAL_RX = re.compile(
    r"\bnot\s+(?:[\w-]+\s+){0,2}?(?:required|mandatory|necessary|needed|obligatory|compulsory|requirement|prerequisite)\b"
    r"|\bno\s+(?:requirement|need)\b|\bneed\s+not\b|\bneedn't\b|\bnot\s+need\b|\b(?:do|does)n't\s+need\b"
    r"|\boptional(?:ly)?\b|\bmay\s+or\s+may\s+not\b|\bwith\s+or\s+without\b|\bwhether\s+or\s+not\b"
    r"|\bor\s+not\b|\bregardless\s+of\b|\birrespective\s+of\b|\bindependent(?:ly)?\s+of\b", re.I)
_PERMIT_RX = re.compile(
    r"\b(?:allowed|permitted|eligible|acceptable|accepted|can\s+(?:be\s+)?(?:included|enrolled|participate)|"
    r"may\s+(?:be\s+)?(?:included|enrolled|participate)|may\s+have\s+(?:received|had|been)|"
    r"is\s+not\s+required|are\s+not\s+required|not\s+(?:a\s+)?requirement|regardless\s+of|irrespective\s+of|"
    r"with\s+or\s+without|(?:are|is)\s+(?:also\s+)?(?:welcome|included))\b", re.I)
_DEMAND_RX = re.compile(
    r"\b(?:must|required|requires|should\s+have|need\s+to|has\s+to|have\s+to|refractory|received|exposed|"
    r"treated\s+with|relapsed|progress\w*|failed)\b", re.I)

_COND_RX = re.compile(
    r"(?P<c>\b(?:unless|except(?:\s+for)?|excepting|provided(?:\s+that)?|as\s+long\s+as|only\s+if|"
    r"with\s+the\s+exception\s+of|so\s+long\s+as)\b[^.;]*)"
    r"|(?:allowed|permitted|eligible|acceptable)\s+(?P<c2>(?:if|when|after|provided)\b[^.;]*)"
    r"|(?P<c3>\bif\s+(?:it\s+was\s+|they\s+were\s+|received\s+|given\s+|administered\s+|completed\s+|the\s+last\s+dose\s+was\s+)?"
    r"(?:more\s+than|greater\s+than|at\s+least|over|>=?|≥|≧)\s*\d+[^.;]*)"
    r"|(?P<c4>(?:(?:more|greater)\s+than|at\s+least|over|>=?|≥|≧)\s*\d+\s*(?:weeks?|months?|days?|years?|half[\s-]lives)"
    r"\s+(?:since|before|prior|ago|from|after|have\s+elapsed|elapsed)[^.;]*)", re.I)
_WINDOW_RX = re.compile(
    r"\bwithin\s+(?:the\s+)?(?:(?:last|past|previous|prior)\s+)?\d+\s*(?:weeks?|months?|days?|years?)[^.;,]*", re.I)


_RANK = {"required": 3, "excluded": 2, "allowed": 1}


def _mentions(sent: str, low: str | None = None) -> set[str]:
    found: set[str] = set()
    if _names("car_t", sent, low):
        found.add("prior_car_t")
    bcma_car_t = _names("bcma_car_t", sent, low)
    if bcma_car_t or _names("bcma", sent, low):
        found.add("prior_bcma")
    if bcma_car_t:
        found.add("prior_car_t")
    if _names("bispecific", sent, low):
        found.add("prior_bispecific")
    cd38 = _names("anti_cd38", sent, low)
    if cd38:
        found.add("prior_anti_cd38")
    if _names("triple", sent, low) or (cd38 and _names("pi", sent, low) and _names("imid", sent, low)):
        found.add("triple_class")
    return found


def _condition(sent: str) -> str:
    m = _COND_RX.search(sent)
    if not m:
        return ""
    c = next(g for g in m.groups() if g)
    return c.strip(" ,:-")


# "not refractory to daratumumab": exposure is fine, refractoriness is the condition
_NOT_REFRACTORY_RX = re.compile(r"\bnot\s+(?:be\s+|been\s+|being\s+)?(?:refractory|resistant)\b[^.;]*", re.I)
# Clause scope: a marked parenthesis ("(prior bispecific antibodies are permitted)") or a "but"/"however"
# clause speaks for the therapies it names, not for the ones named elsewhere in the sentence.
_SCOPE_PRE_RX = re.compile(r"\(|\b(?:but|however|whereas|although|though)\b", re.I)
_PAREN_RX = re.compile(r"\(([^()]*)\)")
_CLAUSE_SPLIT_RX = re.compile(r"\s*,?\s*\b(?:but|however|whereas|although|though)\b\s*,?\s*", re.I)
_MARKED_RXS = (_DOUBLE_NEG_RX, _OPTIONAL_RX, _MODAL_NEG_RX, _ABSENCE_RX, _PROHIBIT_RX, _PERMIT_RX, _COND_RX)


def _scoped(sent: str, flag: str) -> str:
    """The part of ``sent`` whose wording decides ``flag``: the whole sentence, minus the clauses and
    marked parentheses that name only other therapies."""
    if not _SCOPE_PRE_RX.search(sent):
        return sent
    marked: list[str] = []

    def cut(m: re.Match) -> str:
        inner = m.group(1)
        if any(rx.search(inner) for rx in _MARKED_RXS):
            marked.append(inner)
            return " "
        return m.group(0)

    main = _PAREN_RX.sub(cut, sent) if "(" in sent else sent
    segments = [c for c in _CLAUSE_SPLIT_RX.split(main) if c.strip()] + marked
    if len(segments) < 2:
        return sent
    keep: list[str] = []
    names_flag = False
    for seg in segments:
        found = _mentions(seg, fold(seg))
        if flag in found:
            names_flag = True
        elif found:
            continue  # speaks for another therapy
        keep.append(seg)
    return " ".join(" ".join(keep).split()) if names_flag else sent


def _window(sent: str) -> str:
    w = _WINDOW_RX.search(sent)
    return w.group(0).strip(" ,") if w else ""


def _classify(sent: str, section: str, flag: str | None = None) -> tuple[str, str] | None:
    """(value, condition) for a sentence already known to mention ``flag``, or None."""
    ctx = _DISEASE_STATE_RX.sub(" ", sent)
    has_ctx = _PRIOR_RX.search(ctx) or (section == "exclusion" and _WINDOW_RX.search(sent))
    if not has_ctx or _FUTURE_RX.search(sent) or _COHORT_RX.search(sent):
        return None
    text = _scoped(sent, flag) if flag else sent
    if _DOUBLE_NEG_RX.search(text):
        return "allowed", ""
    cond = _condition(text)
    if cond:
        return "allowed", cond
    if _OPTIONAL_RX.search(text):  # "not required", "may or may not have received", "with or without"
        return "allowed", ""
    if text is not sent and text[:4].lower() == "not ":  # "Prior BCMA therapy, but not CAR T"
        return ("allowed", "") if section == "exclusion" else ("excluded", "")
    nr = _NOT_REFRACTORY_RX.search(text)
    if nr:
        return ("required", "") if section == "exclusion" else ("allowed", nr.group(0).strip(" ,)"))
    absent = _ABSENCE_RX.search(text)
    modal = _MODAL_NEG_RX.search(text)
    ban = _PROHIBIT_RX.search(text)
    if absent:
        # "patients who never received X are ineligible / may not enrol": excluding the unexposed
        for neg in (modal, ban):
            if neg and neg.start() >= absent.end():
                return "required", ""
        if modal:  # "must not have received X"
            return "excluded", _window(text)
        if ban:
            return "excluded", _window(text)
        if _PERMIT_RX.search(text):
            # "No prior CAR T allowed" bans it; "patients without prior X are eligible" only permits
            if absent.start() == 0 and absent.group(0)[:2].lower() == "no":
                return "excluded", _window(text)
            return "allowed", ""
        if section == "exclusion":
            w = _window(text)
            # "No daratumumab within 3 months" is a wash-out ban; otherwise excluding the unexposed
            return ("excluded", w) if w else ("required", "")
        return "excluded", _window(text)
    if modal or ban:
        return "excluded", _window(text)
    if _PERMIT_RX.search(text):
        return "allowed", ""
    if section == "exclusion":
        return "excluded", _window(text)
    if section == "inclusion":
        return "required", ""
    if _DEMAND_RX.search(text):
        return "required", ""
    return None

