"""Eligibility criteria: inclusion/exclusion splitter and prior-therapy flags.

Pure functions over the free-text ``eligibilityCriteria`` (v2 CommonMark) or the
legacy XML ``criteria/textblock`` (indented plain text). Nothing here raises on
any ``str`` input.

Splitting (``split_criteria``)
    * Headings in any case ("Inclusion Criteria:", "KEY EXCLUSION CRITERIA",
      "**Inclusion criteria for registration:**", "## Exclusion", "Inclusion
      Criteria - all subjects must:") switch the section. Other short headings
      ("DISEASE CHARACTERISTICS:", "Eligibility criteria for registration:")
      switch to ``other``. Text before any heading is ``other``.
    * Every bullet ("-", "*", "•", "1.", "1)", "a)", "(a)", "ii.") starts an item.
      Nested sub-items are kept as their own items (in their parent's section);
      they are NOT joined to the parent. Wrapped continuation lines are joined
      to the item they continue. A paragraph after a blank line is a new item.
    * Markdown escapes/emphasis are removed and whitespace collapsed.

Flags (``eligibility_flags``)
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

Prior lines
    min_prior_lines / max_prior_lines from "≥ 3 prior lines", "at least three
    prior regimens", "1 to 3 prior lines", "between 1 and 4 previous courses",
    "no more than 2", "more than 2" (min 3), "fewer than 4" (max 3), "only 1
    prior line" / a bare count (min = max). "therapies", "regimens",
    "treatments", "courses" count as lines; cycles/doses/weeks never do.
    Sentences that define counting ("is considered 1 prior therapy") are
    ignored. Several statements (cohorts): min = smallest minimum, max =
    largest maximum (the least restrictive reading).
    max = 0 only from explicit statements: "previously untreated … myeloma",
    "no prior systemic/anti-myeloma therapy", or an exclusion item
    "prior/previous anti-myeloma therapy", "previous treatment for myeloma",
    "previously treated". "Newly diagnosed" alone gives null, and so does
    "no more than one cycle of treatment" (cycles are not lines).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from . import failures

FLAGS = ("prior_car_t", "prior_bcma", "prior_bispecific", "prior_anti_cd38", "triple_class")
VALUES = ("required", "excluded", "allowed", "not_mentioned")
LINE_KEYS = ("min_prior_lines", "max_prior_lines")

MAX_TEXT = 200_000  # longer texts are truncated (real criteria are < 30k chars)

# --------------------------------------------------------------------------------------
# Data table: which words name which therapy. Patterns are regex fragments, matched
# case-insensitively at word boundaries unless listed in _CASE_SENSITIVE.
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
    """Whether the sentence names therapy ``key``. ``low``: _fold(sent) or None."""
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

# --------------------------------------------------------------------------------------
# Splitter
# --------------------------------------------------------------------------------------
_HEADING_RX = re.compile(
    r"^(?:key|main|major|general|specific|additional|other|principal|selected|important)?\s*"
    r"(?:patient\s+|subject\s+|participant\s+)?(?P<kind>inclusion|exclusion|eligibility|ineligibility|inclusions|exclusions)"
    r"(?:\s+(?:and|&)\s+(?:exclusion|inclusion))?"
    r"(?:\s+criteri(?:a|on)s?)?(?P<rest>\b.*)$", re.I)
_HEAD_PRE_RX = re.compile(r"clusion|criteri|eligib", re.I)
_CAPS_HEADING_RX = re.compile(r"^[A-Z][A-Z0-9 /&,()'-]{3,80}:?$")
_BULLET_RX = re.compile(
    r"^(?P<ind>[ \t]*)(?P<b>[-*•·+▪◦‣–—]|\d{1,3}[.)](?!\d)|\(\d{1,3}\)|\(?[a-zA-Z][.)](?=\s)|\(?(?:i{1,3}|iv|v|vi{1,3}|ix|x)[.)](?=\s))[ \t]+")
_MD_RX = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_EMPH_RX = re.compile(r"(\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w))")
_WS_RX = re.compile(r"\s+")
_MD_LEAD_RX = re.compile(r"^(?:#{1,6}\s+|>\s+)+")
# Split points: whitespace after '.' or ';' before a capital, digit, bracket, quote or bullet, or any
# whitespace after ';'. Written as (?<=[.;])\s+(?=[A-Z(\[\"'0-9•*-])|(?<=;)\s+ it matches the same runs;
# starting with \s lets the regex engine skip straight to whitespace.
_SENT_RX = re.compile(r"\s(?:(?<=[.;]\s)\s*(?=[A-Z(\[\"'0-9•*-])|(?<=;\s)\s*)")


@dataclass(frozen=True)
class Criteria:
    inclusion: tuple[str, ...] = ()
    exclusion: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


def _fold(s: str) -> str | None:
    """``s`` lower-cased when a case-insensitive match of the (ASCII, lower-case) patterns on ``s`` is
    exactly a case-sensitive match on the result: same length, and none of the characters that
    IGNORECASE equates with an ASCII letter without lower-casing to it (İ is caught by the length).
    Otherwise None (the caller then uses the case-insensitive regexes)."""
    if s.isascii():
        return s.lower()
    low = s.lower()
    if len(low) != len(s) or "ı" in s or "ſ" in s:
        return None
    return low


_JUNK_RX = re.compile(r"[\W_]*")
_CRITERI_RX = re.compile(r"criteri", re.I)
_DASH_OR_PAREN_RX = re.compile(r"^\s*[-–(]")
_AND_EXCLUSION_RX = re.compile(r"\s+(?:and|&)\s+exclusion", re.I)


def _clean(s: str) -> str:
    # Each substitution only runs when its trigger character is present (it cannot match otherwise).
    if "\\" in s:
        s = _MD_RX.sub(r"\1", s)
    if "*" in s or "__" in s:
        s = _EMPH_RX.sub("", s)
    s = s.strip()
    if s[:1] in ("#", ">"):  # the pattern is anchored at the start
        s = _MD_LEAD_RX.sub("", s)
    return " ".join(s.split())  # == _WS_RX.sub(" ", s).strip(): str.split and \s agree on whitespace


def _heading(line: str) -> tuple[str, str] | None:
    """(section, remainder-after-colon) if the line is a heading, else None."""
    low = _fold(line)
    if ":" not in line:
        if low is None:
            if not _HEAD_PRE_RX.search(line):
                return None
        elif "clusion" not in low and "criteri" not in low and "eligib" not in low:
            return None
    elif low is not None and line.isascii() and line != line.upper():
        # A heading names inclusion/exclusion/eligibility (cleaning only removes \ * _ between letters),
        # or is in capitals (cleaning never removes a lower-case letter).
        flat = low.replace("*", "").replace("_", "").replace("\\", "")
        if "clusion" not in flat and "eligib" not in flat:
            return None
    s = _clean(line)
    s2 = s.strip("*_:# ").strip()
    if not s2 or len(s2) > 160:
        return None
    m = _HEADING_RX.match(s2)
    if m:
        kind = m.group("kind").lower()
        rest = m.group("rest") or ""
        has_word_criteria = bool(_CRITERI_RX.search(s2[: m.end("kind") + 12]))
        # "Inclusion Criteria: age ≥ 18" → heading + inline item; "Exclusion of …" is no heading.
        if ":" in rest:
            before, _, after = rest.partition(":")
            if len(before) > 100:
                return None
            if not has_word_criteria and before.strip() and not _DASH_OR_PAREN_RX.match(before):
                return None
        else:
            after = ""
            if not has_word_criteria and rest.strip():
                return None
            if len(rest) > 100 or rest.rstrip().endswith("."):
                return None
        sec = {"inclusion": "inclusion", "inclusions": "inclusion", "exclusion": "exclusion",
               "exclusions": "exclusion", "ineligibility": "exclusion"}.get(kind, "other")
        if kind in ("inclusion",) and _AND_EXCLUSION_RX.match(s2[m.end("kind"):]):
            sec = "other"
        return sec, after.strip()
    if _CAPS_HEADING_RX.match(s2) and s.rstrip().endswith(":") and len(s2.split()) <= 8:
        return "other", ""
    return None


def _items(text: str) -> list[tuple[str, str]]:
    """[(section, item_text)] in document order."""
    out: list[tuple[str, str]] = []
    section = "other"
    cur: list[str] = []
    cur_sec = section

    def flush() -> None:
        nonlocal cur
        if cur:
            t = _clean(" ".join(cur))
            if t and not _JUNK_RX.fullmatch(t):
                out.append((cur_sec, t))
        cur = []

    prev_blank = True
    for raw in text.splitlines():
        line = raw.replace("\u00a0", " ").rstrip()
        if not line:  # blank (rstrip removed all of its whitespace)
            flush()
            prev_blank = True
            continue
        m = _BULLET_RX.match(line)
        body = line[m.end():] if m else line
        if ":" not in body and body.isascii():  # the common case of _heading, inlined
            low = body.lower()
            h = _heading(body) if ("clusion" in low or "criteri" in low or "eligib" in low) else None
        else:
            h = _heading(body)
        if h is not None:
            flush()
            section = h[0]
            if h[1]:
                cur, cur_sec = [h[1]], section
            prev_blank = False
            continue
        if m:
            flush()
            cur, cur_sec = [body], section
        elif cur and not prev_blank:
            cur.append(line.strip())
        else:
            flush()
            cur, cur_sec = [line.strip()], section
        prev_blank = False
    flush()
    return out


def split_criteria(text: str) -> Criteria:
    """Split criteria text into inclusion / exclusion / other items (never raises)."""
    try:
        if not isinstance(text, str) or not text.strip():
            return Criteria()
        parts: dict[str, list[str]] = {"inclusion": [], "exclusion": [], "other": []}
        for sec, item in _items(text[:MAX_TEXT]):
            parts[sec].append(item)
        return Criteria(tuple(parts["inclusion"]), tuple(parts["exclusion"]), tuple(parts["other"]))
    except Exception as exc:  # one odd record must not stop a list; logged, counted, raised in strict mode
        failures.record(exc, "split_criteria")
        return Criteria()


# --------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flag:
    value: Any  # one of VALUES, or int | None for min/max_prior_lines
    sentence: str = ""
    condition: str = ""


_RANK = {"required": 3, "excluded": 2, "allowed": 1}


_SENT_PRE_RX = re.compile(r"[.;]\s")  # every split point of _SENT_RX starts so


def _sentences(item: str) -> list[str]:
    if not _SENT_PRE_RX.search(item):
        item = item.strip()
        return [item] if item else []
    return [s.strip() for s in _SENT_RX.split(item) if s and s.strip()]


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
        found = _mentions(seg, _fold(seg))
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


# ---- prior lines ---------------------------------------------------------------------
_NUMWORDS = {"zero": 0, "no": 0, "one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4,
             "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUM = r"(?:\d{1,2}|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_NOUN = (r"(?:lines?|regimens?|therap(?:y|ies)|treatments?|courses?)")
_BAD_GAP = r"(?:cycles?|doses?|weeks?|days?|months?|years?|mg|hours?|times?|of\s+the\s+following|drugs?|agents?|inhibitors?)"
# up to 4 filler words between the number and the noun, none of which is a unit
_GAP = rf"(?:(?!{_BAD_GAP}\b)[\w()/'-]+\s+){{0,4}}?"
_LINE_TAIL = rf"\s+(?!of\b){_GAP}{_NOUN}\b"
_RANGE_RX = re.compile(
    rf"\b(?:between\s+)?(?P<a>{_NUM})\s*(?:to|-|–|—|and|&|or)\s*(?P<b>{_NUM})(?P<tail>{_LINE_TAIL})", re.I)
_MIN_RX = re.compile(
    rf"(?:\bat\s+least|\bminimum\s+of|\ba\s+minimum\s+of|≥|>=|≧|\bgreater\s+than\s+or\s+equal\s+to|\bequal\s+to\s+or\s+more\s+than)"
    rf"\s*\(?(?:≥|>=)?\)?\s*(?P<n>{_NUM}){_LINE_TAIL}"
    rf"|\b(?P<n2>{_NUM})\s+or\s+more{_LINE_TAIL}"
    rf"|\b(?P<n3>{_NUM}){_LINE_TAIL}\s+or\s+more\b", re.I)
_GT_RX = re.compile(
    rf"(?<!no\s)(?<!not\s)(?:\bmore\s+than|\bgreater\s+than|\bover|>(?!=))\s*(?P<n>{_NUM}){_LINE_TAIL}", re.I)
_MAX_RX = re.compile(
    rf"(?:\bno\s+more\s+than|\bnot\s+more\s+than|\bat\s+most|\bup\s+to|\bmaximum\s+of|\ba\s+maximum\s+of|≤|<=|≦|\bless\s+than\s+or\s+equal\s+to)"
    rf"\s*(?P<n>{_NUM}){_LINE_TAIL}"
    rf"|\b(?P<n2>{_NUM})\s+or\s+(?:fewer|less){_LINE_TAIL}"
    rf"|\b(?P<n3>{_NUM}){_LINE_TAIL}\s+or\s+(?:fewer|less)\b", re.I)
_LT_RX = re.compile(
    rf"(?:\bless\s+than|\bfewer\s+than|<(?!=))\s*(?P<n>{_NUM}){_LINE_TAIL}", re.I)
_EXACT_RX = re.compile(
    rf"(?<![\w≥≤<>=.,/-])(?:(?:only|exactly)\s+)?(?P<n>{_NUM})\s+(?:prior|previous|treatment|therapy)\s+(?:{_GAP}){_NOUN}\b", re.I)
_IGNORE_LINES_RX = re.compile(r"\b(?:considered|counted|defined|count)\s+as\b|\bis\s+considered\b|\bare\s+considered\b"
                              r"|\bno\s+upper\s+limit\b|\bstrat(?:um|a)\b", re.I)
_ZERO_INCL_RX = re.compile(
    r"\bpreviously\s+untreated\b(?:\W+\w+){0,6}?\W+(?:myeloma|mm|disease)\b"
    r"|\b(?:treatment|therapy)[\s-]na[iï]ve\b(?:\W+\w+){0,4}?\W+(?:myeloma|mm)\b"
    r"|\bno\s+(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma|anti-?\s?cancer|anticancer|systemic)?\s*"
    r"(?:therapy|treatment)\s+for\s+(?:multiple\s+)?(?:myeloma|mm)\b"
    r"|\bno\s+(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\s+(?:therapy|treatment)", re.I)
_ZERO_EXCL_RX = re.compile(
    r"\b(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\s+(?:therapy|treatment)"
    r"|\b(?:prior|previous)\s+(?:treatment|therapy)\s+with\s+(?:any\s+)?(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\b"
    r"|\b(?:prior|previous)(?:\s+or\s+current)?\s+(?:systemic\s+)?(?:treatment|therapy)(?:\s+or\s+\w+)?\s+for\s+(?:multiple\s+)?(?:myeloma|mm)\b"
    r"|^(?:has\s+|have\s+)?(?:prior|previous)(?:\s+or\s+current)?\s+(?:systemic\s+)?(?:treatment|therapy)\s+(?:having|with\s+(?:a|an|any))\b[^.;]{0,60}\bmyeloma\b"
    r"|^(?:patients?\s+)?previously\s+treated\W*$"
    r"|^(?:participant|patient|subject)s?\s+(?:has|have)\s+(?:had\s+)?(?:prior|previous)(?:\s+or\s+current)?\s+(?:systemic\s+)?(?:treatment|therapy)", re.I)


def _num(s: str) -> int | None:
    s = s.lower().strip()
    if s.isdigit():
        return int(s)
    return _NUMWORDS.get(s)


_LINE_LITERALS = {
    "min": ("least", "minimum", "≥", ">=", "≧", "greater than", "or more", "equal to"),
    "gt": ("more than", "greater than", "over", ">"),
    "max": ("more than", "at most", "up to", "maximum", "≤", "<=", "≦", "or fewer", "or less", "less than"),
    "lt": ("less than", "fewer than", "<"),
}
_LINES_PRE_RX = re.compile(r"lines?\b|regimens?\b|therap(?:y|ies)\b|treatments?\b|courses?\b", re.I)
_NUM_PRE_RX = re.compile(rf"\d|\b{_NUM}\b", re.I)
# On _fold(text), a case-sensitive match is the same as a case-insensitive match on the text;
# without IGNORECASE the regex engine can skip quickly to the first letters of the patterns.


def _lower_twin(rx: re.Pattern) -> re.Pattern:
    """The same pattern without IGNORECASE: on ``_fold(sentence)`` it finds the same spans (with
    lower-cased groups) as ``rx`` on the sentence; the patterns' letters are all lower-case."""
    return re.compile(rx.pattern, rx.flags & ~re.IGNORECASE)


