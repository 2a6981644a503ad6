"""Who a study is for: its disease setting (relapsed/refractory, newly diagnosed, maintenance, smoldering, ...)
and whether it enrols only people with myeloma.

Read from conditions, keywords, titles and acronym first (strong); only when those say nothing
about the setting, from the brief summary and the *inclusion* part of the eligibility criteria
(weak). Trial acronyms with a known setting (CARTITUDE-5 = newly diagnosed ...) decide outright.
Whether the study is about myeloma at all is asked of the conditions (and keywords); when they
name only other or generic diseases ("Hematological Malignancies"), a title or inclusion criterion that says
relapsed/refractory myeloma still makes it a relapsed study (a basket or first-in-human study with a myeloma
cohort). MeSH terms are not read: they are indexed liberally (a 'Hematologic Neoplasms' study of immune
deficiency gets 'Multiple Myeloma'; 'Precursor Cell Lymphoblastic Leukemia' reads as a precursor state) and
add nothing the conditions don't say. Words and acronyms are data in taxonomy.json; this module only weighs them.
"""
from __future__ import annotations

import bisect
import re

from trials.vocabulary import TAXONOMY, Matcher, normalise
from trials.model import Study

_TERMS = TAXONOMY["setting_terms"]
_CLASSES = ("myeloma", "relapsed_refractory", "newly_diagnosed", "maintenance", "smoldering", "other_condition")
_SEARCHED_ACRONYM = re.compile(r"[0-9-]")


_POPULATION = TAXONOMY["population"]
_KINDS = ("plasma_cell", "blood_cancer", "cancer", "generic", "other")


def _vocabulary() -> tuple[Matcher, dict[str, tuple[str, str]]]:
    """One matcher for setting cues and population words: a value is ("cue", setting class or None, population
    kind or None), or ("acronym", setting, name). 'lymphoma' is both an other-condition cue and a blood cancer."""
    words: dict[tuple[str, bool], list] = {}
    for cls in _CLASSES:
        for case_sensitive, key in ((False, cls), (True, cls + "_case_sensitive")):
            for t in _TERMS.get(key, ()):
                words.setdefault((t, case_sensitive), [cls, None])
    for kind in _KINDS:
        for case_sensitive, key in ((False, kind), (True, kind + "_case_sensitive")):
            for t in _POPULATION.get(key, ()):
                words.setdefault((t, case_sensitive), [None, None])[1] = kind
    items = [(t, case_sensitive, ("cue", cls, kind)) for (t, case_sensitive), (cls, kind) in words.items()]
    exact_acronyms = {}
    for trial in TAXONOMY["trial_acronyms"]["list"]:
        for name in trial["names"]:
            if _SEARCHED_ACRONYM.search(name):
                items.append((name, False, ("acronym", trial["setting"], name)))
            else:  # plain words (APEX, STORM, FIRST): only when they are the record's acronym
                exact_acronyms[name.lower()] = (trial["setting"], name)
    return Matcher(items), exact_acronyms


_MATCHER, _EXACT_ACRONYMS = _vocabulary()
_OTHERS_WORDS = _POPULATION["words"]


_RR_WORD_LIST = ("relapsed/refractory", "relapsed/ refractory", "relapsed", "refractory", "relapse", "relapsing",
                 "recurrent", "r/r", "rr")
_RR_WORDS = "|".join(map(re.escape, _RR_WORD_LIST))
_GAP = r"(?:[\s,/()-]+[a-z0-9/-]+){0,4}?[\s,/()-]+"  # at most four words of the same clause
_MYELOMA_WORD_LIST = ("multiple myeloma", "myeloma", "rrmm", "mm")
_MYELOMA_WORD = re.compile("(?:" + "|".join(_MYELOMA_WORD_LIST) + ")(?![a-z0-9])")
_RR_BEFORE = re.compile(rf"(?<![a-z0-9])(?:{_RR_WORDS})(?![- ]?free){_GAP}$")  # not 'relapse-free survival'

