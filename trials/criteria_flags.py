"""Prior-therapy flags and disease features read from eligibility items.

    Each item is cut into sentences (on ". " and "; "). A sentence counts for a
    therapy only if it names it (data table ``_LEXICON``) AND speaks about past
    exposure (prior / previous / received / refractory / exposed / history of…),
    so "adequate organ function for CAR-T cell treatment" or "4 months after the
    last dose of daratumumab" do not count. Clause scope: a parenthesis with its
    own verdict ("Prior CAR-T (prior bispecific antibodies are permitted)") or a
    "but / however / whereas" clause speaks only for the therapies it names,
    and so does each ", or ..." alternative ("ASCT within 12 weeks, or an
    allogeneic transplant (regardless of timing)"); an alternative that plans
    the therapy ("or planning to undergo a transplant") is no history when
    another one is. A therapy is judged on the sentence minus the clauses
    naming only other therapies. Per sentence (scoped):
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
      * A time window ("prior CAR T within 3 months", "no ASCT within 100
        days") only asks for a wait: allowed, with the window quoted as condition.
    Within one item a permitting sentence beats an excluding one (the item
    itself permits it). Across items: required > excluded > allowed; the first
    item of the winning rank gives the sentence. A BCMA CAR T mention sets
    prior_car_t and prior_bcma; a BCMA bispecific sets prior_bispecific and
    prior_bcma. An either/or demand ("treated with CAR T or a bispecific")
    marks every alternative required.
    A transplant of unnamed kind ("received transplantation") speaks for a kind
    only when no sentence of the text names that kind. A target the myeloma
    carries ("BCMA+ myeloma", "CD38-positive") names no therapy.
    triple_class: "triple-class exposed/refractory" wording, or one sentence
    naming a PI, an IMiD and an anti-CD38 (class or drug).
"""
from __future__ import annotations

import re
from functools import lru_cache

from trials.criteria import SEP, Joined, fold
from trials.vocabulary import DRUG_MATCHER, IGNORE, normalise, prior_topics, trie_regex

# --------------------------------------------------------------------------------------
# What a sentence names. Drugs, codes, brands, regimens and family words come from the one
# vocabulary (taxonomy.json through trials.vocabulary): each drug row implies its topics
# (``vocabulary.prior_topics``). Below only the class words that criteria use and trial arms
# don't ("BCMA-directed therapy", "gene therapy", "triple-class refractory").
# --------------------------------------------------------------------------------------
TOPIC_FLAGS = {  # topic -> the flag it sets
    "car_t": "prior_car_t", "bcma": "prior_bcma", "bispecific": "prior_bispecific", "anti_cd38": "prior_anti_cd38",
    "gprc5d": "prior_gprc5d", "auto_sct": "prior_autologous_transplant", "allo_sct": "prior_allogeneic_transplant",
}
# a target named as what the myeloma cells carry ("BCMA+ myeloma", "CD38-positive", "BCMA expression"), not a therapy
_MARKER = r"\s*\+|[\s-]*(?:positiv|negativ|express)"
_CLASS_WORDS: dict[str, str] = {
    "car_t": r"car[\s-]?t(?:[\s-]?cells?)?|chimeric\s+antigen\s+receptors?|car[\s-]?nk|car\s+(?:therapy|product|cells?)"
             r"|gene(?:tic)?[\s-]*(?:therap\w*|modifi\w*|engineer\w*)(?:[\s-]+based)?|genetically\s+(?:modified|engineered)"
             r"|(?:investigational\s+)?cellular\s+(?:therap\w*|immunotherap\w*|products?)|cell[\s-]based\s+therap\w*"
             r"|adoptive\s+(?:cell(?:ular)?|t[\s-]cell)\s+(?:therap\w*|transfer)",
    "bcma": r"(?:anti-?\s?)?bcma(?:[\s-]?(?:directed|targeted|targeting|specific|based))?(?!" + _MARKER + ")"
            r"|b[\s-]cell\s+maturation\s+antigen(?!" + _MARKER + ")",
    "gprc5d": r"(?:anti-?\s?)?gprc5d(?:[\s-]?(?:directed|targeted|targeting|specific|based))?(?!" + _MARKER + ")"
              r"|g[\s-]protein[\s-]coupled\s+receptor,?\s+(?:class|family)\s+c,?\s+group\s+5,?\s+member\s+d",
    "bispecific": r"bi-?specifics?(?:\s+(?:antibod(?:y|ies)|agents?|t[\s-]cell\s+engagers?))?"
                  r"|t[\s-]?cell[\s-](?:engag(?:er|ers|ing)|redirect(?:ing|ors?|ion)?)(?:\s+(?:antibod(?:y|ies)|therap\w*))?",
    "anti_cd38": r"(?:anti-?\s?)?cd\s?-?38(?:[\s-]?(?:directed|targeted|targeting|monoclonal))?"
                 r"(?:\s+(?:monoclonal\s+)?antibod(?:y|ies)|\s+mabs?)?(?!" + _MARKER + ")",
    "pi": r"proteasome\s+inhibit\w*",
    "imid": r"immunomodulat\w*(?:\s+(?:imide\s+)?(?:drugs?|agents?))?",
    "triple": r"triple[\s-]*(?:class[\s-]*)?(?:exposed|refractory|exposure|resistant)|triple[\s-]class"
              r"|penta[\s-]*(?:drug[\s-]*)?(?:exposed|refractory)|quad(?:ruple)?[\s-]*(?:class[\s-]*)?refractory",
    "auto_sct": r"auto(?:logous)?(?:\s*(?:,|or|and|and/or|/)\s*allo\w*)?[\s-]*(?:(?:hematopoietic|haematopoietic|peripheral\s+blood|bone\s+marrow)\s+)?"
                r"(?:stem[\s-]+cell\s+|hematopoietic\s+cell\s+|haematopoietic\s+cell\s+|cell\s+)?"
                r"(?:transplant\w*|rescue|support|sct|hsct|hct|pbsct)|autograft\w*"
                r"|high[\s-]dose\s+(?:\w+\s+){0,2}(?:with|followed\s+by)\s+(?:autologous\s+)?stem[\s-]cell\s+(?:rescue|support|transplant\w*)"
                # in myeloma, high-dose (melphalan) chemotherapy is the conditioning of an autologous transplant
                r"|high[\s-]dose\s+(?:chemo\w*|(?:myeloablative\s+)?therapy|melphalan)",
    "allo_sct": r"allo(?:gene?ic)?(?:\s*(?:,|or|and|and/or|/)\s*auto\w*)?[\s-]*(?:(?:hematopoietic|haematopoietic|peripheral\s+blood|bone\s+marrow)\s+)?"
                r"(?:stem[\s-]+cell\s+|hematopoietic\s+cell\s+|haematopoietic\s+cell\s+|cell\s+)?"
                r"(?:transplant\w*|sct|hsct|hct)|(?<!organ\s)allograft\w*",
    "sct": r"(?:hematopoietic|haematopoietic|bone\s+marrow|peripheral\s+blood)?\s*(?:stem[\s-]+cell|cell|marrow)\s+transplant\w*"
           r"|stem[\s-]cell\s+(?:rescue|support)"
           r"|(?<!organ\s)(?<!kidney\s)(?<!renal\s)(?<!liver\s)(?<!heart\s)(?<!lung\s)(?<!cornea\s)transplant(?:ation|s)?",
}
# Naming stems (INN): matched at the end of a word of 3+ letters, written as a look-behind so the
# regex engine searches for the stem itself instead of trying every word start.
_CLASS_STEMS: dict[str, str] = {
    "car_t": r"(?<=\w)cabtagene|(?<=\w)leucel|(?<=[a-z]{3})-cel",
    "bispecific": r"(?<=[a-z]{3})(?<!mezagi)tamab|(?<=[a-z]{3})tamig",
    "pi": r"(?<=[a-z]{3})zomib",
    "imid": r"(?<=[a-z]{3})domide",
}
_CLASS_CASE_SENSITIVE: dict[str, str] = {
    "bispecific": r"TCEs?|BsAbs?|BiTEs?|bsAbs?",
    "pi": r"PIs?",
    "imid": r"IMiDs?|IMIDs?|CELMoDs?",
    "triple": r"TCR(?:MM)?",
    "auto_sct": r"ASCT|AHCT|AHSCT|ASCT\d?|auto-?SCT|auto-?HCT|auto-?HSCT|HDT/ASCT|HDT-ASCT|HDT|HDCT",
    "allo_sct": r"allo-?SCT|allo-?HCT|allo-?HSCT|alloSCT|alloHCT",
    "sct": r"SCT|HSCT|HCT|PBSCT|BMT(?!\s*CTN)",  # BMT CTN: a trials network
}
# Literals every match of a topic's class words contains (lower-case; case-sensitive ones as written):
# a sentence with none of them skips that topic's regex. Keep in step with the tables above
# (tests/test_eligibility_prefilter.py checks it on generated text).
_CLASS_NEEDLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "car_t": (("car t", "car-t", "cart", "car-", "car ", "carnk", "chimeric", "gene", "cellular", "cell-based",
               "cell based", "adoptive", "cabtagene", "leucel", "-cel"), ()),
    "bcma": (("bcma", "maturation"), ()),
    "gprc5d": (("gprc5d", "g protein", "g-protein"), ()),
    "bispecific": (("bispecific", "bi-specific", "engag", "redirect", "tamab", "tamig"), ("TCE", "BsAb", "BiTE", "bsAb")),
    "anti_cd38": (("cd38", "cd 38", "cd-38", "cd -38"), ()),
    "pi": (("proteasome", "zomib"), ("PI",)),
    "imid": (("immunomodulat", "domide"), ("IMiD", "IMID", "CELMoD")),
    "triple": (("triple", "penta", "quad"), ("TCR",)),
    "auto_sct": (("auto", "high-dose", "high dose"), ("ASCT", "AHCT", "AHSCT", "HDT", "HDCT")),
    "allo_sct": (("allo",), ()),
    "sct": (("transplant", "stem cell", "stem-cell"), ("SCT", "HCT", "BMT", "PBSCT")),
}


