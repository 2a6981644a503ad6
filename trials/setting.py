"""Disease setting of a study: relapsed/refractory, newly diagnosed, maintenance, smoldering, ...

Read from conditions, keywords, titles and acronym first (strong); only when those say nothing
about the setting, from the brief summary and the *inclusion* part of the eligibility criteria
(weak). Trial acronyms with a known setting (CARTITUDE-5 = newly diagnosed ...) decide outright.
Words and acronyms are data in taxonomy.json; this module only weighs them.
"""
from __future__ import annotations

import bisect
import re

from trials.classify import TAXONOMY, Matcher, normalise
from trials.model import Study

_TERMS = TAXONOMY["setting_terms"]
_CLASSES = ("myeloma", "relapsed_refractory", "newly_diagnosed", "maintenance", "smoldering", "other_condition")
_SEARCHED_ACRONYM = re.compile(r"[0-9-]")


def _vocabulary() -> tuple[Matcher, dict[str, tuple[str, str]]]:
    items = []
    for cls in _CLASSES:
        items += [(t, False, ("cue", cls)) for t in _TERMS.get(cls, ())]
        items += [(t, True, ("cue", cls)) for t in _TERMS.get(cls + "_case_sensitive", ())]
    exact_acronyms = {}
    for trial in TAXONOMY["trial_acronyms"]["list"]:
        for name in trial["names"]:
            if _SEARCHED_ACRONYM.search(name):
                items.append((name, False, ("acronym", trial["setting"], name)))
            else:  # plain words (APEX, STORM, FIRST): only when they are the record's acronym
                exact_acronyms[name.lower()] = (trial["setting"], name)
    return Matcher(items), exact_acronyms


_MATCHER, _EXACT_ACRONYMS = _vocabulary()
_EXCLUSION = re.compile(r"exclusion", re.IGNORECASE)
_TRAP_BEFORE = re.compile(r"(?:prevent|preventing|prevention of|risk of|time to|delay|delaying|reduce|reducing)\W+(?:\w+\W+){0,1}$")
_TRAP_AFTER = re.compile(r"^[\s-]*(?:free|prevention|rate|rates|risk)\b")
_INCLUSION_LIMIT = 3000


def inclusion_text(criteria: str) -> str:
    """The eligibility text before its 'Exclusion' heading."""
    m = _EXCLUSION.search(criteria)
    return (criteria[:m.start()] if m else criteria)[:_INCLUSION_LIMIT]


def _cues(segments: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Setting class -> [(matched text, source)], plus 'acronym' -> [(setting, name)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    segments = [(normalise(t), src) for t, src in segments if t]
    if not segments:
        return found
    text = "\n".join(t for t, _ in segments)
    low = text.lower()
    starts, pos = [], 0
    for t, _ in segments:
        starts.append(pos)
        pos += len(t) + 1
    for s, e, matched, value in _MATCHER.find(text, low):
        source = segments[bisect.bisect_right(starts, s) - 1][1]
        if value[0] == "acronym":
            found.setdefault("acronym", []).append((value[1], value[2]))
            continue
        cls = value[1]
        if cls == "relapsed_refractory" and (_TRAP_BEFORE.search(low, max(0, s - 30), s) or _TRAP_AFTER.match(low[e:e + 16])):
            continue  # "relapse-free survival", "to prevent relapse"
        found.setdefault(cls, []).append((matched, source))
    return found


def _say(cue: tuple[str, str]) -> str:
    return f"the {cue[1]} says '{cue[0]}'"


def _decide(cues: dict[str, list[tuple[str, str]]]) -> tuple[str, str] | None:
    rr, nd = cues.get("relapsed_refractory"), cues.get("newly_diagnosed")
    smm, maint = cues.get("smoldering"), cues.get("maintenance")
    if smm and not rr:
        return "smoldering", f"Smoldering/precursor disease: {_say(smm[0])}."
    if rr and nd:
        return "mixed", f"Cohorts in more than one setting: {_say(rr[0])} and {_say(nd[0])}."
    if rr:
        return "relapsed_refractory", f"Relapsed or refractory myeloma: {_say(rr[0])}."
    if nd and maint:
        return "maintenance", f"Maintenance in newly diagnosed myeloma: {_say(maint[0])} and {_say(nd[0])}."
    if nd:
        return "newly_diagnosed", f"Newly diagnosed myeloma: {_say(nd[0])}."
    if maint:
        return "maintenance", f"Maintenance treatment: {_say(maint[0])}."
    return None


def classify_setting(study: Study) -> tuple[str, str]:
    """(setting id, one plain sentence saying why)."""
    strong = [(c, "condition") for c in study.conditions] + [(k, "keyword") for k in study.keywords]
    strong += [(study.brief_title, "title"), (study.official_title, "official title"), (study.acronym, "acronym")]
    cues = _cues(strong)
    acronym = _EXACT_ACRONYMS.get(study.acronym.strip().lower())
    if acronym or cues.get("acronym"):
        setting, name = acronym or cues["acronym"][0]
        return setting, f"The trial {name} is known to be in this setting: {setting.replace('_', ' ')}."

    if study.conditions:  # the conditions alone decide whether the study is about myeloma
        gate = {cls: [c for c in found if c[1] == "condition"] for cls, found in cues.items()}
    else:
        gate = cues
    if not gate.get("myeloma"):
        if gate.get("smoldering"):
            return "smoldering", f"Smoldering/precursor disease: {_say(gate['smoldering'][0])}."
        if study.conditions or cues.get("other_condition"):
            what = study.conditions[0] if study.conditions else cues["other_condition"][0][0]
            return "other_condition", f"The conditions studied are not myeloma (e.g. '{what}')."
        return "unknown", "The record does not say which disease is studied."

    decided = _decide(cues)
    if decided:
        return decided
    weak = _cues([(study.brief_summary, "summary"), (inclusion_text(study.eligibility.criteria), "inclusion criteria")])
    decided = _decide(weak)
    if decided:
        return decided
    return "unknown", "The record does not say whether the myeloma is newly diagnosed or relapsed."