_LINES_PRE_LOW_RX = _lower_twin(_LINES_PRE_RX)
# Every line-count regex has a number followed by whitespace, then at most six words, then a
# line noun as a whole word: without such a stretch none of them can match.
_NUM_NOUN_LOW_RX = re.compile(r"(?:\d|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?:\S+\s+){0,6}?"
                              r"(?:lines?|regimens?|therap(?:y|ies)|treatments?|courses?)\b")
_NUM_PRE_LOW_RX = re.compile(r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b")
_LOW_TWIN = {rx: _lower_twin(rx) for rx in (_RANGE_RX, _MAX_RX, _LT_RX, _MIN_RX, _GT_RX, _EXACT_RX, _IGNORE_LINES_RX,
                                            _ZERO_INCL_RX, _PERMIT_RX)}
# Sentences are cleaned (single spaces only), so every match of a regex contains one of these
# literals (lower-case); on a folded sentence a regex is skipped when none is present.
_IGNORE_LINES_LITERALS = ("consider", "count", "defined", "limit", "strat")
_EXACT_LITERALS = (" prior ", " previous ", " treatment ", " therapy ")
_LINE_LITERALS_FOLDED = {
    "min": ("at least", "minimum of", "≥", ">=", "≧", "greater than or equal to", "equal to or more than", "or more"),
    "gt": _LINE_LITERALS["gt"],
    "max": ("no more than", "not more than", "at most", "up to", "maximum of", "≤", "<=", "≦", "less than or equal to",
            "or fewer", "or less"),
    "lt": _LINE_LITERALS["lt"],
}
_LEAST_RX = re.compile(r"\b(?:at\s+least|minimum|or\s+more)\b", re.I)


def _lines_in(sent: str, low: str | None = None) -> tuple[int | None, int | None]:
    """(min, max) stated by one sentence (each may be None). ``low``: ``_fold(sent)`` when not None;
    the regexes then run case-sensitively on it (same matches)."""
    if low is not None:
        # _LINES_PRE_RX is implied by _NUM_NOUN_LOW_RX; each test is necessary for any match below
        if "line" not in low and "regimen" not in low and "therap" not in low and "treatment" not in low \
                and "course" not in low:
            return None, None
        if not _NUM_PRE_LOW_RX.search(low) or not _NUM_NOUN_LOW_RX.search(low):
            return None, None
        if any(k in low for k in _IGNORE_LINES_LITERALS) and _LOW_TWIN[_IGNORE_LINES_RX].search(low):
            return None, None
        text, twin, literals = low, _LOW_TWIN, _LINE_LITERALS_FOLDED
    else:
        if not _LINES_PRE_RX.search(sent) or not _NUM_PRE_RX.search(sent) or _IGNORE_LINES_RX.search(sent):
            return None, None
        text, twin, literals = sent, None, _LINE_LITERALS
        low = sent.lower()
    lo: int | None = None
    hi: int | None = None
    taken: list[tuple[int, int]] = []

    def free(m: re.Match) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    for m in (twin[_RANGE_RX] if twin else _RANGE_RX).finditer(text):
        a, b = _num(m.group("a")), _num(m.group("b"))
        if a is not None and b is not None and a <= b <= 20:
            lo, hi = a, b
            taken.append(m.span())
            break
    for rx, kind in ((_MAX_RX, "max"), (_LT_RX, "lt"), (_MIN_RX, "min"), (_GT_RX, "gt")):
        if not any(k in low for k in literals[kind]):
            continue
        for m in (twin[rx] if twin else rx).finditer(text):
            if not free(m):
                continue
            n = _num(next(g for g in (m.groupdict().get(k) for k in ("n", "n2", "n3")) if g))
            if n is None:
                continue
            taken.append(m.span())
            if kind == "max" and hi is None:
                hi = n
            elif kind == "lt" and hi is None and n > 0:
                hi = n - 1
            elif kind == "min" and lo is None:
                lo = n
            elif kind == "gt" and lo is None:
                lo = n + 1
            break
    if lo is None and hi is None:
        if twin is not None and not any(k in low for k in _EXACT_LITERALS):
            return lo, hi
        m = (twin[_EXACT_RX] if twin else _EXACT_RX).search(text)
        if m and free(m):
            n = _num(m.group("n"))
            if n is not None and not _LEAST_RX.search(sent[max(0, m.start() - 14):m.start()]):
                lo = hi = n
    return lo, hi


def _states_no_prior_therapy(sent: str, section: str, low: str | None) -> bool:
    """'previously untreated myeloma' (inclusion), 'prior anti-myeloma therapy' (exclusion).
    ``low``: ``_fold(sent)``; when given, a sentence without the words every alternative needs is
    rejected before the regexes run."""
    if section == "inclusion":
        if low is None:
            return bool(_ZERO_INCL_RX.search(sent)) and not _PERMIT_RX.search(sent)
        if "prior" not in low and "previous" not in low and "naive" not in low and "naïve" not in low:
            return False
        return bool(_LOW_TWIN[_ZERO_INCL_RX].search(low)) and not _LOW_TWIN[_PERMIT_RX].search(low)
    if section == "exclusion":
        if low is not None and "prior" not in low and "previous" not in low:
            return False
        return bool(_ZERO_EXCL_RX.search(sent))
    return False


def _empty() -> dict[str, Flag]:
    d: dict[str, Flag] = {f: Flag("not_mentioned", "") for f in FLAGS}
    d["min_prior_lines"] = Flag(None, "")
    d["max_prior_lines"] = Flag(None, "")
    return d


def _flags(text: str) -> dict[str, Flag]:
    result = _empty()
    best: dict[str, tuple[int, Flag]] = {}
    lo: tuple[int, str] | None = None
    hi: tuple[int, str] | None = None
    for section, item in _items(text[:MAX_TEXT]):
        item_votes: dict[str, list[tuple[str, str, str]]] = {}
        low = item.lower()
        maybe = _MENTION_LITERALS_RX.search(low) is not None
        for sent in _sentences(item):
            low_sent = _fold(sent)
            for flag in (_mentions(sent, low_sent) if maybe else ()):
                got = _classify(sent, section, flag)
                if got:
                    item_votes.setdefault(flag, []).append((got[0], sent, got[1]))
            a, b = _lines_in(sent, low_sent)
            if a is not None and (lo is None or a < lo[0]):
                lo = (a, sent)
            if b is not None and (hi is None or b > hi[0]):
                hi = (b, sent)
            if hi is None and _states_no_prior_therapy(sent, section, low_sent):
                hi = (0, sent)
        for flag, votes in item_votes.items():
            values = [v for v, _, _ in votes]
            if "allowed" in values and "excluded" in values:
                pick = next(v for v in votes if v[0] == "allowed")  # the item itself permits it
            else:
                pick = max(votes, key=lambda v: _RANK[v[0]])
            rank = _RANK[pick[0]]
            if flag not in best or rank > best[flag][0]:
                best[flag] = (rank, Flag(pick[0], pick[1], pick[2]))
    for flag, (_, f) in best.items():
        result[flag] = f
    if lo is not None:
        result["min_prior_lines"] = Flag(lo[0], lo[1])
    if hi is not None:
        # a maximum below the minimum comes from a different cohort (e.g. newly diagnosed arm)
        if lo is None or hi[0] >= lo[0]:
            result["max_prior_lines"] = Flag(hi[0], hi[1])
    return result


def eligibility_flags(text: str) -> dict[str, Flag]:
    """Prior-therapy flags and prior-line bounds for one criteria text (never raises)."""
    try:
        if not isinstance(text, str) or not text.strip():
            return _empty()
        return _flags(text)
    except Exception as exc:  # one odd record must not stop a list; logged, counted, raised in strict mode
        failures.record(exc, "eligibility_flags")
        return _empty()


def flags_as_json(flags: dict[str, Flag] | None) -> dict:
    """JSON-ready dict: {flag: {"value": ..., "sentence": ..., ["condition": ...]}}."""
    out: dict[str, dict] = {}
    flags = flags or {}
    for key in FLAGS + LINE_KEYS:
        f = flags.get(key)
        if f is None:
            f = Flag(None if key in LINE_KEYS else "not_mentioned", "")
        d: dict[str, Any] = {"value": f.value, "sentence": f.sentence}
        if f.condition:
            d["condition"] = f.condition
        out[key] = d
    return out


def iter_flags(texts: Iterable[str]) -> Iterable[dict[str, Flag]]:
    """Convenience for batch use."""
    for t in texts:
        yield eligibility_flags(t)