_NEEDLE_TOPICS: dict[str, set[str]] = {}
for _topic, (_ci, _cs) in _CLASS_NEEDLES.items():
    for _n in _ci + _cs:
        _NEEDLE_TOPICS.setdefault(_n, set()).add(_topic)
# literal alternations shaped as tries: the regex engine branches once per next character
_CI_NEEDLES = tuple(sorted({n for ci, _ in _CLASS_NEEDLES.values() for n in ci}))
_CS_NEEDLES = tuple(sorted({n for _, cs in _CLASS_NEEDLES.values() for n in cs}))
_CI_NEEDLES_RX = re.compile(trie_regex(_CI_NEEDLES))
_CS_NEEDLES_RX = re.compile(trie_regex(_CS_NEEDLES))


def _candidate_topics(sent: str, low: str) -> set[str]:
    """Topics whose literal needles occur in the sentence: the only ones whose class regexes can match.
    (One pass of two literal alternations instead of a loop over every topic's needles.)"""
    found: set[str] = set()
    for n in _CI_NEEDLES_RX.findall(low):
        found |= _NEEDLE_TOPICS[n]
    for n in _CS_NEEDLES_RX.findall(sent):
        found |= _NEEDLE_TOPICS[n]
    return found


_CLASS_RX = {t: re.compile(r"(?i:\b(?:" + _CLASS_WORDS[t] + r")\b" + (f"|(?:{_CLASS_STEMS[t]})\\b" if t in _CLASS_STEMS else "")
                           + ")" if t in _CLASS_WORDS else r"(?!x)x")
             for t in set(_CLASS_WORDS) | set(_CLASS_CASE_SENSITIVE)}
_CLASS_CS_RX = {t: re.compile(r"\b(?:" + p + r")\b") for t, p in _CLASS_CASE_SENSITIVE.items()}
_EXAMPLE_WORDS = ("such", "e.", "eg", "example", "instance", "includ", "like", "i.", "same", "similar")  # one is in every _EXAMPLE_RX match
_EXAMPLE_RX = re.compile(r"\b(?:such\s+as|e\.\s?g\.?|eg\.?|for\s+example|for\s+instance|including|includes|like|i\.\s?e\.?"
                         r"|(?:the\s+)?same\s+(?:way|class|mechanism)\s+as|similar\s+to)"
                         r"[\s,:]*(?:[^.;:]{0,80})$", re.I)


def _vocabulary_reading(spans: list[tuple[int, int, tuple]], offset: int = 0
                        ) -> tuple[frozenset[str], tuple[tuple[int, str], ...]]:
    """Topics the drug-matcher ``spans`` of a text name, and (start - offset, canonical name) of each specific drug."""
    topics: set[str] = set()
    drugs: list[tuple[int, str]] = []
    for start, _end, (kind, value) in spans:
        for drug in (value if kind == "regimen" else (value,)):
            topics |= prior_topics(drug)
            if drug.name and not drug.generic and drug.family != IGNORE:
                drugs.append((start - offset, drug.name))
    return frozenset(topics), tuple(drugs)


# _drug_topics of the sentences (and items) of one criteria text: its readers ask the same ones, and
# the reader's one pass over all items fills it for them (an item is often its only sentence)
_DRUG_TOPICS: dict[str, tuple[frozenset[str], tuple[tuple[int, str], ...]]] = {}
_MEMO_SIZE = 4096


def _drug_topics(sent: str) -> tuple[frozenset[str], tuple[tuple[int, str], ...]]:
    """Topics named through the vocabulary, and (offset, canonical name) of each specific drug."""
    got = _DRUG_TOPICS.get(sent)
    if got is None:
        if len(_DRUG_TOPICS) >= _MEMO_SIZE:  # callers outside the reader never forget
            _DRUG_TOPICS.clear()
        text = normalise(sent)
        got = _DRUG_TOPICS[sent] = _vocabulary_reading(DRUG_MATCHER.spans(text, text.lower()))
    return got


def forget_sentences() -> None:
    """Empty the per-sentence memos (kept for one criteria text at a time)."""
    _DRUG_TOPICS.clear()
    topics_in.cache_clear()


def _named_topics(sent: str) -> frozenset[str]:
    """Topics as named, "sct" standing for a transplant of unnamed kind."""
    named, _ = _drug_topics(sent)
    found = set(named)
    for topic in _candidate_topics(sent, sent.lower()) - found:
        if _CLASS_RX[topic].search(sent) or (topic in _CLASS_CS_RX and _CLASS_CS_RX[topic].search(sent)):
            found.add(topic)
    return frozenset(found)