_RR_AFTER = re.compile(rf"{_GAP}(?:{_RR_WORDS})(?![a-z0-9])(?![- ]?free)")


# Every myeloma word contains one of the first literals, every relapse word one of the second ('recurrent' and
# 'rrmm' hold 'rr'): a text without both says no relapsed myeloma, and most texts are not scanned.
_MYELOMA_LITERALS = ("myeloma", "mm")
_RR_LITERALS = ("relaps", "refractory", "rr", "r/r")


def _rr_myeloma(low: str) -> tuple[int, int] | None:
    """Where a relapse word and a myeloma word stand in the same clause, at most four words apart
    ('relapsed or refractory multiple myeloma', 'myeloma that has relapsed'), or 'RRMM'."""
    if any(w in low for w in _MYELOMA_LITERALS) and any(w in low for w in _RR_LITERALS):
        return _scan_rr_myeloma(low)
    return None


def _scan_rr_myeloma(low: str) -> tuple[int, int] | None:
    for m in _MYELOMA_WORD.finditer(low):
        s, e = m.start(), m.end()
        if s and low[s - 1].isalnum():
            if m.group() == "mm" and low[max(0, s - 2):s] == "rr" and (s == 2 or not low[s - 3].isalnum()):
                return s - 2, e  # 'rrmm' found from its 'mm'
            continue  # 'comm', 'mmhg' ...
        if m.group() == "rrmm":
            return s, e
        before = _RR_BEFORE.search(low, max(0, s - 80), s)
        if before:
            return before.start(), e
        after = _RR_AFTER.match(low, e, e + 80)
        if after:
            return s, after.end()
    return None


# The exclusion heading starts a line ('Exclusion Criteria:', '- Key Exclusion Criteria'); a first line such as
# 'Key inclusion and exclusion criteria' is not it, or nothing would be read.
_EXCLUSION = re.compile(r"exclusion", re.IGNORECASE)
_BOTH_HEADINGS = re.compile(r"inclusion\s*(?:and|&|/)\s*$", re.IGNORECASE)
_HEADING_START = re.compile(r"[\s*#>•-]*(?:(?:key|main|major|general|principal)\s+)?", re.IGNORECASE)
_TRAP_BEFORE = re.compile(r"(?:prevent|preventing|prevention of|risk of|time to|until|delay|delaying|reduce|reducing)\W+(?:\w+\W+){0,1}$")
# "cancer vaccine", "tumor immunotherapy": a kind of treatment, not a disease the study enrols
_NAMES_A_TREATMENT = re.compile(r"[\s-]+(?:vaccines?|immunotherapy|therapy|therapies|treatments?|drugs?)(?![a-z])")
_TRAP_AFTER = re.compile(r"^[\s-]*(?:free|prevention|rate|rates|risk|renal|kidney|organ)\b")  # "to salvage renal function"
# "no prior therapy for myeloma", "not previously treated", "at least 4 weeks since prior therapy": a negation or
# a wash-out names no relapse
# ... nor does a ceiling ("no more than 3 prior regimens", "up to 2 prior lines"): it also lets in the untreated
_NOT_A_RELAPSE = re.compile(r"(?:(?<![a-z])(?:no|not|without|never|nor|none)(?:\W+[a-z]+){0,2}|\bsince|\bfrom"
                            r"|(?:weeks|days|months|toxicities|toxicity|effects) of"
                            r"|(?:(?<![a-z])(?:no|not)\s+more\s+than|\bup\s+to|\bat\s+most|\bmaximum\s+of|≤|<=)\s*(?:\d+|one|two|three|four)(?:\s+or\s+fewer)?)\W+$")
_INCLUSION_LIMIT = 3000