def unnamed_transplant_kind(sent: str) -> bool:
    """'Received transplantation within 1 year': a transplant is named, but not which kind (asked only of
    sentences with a transplant vote, so not memoised)."""
    found = _named_topics(sent)
    return "sct" in found and "auto_sct" not in found and "allo_sct" not in found


# an unnamed transplant as part of a first line (induction, consolidation, maintenance, counted as a
# regimen) is autologous: donor transplants are not part of a myeloma line
_FIRST_LINE_RX = re.compile(r"\b(?:induction|consolidation|maintenance|re-?induction|regimens?|lines?)\b", re.I)


def unnamed_transplant_flags(sent: str) -> tuple[str, ...]:
    """The flags a transplant of unnamed kind in this sentence speaks for: both kinds, or only the
    patient's own cells within a first line."""
    return ("prior_autologous_transplant",) if _FIRST_LINE_RX.search(sent) else TRANSPLANT_FLAGS


@lru_cache(maxsize=4096)  # items that are one sentence are asked twice: as an item, then as a sentence
def topics_in(sent: str) -> frozenset[str]:
    """Every therapy topic a sentence names (car_t, bcma, gprc5d, bispecific, anti_cd38, pi, imid,
    auto_sct, allo_sct, triple)."""
    found = _named_topics(sent)
    if "sct" in found:  # "prior stem cell transplant" without saying which: both kinds
        found = found - {"sct"}
        if "auto_sct" not in found and "allo_sct" not in found:
            found |= {"auto_sct", "allo_sct"}
    return frozenset(found)


def names_any_therapy(item: str) -> bool:
    """Whether any sentence of an item could name a therapy (a class word or a drug)."""
    return bool(topics_in(item) or _drug_topics(item)[1])


def items_naming_a_therapy(items: list[str]) -> list[bool]:
    """``names_any_therapy`` of every item of a text: one pass of the vocabulary over all of them, then the
    class words in the items it names nothing in (most hold none of their needles: no class regex runs)."""
    if any(SEP in item for item in items):
        return [names_any_therapy(item) for item in items]
    norm = Joined([normalise(item) for item in items])  # most items are ASCII, which normalise keeps as is
    spans_in: list[list[tuple[int, int, tuple]]] = [[] for _ in items]
    for span in DRUG_MATCHER.spans(norm.text, norm.text.lower()):
        spans_in[norm.part_at(span[0])].append(span)
    named = []
    for item, spans, start in zip(items, spans_in, norm.starts):
        topics, drugs = _DRUG_TOPICS[item] = _vocabulary_reading(spans, start)
        named.append(bool(topics or drugs))
    for i, item in enumerate(items):
        if not named[i]:  # most hold none of the class words' needles: no candidate topic, no regex run
            named[i] = any(_CLASS_RX[t].search(item) or (t in _CLASS_CS_RX and _CLASS_CS_RX[t].search(item))
                           for t in _candidate_topics(item, item.lower()))
    return named


def items_read_for_therapies(listed: list[tuple[str, str]]) -> list[bool]:
    """For each (section, item) of a text, whether a therapy reading can come from it: it names a therapy and
    (outside exclusions, where a bare name or a window suffices) has history wording."""
    wanted = [i for i, (section, item) in enumerate(listed)
              if section == "exclusion" or _HISTORY_WORDS_RX.search(item.lower())]
    read = [False] * len(listed)
    for i, named in zip(wanted, items_naming_a_therapy([listed[i][1] for i in wanted])):
        read[i] = named
    return read


# Not a history of the drug: its side effects, the start of this study's own treatment, an exception.
_NOT_HISTORY_RX = re.compile(r"\b(?:intoleran\w*|toxicit\w*|rash|discontinu\w*|adverse|pregnan\w*|neuropathy|contracepti\w*|consent\w*"
                             r"|being\s+treated|must\s+agree|sensitivity|thromboembol\w*|as\s+(?:a\s+)?combination)\b", re.I)
_RESISTANT_RX = re.compile(r"\b(?:refractor\w*|resistan\w*|progress\w*|(?:stopped|no\s+longer)\s+respond\w*)\b", re.I)
_STUDY_START_RX = re.compile(r"(?:\d+\s*(?:mg|g)\b[^.;]{0,25}|(?:prior\s+to|before)\s+(?:the\s+)?(?:first|start|initiation|beginning)|start\s+of\s+(?:study\s+)?"
                             r"treatment|other\s+than|except(?:\s+for)?|apart\s+from|besides)\b[^.;]{0,40}$", re.I)


def specific_drugs(sent: str) -> list[str]:
    """Canonical names of the drugs a sentence names specifically as a history (not as examples of a
    class: "an anti-CD38 antibody such as daratumumab", "(e.g. bortezomib)"; not "intolerance to",
    "prior to the first dose of", "other than")."""
    whole = _Folded(sent)
    if whole.search(_NOT_HISTORY_RX) and not whole.search(_RESISTANT_RX):
        return []
    _, drugs = _drug_topics(sent)
    out = []
    for start, name in drugs:
        before = sent[max(0, start - 90):start]
        b = _Folded(before)
        low_before = b.low if b.low is not None else before.lower()
        example = b.search(_EXAMPLE_RX) if any(w in low_before for w in _EXAMPLE_WORDS) else None
        if example and ")" in before[example.start():] and "(" not in before[example.start():].split(")")[-1]:
            example = None  # "a CD38 drug (such as daratumumab) and lenalidomide": the example ended
        elif example and _regimen_contents(before, example):
            example = None  # "at least 1 prior regimen including lenalidomide": what the regimen held
        if example or _open_paren(before) or b.search(_STUDY_START_RX):
            continue
        if name not in out:
            out.append(name)
    return out


# "including" after a line or regimen word lists what the treatment held, not examples of a class
_LINE_WORD_END_RX = re.compile(r"\b(?:regimens?|lines?(?:\s+of\s+(?:therapy|treatment))?|therap(?:y|ies)|treatments?"
                               r"|chemotherapy)\s*,?\s*$", re.I)


def _regimen_contents(before: str, example: re.Match) -> bool:
    marker = before[example.start():example.start() + 9].lower()
    if not marker.startswith("includ"):
        return False
    rest = before[example.start() + len(marker.split()[0]):]
    return _LINE_WORD_END_RX.search(before, 0, example.start()) is not None and not _EXAMPLE_RX.search(rest)


def _open_paren(before: str) -> bool:
    """The drug sits inside a parenthesis opened after a class word: "anti-CD38 (daratumumab)"."""
    i = before.rfind("(")
    return i >= 0 and ")" not in before[i:] and names_any_therapy(before[max(0, i - 40):i])


# "prior exposure" context: without one of these a mention is not about history.
_PRIOR_RX = re.compile(
    r"\b(?:prior|previous(?:ly)?|received|receipt|had\s+(?:a|an|any)?|treated|pre-?treated|exposed|exposure"
    r"|refractory|intoleran\w*|relapsed|relaps\w*\s+(?:on|after|following)|progress\w*\s+(?:on|after|following|during)"
    r"|(?:relaps|progress)\w*\s+(?:while|whilst)\s+(?:on|receiving|taking)|non[\s-]?respon\w*\s+(?:on|to)"
    r"|history\s+of|naive|naïve|unexposed|failed|failure|resistant|since|(?:have|has|had)\s+used|undergone|underwent|recipients?"
    r"|(?:have|has)\s+completed"
    r"|past\s+(?:treatments?|therap\w+|exposure)|(?:have|has|had)\s+(?:contained|included)"
    r"|(?:stopped|no\s+longer|not)\s+respond\w*\s+to|(?:un|non-?)responsive\s+to"
    r"|after\s+(?:\w+\s+){0,2}(?:treatments?|therap\w+|regimens?|lines?)"
    r"|(?:after|following|post)[\s-]+(?:(?:an?|the|prior|previous|first|second|double|single|tandem|upfront)\s+)*"
    r"(?:auto\w*|allo\w*|stem|transplant\w*|sct|asct|hsct|hct|car|chimeric))\b", re.I)
# Literals every match of _PRIOR_RX contains (lower-case). Keep in step with it
# (tests/test_eligibility_prefilter.py checks it on generated text).
_HISTORY_WORDS = (
    "prior", "previous", "receiv", "receipt", "had", "treated", "exposed", "exposure", "refractory", "intoleran",
    "relaps", "progress", "history", "naive", "naïve", "unexposed", "fail", "resistant", "since", "after", " used", "underw", "undergone", "following ", "following-",
    "post ", "post-", "recipient", "completed", "allowed", "permitted", "acceptable", "past ", "contained", "included", "respon")
_HISTORY_WORDS_RX = re.compile(trie_regex(_HISTORY_WORDS))  # one pass finds any of them


# "relapsed or refractory disease" describes the disease, not exposure to a named drug ("lenalidomide-refractory
# disease", "triple-class refractory myeloma" do)
_DISEASE_STATE_RX = re.compile(
    r"\b(?:relapsed|recurrent|refractory)(?:\s*(?:and|or|and/or|/|,)\s*(?:relapsed|recurrent|refractory))*"
    r"\s+(?:multiple\s+)?(?:myeloma|mm|disease|rrmm)\b", re.I)
# "For Daratumumab + lenalidomide (D-Rd) regimen: …" names a study cohort, not a history
_COHORT_PREFIX_RX = re.compile(r"^[^:]{0,60}\b(?:regimens?|cohorts?|arms?|parts?|groups?)\s*:\s*", re.I)
_COHORT_RX = re.compile(r"^(?:for|in)\b[^:]{0,200}\b(?:regimens?|cohorts?|arms?|parts?|groups?)\s*:", re.I)
def _disease_state(m: re.Match) -> str:
    """The disease state blanked, unless a drug or class names it ("lenalidomide-refractory", "triple-class
    refractory"); checked here rather than as look-behinds, which would slow the regex's search."""
    before = m.string[max(0, m.start() - 6):m.start()]
    return m.group(0) if before.endswith("-") or before.lower().endswith("class ") else " "


_FUTURE_RX = re.compile(
    r"\b(?:planned|plan\s+to|candidate\s+(?:to|for)|will\s+(?:receive|be\s+treated)|to\s+be\s+treated|"
    # "progressed while receiving X" is a history of X, not this study's treatment
    r"last\s+dose\s+of|(?<!progressed\s)(?<!progressing\s)(?<!relapsed\s)while\s+(?:they\s+are\s+)?receiving"
    r"|hypersensitiv\w*|allerg\w*|contraindicat\w*"
    # contraception and pregnancy rules name the study's drug ("until 3 months after the last dose of daratumumab")
    r"|contracepti\w*|birth\s+control|pregnan\w*"
    # making this study's product: "apheresis to manufacture anti-BCMA CAR T cells" is not a history
    r"|(?:leuk)?aphere\w*|manufactur\w*|collection\s+of\s+(?:\w+\s+){0,2}cells"
    # candidacy is about the future: "not a candidate for / ineligible for transplant"
    r"|candidates?|(?:in)?eligible\s+for|unsuitable\s+for|unfit\s+for|declined"
    r"|proceed\w*\s+to|(?:able\s+)?to\s+undergo|will\s+undergo|scheduled"
    # a complication of a past treatment ("active GVHD after allogeneic transplant") bars the complication
    r"|graft[\s-]+(?:versus|vs\.?)[\s-]+host|gvhd)\b", re.I)

# More of the same, apart (their first letters would widen the search of _FUTURE_RX) and run only on sentences with
# their words: the study's own arm ("for subjects receiving KRd"), a candidacy ("transplant-eligible patients").
_ARM_OR_CANDIDACY_RX = re.compile(r"\bfor\s+(?:subjects|patients|participants|those)\s+(?:receiving|randomi[sz]ed|assigned)\b"
                                  r"|\b(?:transplant|asct|sct)[\s-]+(?:in)?eligible\b", re.I)


_HISTORY = r"(?:failed|relaps\w*|progress\w*|received|undergone|had)"
_CANDIDACY = r"(?:(?:in|not\s+)?eligible|unsuitable|unfit|(?:not\s+)?(?:an?\s+)?candidates?)"
_HISTORY_OR_CANDIDACY_RX = re.compile(
    rf"\b{_HISTORY}\s+(?:[\w-]+\s+){{0,3}}?or\s+(?:[\w-]+\s+){{0,2}}?{_CANDIDACY}\b"
    rf"|\b{_CANDIDACY}\s+(?:for\s+)?(?:[\w-]+\s+){{0,2}}?or\s+(?:[\w-]+\s+){{0,2}}?{_HISTORY}\b", re.I)


class _Folded:
    """A text for the wording regexes below, which run two to three times faster without IGNORECASE: on
    ``fold(text)`` their lower-case twins find the same spans (see ``criteria.fold``; the patterns' letters
    are all lower-case). Quotes are cut from the text by those spans, so they keep its case."""
    __slots__ = ("text", "low")

    def __init__(self, text: str):
        self.text = text
        self.low = fold(text)

    def search(self, rx: re.Pattern, end: int | None = None) -> re.Match | None:
        if self.low is None:
            return rx.search(self.text, 0, len(self.text) if end is None else end)
        return _TWIN_OF[id(rx)].search(self.low, 0, len(self.low) if end is None else end)

    def quote(self, m: re.Match, group: int | str = 0) -> str:
        return self.text[m.start(group):m.end(group)]


def _dated_by_the_study(t: _Folded) -> bool:
    """'HSCT within 90 days of leukapheresis': the study's own step only dates a past treatment (a wait)."""
    w, m = t.search(_WINDOW_RX), t.search(_FUTURE_RX)
    if not (w and m and w.start() <= m.start() < w.end()):
        return False
    text = t.text
    return not _future(text[:w.start()] + " " + text[w.end():]) and t.search(_ARM_OR_CANDIDACY_RX) is None