# "Induction therapy followed by transplant counts as one therapy": a rule for counting lines names the phases of a
# first line, not a newly diagnosed group
_COUNTING_PHRASE = re.compile(
    r"\b(?:considered|counts?|counted|regarded)\s+(?:as\s+)?(?:an?\s+|one\s+|1\s+|two\s+|2\s+|separate\s+|single\s+)?"
    r"(?:single\s+|separate\s+)?(?:lines?|regimens?|therap(?:y|ies)|treatments?)\b", re.IGNORECASE)


def _without_counting_rules(text: str) -> str:
    """``text`` with each sentence holding a _COUNTING_PHRASE blanked (found phrase first, then its sentence's
    bounds: a pattern reaching back over the sentence would be tried from every position)."""
    parts, last = [], 0
    for m in _COUNTING_PHRASE.finditer(text):
        if m.start() < last:
            continue
        start = max(text.rfind(".", last, m.start()), text.rfind(";", last, m.start())) + 1 or last
        ends = [i for i in (text.find(".", m.end()), text.find(";", m.end())) if i >= 0]
        end = min(ends) if ends else len(text)
        parts += [text[last:max(start, last)], " "]
        last = end
    return "".join(parts) + text[last:] if parts else text


def inclusion_text(criteria: str) -> str:
    """The eligibility text before its 'Exclusion' heading (or, when no line starts with one, before the first
    'exclusion' after the first line), without the rules for counting lines of therapy."""
    text = _before_exclusions(criteria)
    low = text.lower()
    if "consider" in low or "count" in low or "regarded" in low:
        text = _without_counting_rules(text)
    return text


def _before_exclusions(criteria: str) -> str:
    fallback = None
    for m in _EXCLUSION.finditer(criteria):
        line_start = criteria.rfind("\n", 0, m.start()) + 1
        if _HEADING_START.fullmatch(criteria, line_start, m.start()):
            return criteria[:m.start()][:_INCLUSION_LIMIT]
        if fallback is None and not _BOTH_HEADINGS.search(criteria, max(0, m.start() - 20), m.start()):
            fallback = m.start()
    return criteria[:fallback][:_INCLUSION_LIMIT]


_RR = "relapsed_refractory"
# transplant candidacy is said of newly diagnosed and relapsed patients alike
_CANDIDACY = frozenset(t.lower() for t in _TERMS["newly_diagnosed"] if "eligib" in t.lower() or "candidate" in t.lower())
_ANOTHER_NUMBER = re.compile(r"-?\d")
_DECISIVE = ("relapsed_refractory", "newly_diagnosed", "smoldering", "maintenance")
_GATE_CLASSES = ("myeloma", "smoldering")


def _cues(segments: list[tuple[str, str]], gate: bool = True, kinds: set[str] | None = None
          ) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """The first cue of each setting class as (matched text, source), 'acronym' -> (setting, name);
    and (when ``gate``) the first cue of each class found in a condition. ``kinds`` (when given) collects
    the population kinds named ('generic' ones only outside titles).

    Only first cues are ever reported, so later ones are not collected. Without ``gate`` (the weak
    pass) only the four classes that decide the setting are looked for, and the scan stops once
    relapsed/refractory and newly diagnosed are both found (the setting is then 'mixed').
    """
    first: dict[str, tuple[str, str]] = {}
    first_condition: dict[str, tuple[str, str]] = {}
    texts, sources = [], []
    for t, src in segments:
        if t:
            texts.append(t if t.isascii() else normalise(t))
            sources.append(src)
    if not texts:
        return first, first_condition
    text = "\n".join(texts)
    low = text.lower()
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    for s, e, (tag, cls, kind) in _MATCHER.spans(text, low):
        if tag == "acronym":  # cls: the trial's setting, kind: its name
            if _ANOTHER_NUMBER.match(low, e):
                continue  # "IFM2009-02" is another trial than IFM 2009
            if gate and "acronym" not in first:
                first["acronym"] = (cls, kind)
            continue
        if kinds is not None and kind is not None and kind != "plasma_cell" and (
                kind != "generic" or "title" not in sources[bisect.bisect_right(starts, s) - 1]) \
                and not _NAMES_A_TREATMENT.match(low, e):
            kinds.add(kind)  # a title's 'cancer-related fatigue' or a keyword's 'cancer vaccine' names no population
        if cls is None:
            continue
        if cls in first:
            if not gate or cls in first_condition or cls not in _GATE_CLASSES:
                continue  # only the gate classes are asked for their first cue in a condition
            source = sources[bisect.bisect_right(starts, s) - 1]
            if source == "condition":
                first_condition[cls] = (text[s:e], source)
            continue
        if not gate and cls not in _DECISIVE:
            continue
        if cls == _RR and (_TRAP_BEFORE.search(low, max(0, s - 30), s) or _TRAP_AFTER.match(low[e:e + 16])
                           or _NOT_A_RELAPSE.search(low, max(0, s - 30), s)):
            continue  # "relapse-free survival", "to prevent relapse", "no prior therapy", "since prior therapy"
        source = sources[bisect.bisect_right(starts, s) - 1]
        first[cls] = cue = (text[s:e], source)
        if gate:
            if source == "condition":
                first_condition[cls] = cue
        elif _RR in first and "newly_diagnosed" in first:
            break  # the setting is 'mixed' whatever follows
    return first, first_condition