def _future(text: str | _Folded) -> bool:
    """A plan, the study's own treatment, a candidacy or a complication: no history."""
    t = text if isinstance(text, _Folded) else _Folded(text)
    if t.search(_FUTURE_RX):
        return True
    low = t.low if t.low is not None else t.text.lower()
    return ("eligible" in low or "for " in low) and t.search(_ARM_OR_CANDIDACY_RX) is not None


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
# "regardless of timing" bans it at any time: not an option
_NOT_TIME = r"(?!\s+(?:the\s+)?(?:timing|time|when|how\s+long|duration|interval)\b)"
# Optional exposure ("not required", "optional", "may or may not", "with or without") → allowed.
# "regardless of response to these" qualifies the response, not the exposure, which stays demanded
_NOT_OF_RESPONSE = r"(?!\s+(?:(?:the|their|any|prior|previous)\s+)?(?:best\s+)?(?:response|refractor|sensitiv|resistan))"
_OPTIONAL_RX = re.compile(
    r"\bnot\s+(?:[\w-]+\s+){0,2}?(?:required|mandatory|necessary|needed|obligatory|compulsory|requirement|prerequisite)\b"
    r"|\bno\s+(?:requirement|need)\b|\bneed\s+not\b|\bneedn't\b|\bnot\s+need\b|\b(?:do|does)n't\s+need\b"
    r"|\boptional(?:ly)?\b|\bmay\s+or\s+may\s+not\b|\bwith\s+or\s+without\b|\bwhether\s+or\s+not\b"
    r"|\bor\s+not\b|\b(?:regardless|irrespective|independent(?:ly)?)\s+of\b" + _NOT_OF_RESPONSE + _NOT_TIME, re.I)
_PERMIT_RX = re.compile(
    r"\b(?:allowed|permitted|eligible|acceptable|accepted|(?:can|will)\s+(?:be\s+)?(?:included|enrolled|participate)|"
    r"may\s+(?:be\s+)?(?:included|enrolled|participate)|(?:may|can)\s+have\s+(?:received|had|been|included|contained)|"
    r"is\s+not\s+required|are\s+not\s+required|not\s+(?:a\s+)?requirement|(?:regardless|irrespective)\s+of" + _NOT_OF_RESPONSE
    + _NOT_TIME + "|"
    r"with\s+or\s+without|(?:are|is)\s+(?:also\s+)?(?:welcome|included)"
    # a definition of what counts as a line names a therapy without demanding it
    r"|(?:may|can)\s+(?:also\s+)?(?:include|consist\s+of|comprise)|considered\s+(?:to\s+be\s+)?(?:as\s+)?(?:a|one|1|part\s+of)|counts?\s+as|counted\s+as)\b", re.I)
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
    r"\s+(?:since|before|prior|ago|from|after|post|have\s+elapsed|elapsed)[^.;]*)"
    r"|(?P<c5>^if\s+(?:previously\s+|prior\w*\s+)?(?:treated|received|exposed)\b[^.;]*)"
    # a wait since a drug: "4 weeks out of bortezomib", "2 weeks off lenalidomide", "melphalan - 6 weeks prior to first dose"
    r"|(?P<c7>(?<!within\s)(?<!than\s)(?<!last\s)(?<!past\s)\b\d+\s*(?:weeks?|months?|days?)\s+(?:out\s+(?:of|from)|off|(?:prior\s+to|before)\s+(?:the\s+)?first\s+dose)\b[^.;]*)"
    # a cap on how many: "no more than 1 prior autologous transplant" lets one in
    r"|(?P<c6>\b(?:(?:no|not)\s+more\s+than|at\s+most|up\s+to|a\s+maximum\s+of)\s+(?:one|two|three|1|2|3)\s+(?:prior|previous)\b"
    r"(?!\s+(?:[\w-]+\s+)?(?:lines?|regimens?|therap\w*|treatments?|courses?|cycles?)\b)[^.;]*)", re.I)
_WINDOW_RX = re.compile(
    r"(?:\b(?:within|(?:less|fewer)\s+than|in\s+the\s+(?:last|past|previous|preceding))\s+|(?:<=?|≤)\s*)"
    r"(?:the\s+)?(?:(?:last|past|previous|prior)\s+)?"
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s*"
    r"(?:weeks?|months?|days?|years?)[^.;,]*|\brecent\b[^.;,]*"
    r"|\b\d+\s*(?:weeks?|months?|days?)\s+(?:prior\s+to|before|out\s+(?:of|from)|off|since)\b[^.;,]*", re.I)


# "Autologous and allogeneic transplants are permitted": a permission speaks of history without a "prior"
_PERMITTED_RX = re.compile(r"\b(?:allowed|permitted|acceptable)\b", re.I)

_RANK = {"required": 3, "excluded": 2, "allowed": 1}


def _mentions(sent: str, low: str | None = None) -> set[str]:
    """Flags a sentence speaks about (before any reading of its wording)."""
    topics = topics_in(sent)
    found = {TOPIC_FLAGS[t] for t in topics if t in TOPIC_FLAGS}
    if "triple" in topics or {"anti_cd38", "pi", "imid"} <= topics:
        found.add("triple_class")
    return found


def _condition(sent: str | _Folded) -> str:
    t = sent if isinstance(sent, _Folded) else _Folded(sent)
    m = t.search(_COND_RX)
    if not m:
        return ""
    group = next(i for i, g in enumerate(m.groups(), 1) if g)
    return t.quote(m, group).strip(" ,:-")


# "not refractory to daratumumab": exposure is fine, refractoriness is the condition
_NOT_REFRACTORY_RX = re.compile(r"\bnot\s+(?:be\s+|been\s+|being\s+)?(?:refractory|resistant)\b[^.;]*", re.I)
# Clause scope: a marked parenthesis ("(prior bispecific antibodies are permitted)") or a "but"/"however"
# clause speaks for the therapies it names, not for the ones named elsewhere in the sentence.
_SCOPE_PRE_RX = re.compile(r"\(|\b(?:but|however|whereas|although|though)\b|,\s*(?:and/)?or\b"
                           r"|\bor\s+(?:who|those|patients|subjects|participants)\b", re.I)
_PAREN_RX = re.compile(r"\(([^()]*)\)")
_OPEN_PAREN_RX = re.compile(r"\([^()]*$")
_CLAUSE_SPLIT_RX = re.compile(r"\s*,?\s*\b(?:but|however|whereas|although|though)\b\s*,?\s*", re.I)
# ", or ..." starts an alternative of its own ("Received ASCT within 12 weeks, or previously received an
# allogeneic transplant, or planning to undergo a transplant"); its "or" stays (one path among others)
_ALTERNATIVE_SPLIT_RX = re.compile(r"\s*,\s*(?=(?:and/)?or\b)|\s+(?=or\s+(?:who|those|patients|subjects|participants)\b)", re.I)
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
    segments = [a for c in _CLAUSE_SPLIT_RX.split(main) for a in _ALTERNATIVE_SPLIT_RX.split(c) if a.strip()] + marked
    if len(segments) < 2:
        return sent
    keep: list[str] = []
    history = False  # an alternative naming the therapy as a past exposure, not a plan
    for seg in segments:
        found = _mentions(seg, fold(seg))
        if flag in found:
            if _future(seg):
                continue  # "or planning to undergo a stem cell transplant": a plan, if another part is a history
            history = True
        elif found:
            continue  # speaks for another therapy
        keep.append(seg)
    return " ".join(" ".join(keep).split()) if history else sent


def _window(sent: str | _Folded) -> str:
    t = sent if isinstance(sent, _Folded) else _Folded(sent)
    w = t.search(_WINDOW_RX)
    return t.quote(w).strip(" ,") if w else ""


_OTHER_TREATMENT_RX = re.compile(r"\b(?:cortico)?steroids?\b|\bdexamethasone\b|\bprednis\w+|\bradio\w*|\bradiation\b"
                                 r"|\bbisphosphonates?\b|\bsurgery\b", re.I)


def _speaks_of_other_treatment(cond: str, flag: str) -> bool:
    """'... with the exception of a short course of corticosteroids': the exception is about another
    treatment, not the one the flag reads."""
    return flag not in _mentions(cond) and bool(_OTHER_TREATMENT_RX.search(cond) or _mentions(cond))


TRANSPLANT_FLAGS = ("prior_autologous_transplant", "prior_allogeneic_transplant")
_OR_RX = re.compile(r"\bor\b", re.I)


_WHETHER_RX = re.compile(r"\bwhether\b", re.I)
def _excluded(text: str | _Folded) -> tuple[str, str]:
    """A ban; with a time window ("no CAR T within 12 weeks") only a wait: allowed, window quoted."""
    w = _window(text)
    return ("allowed", w) if w else ("excluded", "")


def _classify(sent: str, section: str, flag: str | None = None) -> tuple[str, str] | None:
    """(value, condition) for a sentence already known to mention ``flag``, or None."""
    ctx = _Folded(_DISEASE_STATE_RX.sub(_disease_state, sent))
    whole = _Folded(sent)
    # an exclusion item that is only a therapy's name ("Allogeneic stem cell transplant") bars having had it
    has_ctx = (ctx.search(_PRIOR_RX) or ctx.search(_PERMITTED_RX)
               or (section == "exclusion" and (whole.search(_WINDOW_RX) or len(sent.split()) <= 6)))
    if not has_ctx or whole.search(_COHORT_RX):
        return None
    text = _scoped(sent, flag) if flag else sent
    t = _Folded(text)
    if _future(t) and not _dated_by_the_study(t):
        # "have failed or be ineligible for ASCT": the history is one path, the candidacy the other
        return ("allowed", "") if t.search(_HISTORY_OR_CANDIDACY_RX) else None
    if t.search(_DOUBLE_NEG_RX):
        return "allowed", ""
    cond = _condition(t)
    if cond and flag and _speaks_of_other_treatment(cond, flag):
        text = text.replace(cond, " ")  # "... with the exception of steroids 30 days before": not this therapy's
        t = _Folded(text)
        cond = ""
    if cond:
        return "allowed", cond
    optional = t.search(_OPTIONAL_RX)
    if optional and optional.group(0).lower() == "or not" and section == "exclusion" and t.search(
            _WHETHER_RX, optional.start()):
        optional = None  # "participated in a study with X, whether treated with X or not": the ban is wider
    if optional:  # "not required", "may or may not have received", "with or without"
        return "allowed", ""
    if text is not sent and text[:4].lower() == "not ":  # "Prior BCMA therapy, but not CAR T"
        return ("allowed", "") if section == "exclusion" else ("excluded", "")
    nr = t.search(_NOT_REFRACTORY_RX)
    if nr:
        return ("required", "") if section == "exclusion" else ("allowed", t.quote(nr).strip(" ,)"))
    absent = t.search(_ABSENCE_RX)
    modal = t.search(_MODAL_NEG_RX)
    ban = t.search(_PROHIBIT_RX)
    if absent:
        # "patients who never received X are ineligible / may not enrol": excluding the unexposed
        for neg in (modal, ban):
            if neg and neg.start() >= absent.end():
                return "required", ""
        if modal:  # "must not have received X"
            return _excluded(t)
        if ban:
            return _excluded(t)
        if t.search(_PERMIT_RX):
            # "No prior CAR T allowed" bans it; "patients without prior X are eligible" only permits
            if absent.start() == 0 and absent.group(0)[:2].lower() == "no":
                return _excluded(t)
            return "allowed", ""
        if section == "exclusion":
            w = _window(t)
            # "No daratumumab within 3 months" is a wash-out ban; otherwise excluding the unexposed
            return ("allowed", w) if w else ("required", "")
        return _excluded(t)
    if modal or ban:
        return _excluded(t)
    if t.search(_PERMIT_RX):
        return "allowed", ""
    if section == "exclusion":
        return _excluded(t)
    if flag in TRANSPLANT_FLAGS and _OR_RX.search(_PAREN_RX.sub(" ", text)):
        # "relapsed after ASCT or conventional chemotherapy": one path among others, not a demand
        return "allowed", ""
    if section == "inclusion":
        return "required", ""
    if t.search(_DEMAND_RX):
        return "required", ""
    return None



# --------------------------------------------------------------------------------------
# Disease features: present conditions, not past exposures, so no "prior" context is needed.
# --------------------------------------------------------------------------------------
DISEASE_KEYS = ("cns_involvement", "plasma_cell_leukemia", "amyloidosis", "measurable_disease")
_DISEASE_RX = {
    "cns_involvement": re.compile(
        r"\b(?:(?:cns\)?|central\s+nervous\s+system(?:\s*\(cns\))?)[\s-]+(?:involvement|disease|myeloma\w*|lesions?|locali[sz]ation"
        r"|plasmacytomas?|manifestations?|relapse|infiltration|spread|metasta\w*|malignan\w*|lymphoma|tumou?rs?|leuka?emia)"
        r"|(?:involvement|myeloma|mm|disease|infiltration|plasmacytomas?|localization|manifestations?)\s+(?:of|in|to|within|involving)\s+(?:the\s+)?"
        r"(?:cns|central\s+nervous\s+system|brain|meninges)"
        r"|(?:myeloma|disease)\s+affecting\s+the\s+(?:brain|spinal|cns|central)"
        r"|brain\s+(?:metasta\w*|lesions?|tumou?rs?|involvement)|carcinomatous\s+mening\w*|malignant\s+cells\s+in\s+(?:the\s+)?"
        r"(?:their\s+)?cerebrospinal"
        r"|leptomening\w*|meningeal\s+(?:myeloma\w*|involvement|disease)|intracranial\s+(?:plasmacytomas?|myeloma|involvement))\b",
        re.I),
    "plasma_cell_leukemia": re.compile(r"\bplasma[\s-]*cell\s+leuka?emia\b|\bPCL\b|(?i:\bplasma\s+cell\s+leuk)"),
    "amyloidosis": re.compile(r"\bamyloidosis\b|\bAL[\s-]+amyloid\w*|\bamyloid\s+light[\s-]chain", re.I),
    "measurable_disease": re.compile(
        r"\bmeasure?able\b|\bquantifiable\b|\bcan\s+be\s+measured\b"
        r"|\belevated\s+(?:serum\s+|urine\s+)?(?:m[\s-]?protein|monoclonal\s+(?:protein|paraprotein|component)|paraprotein)\b|\bevaluable\s+(?:disease|by|lesions?)\b|\bthat\s+is\s+evaluable\b"
        r"|\b(?:serum|urine|urinary)\s+(?:m[\s-]?protein|monoclonal\s+(?:protein|paraprotein)|paraprotein)\b[^.;]{0,40}(?:≥|>=|>|≧|at\s+least)"
        r"|\bm[\s-]?protein\s*(?:level\s*|concentration\s*)?(?:≥|>=|>|≧|of\s+at\s+least)"
        r"|\bfree\s+light\s+chains?\b[^.;]{0,40}(?:≥|>=|>|≧|at\s+least)\s*\d", re.I),
}
_DISEASE_NEEDLES = {  # literals every match contains (lower-case)
    "cns_involvement": ("cns", "central nervous", "lepto", "mening", "intracranial", "brain", "cerebrospinal"),
    "plasma_cell_leukemia": ("plasma", "pcl"),
    "amyloidosis": ("amyloid",),
    "measurable_disease": ("measur", "quantifiab", "evaluable", "protein", "light chain", "elevated"),
}
_DISEASE_OF_NEEDLE: dict[str, set[str]] = {}
for _key, _needles in _DISEASE_NEEDLES.items():
    for _n in _needles:
        _DISEASE_OF_NEEDLE.setdefault(_n, set()).add(_key)