def _say(cue: tuple[str, str]) -> str:
    return f"the {cue[1]} says '{cue[0]}'"


def _decide(cues: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    rr, nd = cues.get("relapsed_refractory"), cues.get("newly_diagnosed")
    smm, maint = cues.get("smoldering"), cues.get("maintenance")
    if rr and nd and nd[0].lower() in _CANDIDACY:
        nd = None  # "eligible for ASCT" also describes relapsed patients: not a newly diagnosed cohort
    if smm and nd and not rr and "title" in nd[1] and "title" not in smm[1]:
        return "newly_diagnosed", f"Newly diagnosed myeloma: {_say(nd)} (the {smm[1]} also names precursors)."
    if smm and not rr:
        return "smoldering", f"Smoldering/precursor disease: {_say(smm)}."
    if rr and nd:
        return "mixed", f"Cohorts in more than one setting: {_say(rr)} and {_say(nd)}."
    if rr:
        return "relapsed_refractory", f"Relapsed or refractory myeloma: {_say(rr)}."
    if nd and maint:
        return "maintenance", f"Maintenance in newly diagnosed myeloma: {_say(maint)} and {_say(nd)}."
    if nd:
        return "newly_diagnosed", f"Newly diagnosed myeloma: {_say(nd)}."
    if maint:
        return "maintenance", f"Maintenance treatment: {_say(maint)}."
    return None


def _relapsed_myeloma_said(study: Study) -> tuple[str, str] | None:
    """(words, where) when a title, keyword or the inclusion criteria say relapsed/refractory myeloma."""
    for text, where in ((study.brief_title, "title"), (study.official_title, "official title"),
                        ("\n".join(study.keywords), "keywords"), (inclusion_text(study.eligibility.criteria), "inclusion criteria")):
        low = text.lower()
        found = _rr_myeloma(low) if len(low) == len(text) else None  # (lower() keeps offsets but for rare letters)
        if found:
            return text[found[0]:found[1]], where
    return None


def _also_enrols(kinds: set[str]) -> str:
    """'' when only myeloma (or its precursors and plasma-cell relatives) is named; otherwise who else, in words."""
    if not kinds:
        return ""
    if "other" in kinds:
        return _OTHERS_WORDS["other"]
    return _OTHERS_WORDS["blood_cancer"] if kinds == {"blood_cancer"} else _OTHERS_WORDS["cancer"]


# Older NCI records index every stage of myeloma as conditions or keywords ('Stage I/II/III Multiple Myeloma',
# often beside 'Refractory Multiple Myeloma'): an index of the disease, not a statement of who enrols.
_INDEXED_STAGE = re.compile(r"(?<![a-z])stage\s+(?:i{1,3}|[1-3])(?![a-z0-9]).*myeloma|myeloma.*(?<![a-z])stage\s+(?:i{1,3}|[1-3])(?![a-z0-9])",
                            re.IGNORECASE)
_INDEXED_CLASSES = ("relapsed_refractory", "newly_diagnosed", "maintenance")


def _indexes_stages(terms: list[str]) -> bool:
    """Does a condition or keyword index a stage of myeloma (``_INDEXED_STAGE``)? Most records name no 'stage'
    at all: for ASCII text (where IGNORECASE folds only A-Z) that is one substring test, not a regex per term."""
    joined = "\n".join(terms)
    if joined.isascii() and "stage" not in joined.lower():
        return False
    return any(_INDEXED_STAGE.search(term) for term in terms)


def classify_setting(study: Study) -> tuple[str, str, str]:
    """(setting id, one plain sentence saying why, who else the study enrols: '' when only myeloma, else
    'other blood cancers', 'other cancers' or 'other diseases'; '' too for a study of another disease)."""
    conditions = study.conditions
    indexed = [(c, "condition") for c in conditions] + [(k, "keyword") for k in study.keywords]
    titles = [(study.brief_title, "title"), (study.official_title, "official title"), (study.acronym, "acronym")]
    kinds: set[str] = set()
    cues, condition_cues = _cues(indexed + titles, kinds=kinds)
    if (study.brief_summary or study.eligibility.criteria) and _indexes_stages([term for term, _ in indexed]):
        said_by_titles, _ = _cues(titles)  # (a record without text keeps its index: it is all there is)
        for cls in _INDEXED_CLASSES:
            if cls in cues and cues[cls][1] in ("condition", "keyword"):
                if cls in said_by_titles:
                    cues[cls] = said_by_titles[cls]
                else:
                    del cues[cls]
    setting, reason = _setting(study, cues, condition_cues)
    return setting, reason, _also_enrols(kinds) if setting != "other_condition" else ""


def _setting(study: Study, cues: dict, condition_cues: dict) -> tuple[str, str]:
    conditions = study.conditions
    acronym = _EXACT_ACRONYMS.get(study.acronym.strip().lower())
    if acronym or "acronym" in cues:
        setting, name = acronym or cues["acronym"]
        return setting, f"The trial {name} is known to be in this setting: {setting.replace('_', ' ')}."

    gate = condition_cues if conditions else cues  # the conditions alone decide whether the study is about myeloma
    if "myeloma" not in gate:
        if "smoldering" in gate:
            return "smoldering", f"Smoldering/precursor disease: {_say(gate['smoldering'])}."
        said = _relapsed_myeloma_said(study)
        if said:  # a basket or first-in-human study: its conditions are generic, its myeloma cohort is relapsed
            return "relapsed_refractory", (f"Relapsed or refractory myeloma: {_say(said)}"
                                           + (f", though the conditions list '{conditions[0]}'." if conditions else "."))
        if conditions or "other_condition" in cues:
            what = conditions[0] if conditions else cues["other_condition"][0]
            return "other_condition", f"The conditions studied are not myeloma (e.g. '{what}')."
        return "unknown", "The record does not say which disease is studied."

    decided = _decide(cues)
    if decided and not (decided[0] == "maintenance" and "title" not in cues["maintenance"][1]):
        return decided
    # maintenance named only in a keyword or condition: the study may enrol before the transplant it follows
    weak, _ = _cues([(study.brief_summary, "summary"), (inclusion_text(study.eligibility.criteria), "inclusion criteria")],
                    gate=False)
    if "newly_diagnosed" in weak:
        weak.pop("maintenance", None)  # a summary of upfront treatment names its maintenance phase too
    weak_decided = _decide(weak)
    if decided and (not weak_decided or weak_decided[0] != "newly_diagnosed"):
        return decided
    if weak_decided:
        return weak_decided
    return "unknown", "The record does not say whether the myeloma is newly diagnosed or relapsed."