_DISEASE_NEEDLES_RX = re.compile(trie_regex(_DISEASE_OF_NEEDLE))
DISEASE_WORDS = tuple(_DISEASE_OF_NEEDLE)  # a lower-cased sentence without one of these names no feature
# a negation in the same clause before the mention: "no CNS involvement", "without amyloidosis"
_NEG_BEFORE_RX = re.compile(
    r"\b(?:no|not|without|absence\s+of|free\s+of|lack\s+of|neither|nor|none|non)\b(?:(?![.;:]).){0,60}$", re.I)
_NOT_REQUIRED_RX = re.compile(r"\bnot\s+(?:\w+\s+){0,2}?(?:required|mandatory|necessary|needed)\b|\boptional\b"
                              r"|\bmeasurable\s+or\s+non-?\s?measurable|\bnon-?\s?measurable\s+or\s+measurable", re.I)
_ALTERNATIVE_RX = re.compile(r"\bor\b|\band/or\b|/", re.I)
# "M-protein ... at initial diagnosis": how the disease was diagnosed, not what is measurable now
_AT_DIAGNOSIS_RX = re.compile(r"\bat\s+(?:the\s+time\s+of\s+)?(?:initial\s+|original\s+|first\s+)?diagnosis\b", re.I)
# "radiotherapy allowed if evidence of other evaluable disease": a permission's condition demands nothing
_PERMITTED_IF_RX = re.compile(r"\b(?:allowed|permitted|eligible)\s+(?:only\s+)?(?:if|provided|when)\b", re.I)


# "treated / stable / asymptomatic brain lesions" are let in: the state is the condition
_CONTROLLED_RX = re.compile(r"\b(?:treated|stable|controlled|asymptomatic|inactive|completed)\b[^.;]*", re.I)

# lower-case twins of the wording regexes, for _Folded.search
_TWINS = {rx: re.compile(rx.pattern, rx.flags & ~re.IGNORECASE)
          for rx in (_HISTORY_OR_CANDIDACY_RX, _WINDOW_RX, _FUTURE_RX, _ARM_OR_CANDIDACY_RX, _DOUBLE_NEG_RX, _COND_RX, _OPTIONAL_RX, _WHETHER_RX,
                     _NOT_REFRACTORY_RX, _ABSENCE_RX, _MODAL_NEG_RX, _PROHIBIT_RX, _PERMIT_RX, _DEMAND_RX, _PRIOR_RX,
                     _PERMITTED_RX, _COHORT_RX, _NOT_HISTORY_RX, _RESISTANT_RX, _EXAMPLE_RX, _STUDY_START_RX,
                     _NEG_BEFORE_RX, _NOT_REQUIRED_RX, _CONTROLLED_RX)}
# looked up by id: hashing a compiled pattern hashes all of its compiled code, which costs as much as a search
_TWIN_OF = {id(rx): twin for rx, twin in _TWINS.items()}


def _treated(t: _Folded) -> str:
    m = t.search(_CONTROLLED_RX)
    return t.quote(m).strip(" ,") if m else ""


def disease_votes(sent: str, section: str) -> list[tuple[str, tuple[str, str, str]]]:
    """(key, (value, sentence, condition)) for each disease feature a sentence decides."""
    out: list[tuple[str, tuple[str, str, str]]] = []
    needles = _DISEASE_NEEDLES_RX.findall(sent.lower())
    if not needles:
        return out
    keys = {k for n in needles for k in _DISEASE_OF_NEEDLE[n]}
    for key, rx in _DISEASE_RX.items():
        if key not in keys:
            continue
        # a parenthesis speaks for a sub-case ("amyloidosis (deposits found on biopsy are eligible)"):
        # the main clause decides when it names the feature itself
        main = _PAREN_RX.sub(" ", sent) if "(" in sent else sent
        m = rx.search(main)
        if m is None:
            main = sent
            m = rx.search(sent)
        if not m:
            continue
        got = _disease_value(key, main, section, m)
        if got:
            out.append((key, (got[0], sent, got[1])))
    return out


def _disease_value(key: str, sent: str, section: str, m: re.Match) -> tuple[str, str] | None:
    t = _Folded(sent)
    if key == "measurable_disease":
        if (t.search(_NOT_REQUIRED_RX) or _AT_DIAGNOSIS_RX.search(sent)
                or _PERMITTED_IF_RX.search(sent, 0, m.start())):
            return None  # optional; the levels that made the first diagnosis; the condition of another permission
        # "measurable disease" is demanded whether inclusion asks for it or exclusion bars its absence
        return "required", ""
    if t.search(_DOUBLE_NEG_RX):
        return "allowed", ""
    cond = _condition(t) or _treated(t)
    if cond or t.search(_OPTIONAL_RX) or (t.search(_PERMIT_RX) and not t.search(_PROHIBIT_RX)
                                          and not t.search(_MODAL_NEG_RX)):
        return "allowed", cond
    if section == "exclusion":
        return "excluded", ""
    negated = bool(t.search(_NEG_BEFORE_RX, m.start())) or sent[m.start():m.end()].lower().startswith("non")
    if negated or t.search(_MODAL_NEG_RX) or t.search(_PROHIBIT_RX):
        return "excluded", ""
    if section == "inclusion":
        # "multiple myeloma or plasma cell leukaemia": one of several diagnoses that qualify
        window = sent[max(0, m.start() - 40):m.end() + 40]
        return ("allowed", "") if _ALTERNATIVE_RX.search(window) else ("required", "")
    if t.search(_DEMAND_RX):
        return "required", ""
    return None


# --------------------------------------------------------------------------------------
# What one sentence says, as votes the reader merges per item and across items
# --------------------------------------------------------------------------------------
_GVHD_RX = re.compile(r"\bgraft[\s-]+(?:versus|vs\.?)[\s-]+host|\bgvhd\b", re.I)
# the exception runs over a list: "except radiotherapy, bisphosphonates/denosumab or corticosteroids"
_EXCEPTION_RX = re.compile(r"\b(?:other\s+than|except(?:\s+for)?|apart\s+from|besides)\s+[^,.;]{0,40}"
                           r"(?:,(?!\s*(?:and|but|no|nor|or\s+(?:any|prior|previous))\b)[^,.;]{0,40}){0,4}", re.I)
_EXCEPTION_WORDS = ("other", "except", "apart", "besides")  # one is in every match of a folded text


def _without_cohort(sent: str) -> str:
    return _COHORT_PREFIX_RX.sub("", sent) if ":" in sent else sent


# "... within 3 months prior to starting CC-93269": the drug the study starts with is no history
_STUDY_START_NAME_RX = re.compile(
    r"\b(?:prior\s+to|before)\s+(?:starting|beginning|receiving|(?:the\s+)?(?:start|initiation)\s+of|the\s+first\s+dose\s+of)"
    r"\s+(?:(?:the\s+)?study\s+)?(?:(?:treatment|therapy)\s+(?:with\s+)?)?[^\s,.;()]+", re.I)


def _without_study_start(text: str) -> str:
    return _STUDY_START_NAME_RX.sub(" ", text) if ("prior to" in text or "before" in text) else text


def _without_exceptions(text: str) -> str:
    low = fold(text)
    if low is not None and not any(w in low for w in _EXCEPTION_WORDS):
        return text
    return _EXCEPTION_RX.sub(" ", text)


def therapy_votes(sent: str, section: str) -> list[tuple[str, tuple[str, str, str]]]:
    """(flag, (value, sentence, condition)) for each therapy the sentence decides. "D-Kd cohort: ..."
    names a cohort's drugs and "other than DRd" an exception: neither is a history, so only therapies
    named outside them count (the exception's own wording still reads: "except X" permits)."""
    text = _without_cohort(sent)
    named = _mentions(_without_study_start(_without_exceptions(text)))
    # in an exclusion the parenthesis widens the ban ("prior therapy (including ASCT)"): only inclusions are read so
    examples = _named_only_as_examples(text, named) if "(" in text and section == "inclusion" else set()
    out = []
    for flag in named:
        # "first-line therapy (including upfront high-dose chemotherapy and ASCT)": what a line may hold
        got = ("allowed", "") if flag in examples else _classify(text, section, flag)
        if got:
            out.append((flag, (got[0], sent, got[1])))
    if "prior_allogeneic_transplant" in named and _GVHD_RX.search(sent):
        # "prior allogeneic transplant with active GVHD": the transplant is let in, the GVHD is not
        out.append(("prior_allogeneic_transplant", ("allowed", sent, "no active graft-versus-host disease")))
    return out


_EXAMPLE_PAREN_RX = re.compile(r"\(\s*(?:including|includes|e\.\s?g\.?|eg\.?|such\s+as|for\s+example)\b[^()]*(?:\([^()]*\)[^()]*)*\)", re.I)


def _named_only_as_examples(text: str, named: set[str]) -> set[str]:
    """Flags a sentence names only inside an example parenthesis ("(including ... ASCT)", "(e.g. ...)")."""
    outside = _EXAMPLE_PAREN_RX.sub(" ", text)
    return named - _mentions(outside) if outside != text else set()


# "doxorubicin at cumulative doses in excess of 400 mg/m²": a ceiling on the dose, not a ban on the drug
# "mid-intensity melphalan (>50 mg IV)": a ban above a dose, not on the drug
_DOSE_LIMIT_RX = re.compile(r"\bcumulative\b|\blifetime\s+(?:\w+\s+)?dose|(?:>|≥|>=|<|≤|<=)\s*\d+\s*(?:mg|g)\b", re.I)
# a demand met by any drug of a class ("X or another proteasome inhibitor") or by any of several ("either X or Y")
_OR_ANOTHER_RX = re.compile(r"\beither\b(?!\s+(?:separately|alone|as|in|with)\b)|\bor\s+(?:an?other|other|any\s+other)\b", re.I)
# a rule for the patients who had a drug, not a demand that everyone had it
_SUBGROUP_RX = re.compile(r"\W*(?:patients|subjects|participants|those)\s+(?:who|that)\s+(?:were|are|have\s+been|had|have|received"
                          r"|previously)\b(?:(?!\bmust\b)[^.;])*\bmust\b", re.I)
# what may stand between two drugs of one list: commas, "and", "or", "-containing"
_LIST_GAP_RX = re.compile(r"(?:[\s,/]|-?containing|-?based|\band\b|\bor\b|\beither\b)*", re.I)
_OR_RX_IN_GAP = re.compile(r"\bor\b|/", re.I)


def _alternatives(sent: str) -> set[str]:
    """Drugs named only in a list joined by "or" ("either thalidomide or lenalidomide", "lenalidomide,
    bortezomib or thalidomide"): each one meets the demand, so none is demanded."""
    text = normalise(sent)
    spans = [(start, end, name) for start, end, name in _named_drug_spans(text)]
    groups: list[list[tuple[str, bool]]] = []  # per list: (drug, joined to the previous one by "or")
    for i, (start, end, name) in enumerate(spans):
        gap = text[spans[i - 1][1]:start] if i else None
        if gap is not None and _LIST_GAP_RX.fullmatch(gap):
            groups[-1].append((name, bool(_OR_RX_IN_GAP.search(gap))))
        else:
            groups.append([(name, False)])
    alone_or_and = {name for g in groups if not any(joined for _, joined in g) for name, _ in g}
    return {name for g in groups if any(joined for _, joined in g) for name, _ in g} - alone_or_and


def _named_drug_spans(text: str) -> list[tuple[int, int, str]]:
    out = []
    for start, end, (kind, value) in DRUG_MATCHER.spans(text, text.lower()):
        for drug in (value if kind == "regimen" else (value,)):
            if drug.name and not drug.generic and drug.family != IGNORE:
                out.append((start, end, drug.name))
    return out


def drug_votes(sent: str, section: str) -> list[tuple[str, str]]:
    """("required_drugs" | "excluded_drugs", canonical name) for drugs a sentence names specifically as
    a demanded or barring history (not a wash-out, a dose ceiling, an example, an exception or a cohort's name;
    a demand any one of several drugs meets names none)."""
    sent = _without_exceptions(_without_cohort(sent))
    names = specific_drugs(sent)
    if not names:
        return []
    # the main clause decides: "(whether treated with X or not)" widens a ban, it does not permit; a
    # parenthesis left open runs to the end ("refractory to X (had progression while receiving X ...")
    main = _OPEN_PAREN_RX.sub(" ", _PAREN_RX.sub(" ", sent)) if "(" in sent else sent
    got = _classify(main, section) or _classify(sent, section)
    if not got or got[1] or _DOSE_LIMIT_RX.search(sent):
        return []  # no reading, or a condition / wash-out window / dose ceiling: not a ban on the drug
    if got[0] == "required" and _SUBGROUP_RX.match(main):
        return []  # "Patients who were on carfilzomib-containing regimens must have ...": a rule for those who had it
    if got[0] == "required" and _OR_ANOTHER_RX.search(main):
        return []  # "either X or Y", "X or another proteasome inhibitor": any one will do, none is demanded
    if got[0] == "required" and " or" in main:
        # "lenalidomide, bortezomib or thalidomide": the drugs joined by "or" are alternatives
        names = [n for n in names if n not in _alternatives(main)]
    key = {"required": "required_drugs", "excluded": "excluded_drugs"}.get(got[0])
    if main is not sent:
        names = [n for n in names if n not in _own_verdict_only(sent, main)]
    return [(key, name) for name in names] if key else []


def _own_verdict_only(sent: str, main: str) -> set[str]:
    """Drugs named only inside parentheses with a verdict of their own ("after two regimens (previous
    bortezomib is allowed)", "(as long as 2 contained thalidomide)"): the main clause does not speak for
    them, and their own wording permits or sets a condition, which names no demanded or barring drug."""
    inside: set[str] = set()
    for m in _PAREN_RX.finditer(sent):
        inner = m.group(1)
        if any(rx.search(inner) for rx in _MARKED_RXS):
            inside.update(specific_drugs(inner))
    return inside - set(specific_drugs(main)) if inside else inside
