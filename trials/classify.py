"""Therapy families of a study, each with the evidence that put it there.

The vocabulary lives in ``taxonomy.json`` (drugs, generic family words, regimen abbreviations,
trial acronyms, setting words, context cues). This module only knows how to match it:

* every phrase is normalised (NFKC, dashes, no (R)/TM) and compiled into two trie-shaped regexes,
  one over lower-cased text, one case-sensitive for short tokens (KRd, ASCT, CAR-T, DLI ...);
  a match maps back to its taxonomy entry through a dict keyed by the phrase without punctuation,
  so "JNJ-64007957", "JNJ 64007957" and "JNJ64007957" are the same code;
* a name the drug list lacks is still recognised by its wording or INN stem (taxonomy ``name_patterns``:
  "CAR-BCMA T cells", "FcRH5 x CD3", "-zomib" ...), and its reason says so;
* interventions (name, other names, description) and arm groups are the evidence; each carries the
  role of its arms (experimental / comparator / unspecified);
* titles are read only when interventions and arms name nothing we know (a code, a placeholder), and
  eligibility text never; fludarabine/cyclophosphamide before CAR T or any cell product is lymphodepletion;
* a mention that follows "prior", "after", "ineligible for", "treated with" ... (or precedes
  "-refractory", "-ineligible" ...) is context, not what the study tests.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from trials import failures
from trials.model import Study
from trials.setting import classify_setting
from trials.vocabulary import (FAMILIES, IGNORE, TARGET_NAMES, TAXONOMY, DRUG_MATCHER, Drug, drug_spans,
                               family_order, normalise, trie_regex)

def _cue_regex(cues: list[str], before: bool) -> re.Pattern:
    alts = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    if before:  # cue, then at most three words of the same clause, then the match
        return re.compile(r"(?:^|[^a-z0-9])(?:" + alts + r")(?:[^a-z0-9.;:()\n]+[a-z0-9/+]+){0,3}[^a-z0-9.;:()\n]*$")
    return re.compile(r"^[\s-]*(?:" + alts + r")(?![a-z0-9])")


_CUES = TAXONOMY["context_cues"]
_BEFORE_RE = _cue_regex(_CUES["before"], before=True)
# The same test for windows that do not start at index 0, where '^' cannot match: without it the
# pattern starts with a character class (fast skipping), and the cues form a trie (fewer branches).
# Only whether it matches is used, and both match the same strings.
_BEFORE_INNER_RE = re.compile(r"[^a-z0-9](?:" + trie_regex(_CUES["before"]) + r")(?:[^a-z0-9.;:()\n]+[a-z0-9/+]+){0,3}[^a-z0-9.;:()\n]*$")
_AFTER_RE = _cue_regex(_CUES["after"], before=False)
_BEFORE_ANYWHERE_RE = re.compile(r"(?:^|[^a-z0-9])(?:" + "|".join(re.escape(c) for c in _CUES["before"]) + r")(?![a-z0-9])[^.;:\n]*$")
# plain phrases, any of which anywhere in the title: one search of their alternation, not a test per phrase
_FOLLOW_UP_TITLE_RE = re.compile("|".join(map(re.escape, _CUES["follow_up_titles"])))
_LYMPHODEPLETION = TAXONOMY["lymphodepletion"]
_TARGET_RE = re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, TARGET_NAMES)) + r")(?![a-z0-9])")
_OFF_THE_SHELF_RE = re.compile(r"allogeneic|off-the-shelf|off the shelf|universal|donor-derived|healthy donor")
_AUTOLOGOUS_RE = re.compile(r"autologous|patient's own|patients' own|own t cells")
_IN_VIVO_RE = re.compile(r"in[- ]vivo")
_CELL_PRODUCT_RE = re.compile(r"(?<![a-z])(?:t|nk|car|car-t|immune)[- ]?cells?(?![a-z])")
_LYMPHODEPLETING_RE = re.compile(r"lympho-?deplet|conditioning chemotherapy|preconditioning")
_DRUG_TYPES = {"DRUG", "BIOLOGICAL", "GENETIC", "COMBINATION_PRODUCT"}
_SOURCE_ORDER = {"intervention": 0, "other name": 1, "arm group": 2, "intervention description": 3, "arm description": 4,
                 "title": 5, "study design": 6}
_DIAGNOSTIC_PURPOSES = {"DIAGNOSTIC", "SCREENING", "BASIC_SCIENCE"}
_SUPPORTIVE_PURPOSES = {"SUPPORTIVE_CARE", "PREVENTION"}
_TEXT_LIMIT = 160


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    family: str
    drug: str
    matched: str
    source: str
    text: str
    role: str = "unspecified"  # experimental | comparator | unspecified
    details: dict[str, str] = field(default_factory=dict, hash=False, compare=True)

    @property
    def reason(self) -> str:
        said = self._reason()
        how = self.details.get("matched_by")
        return f"{said} Recognised by {how}, not from the drug list." if how else said

    def _reason(self) -> str:
        label = FAMILIES[self.family].label if self.family in FAMILIES else self.family
        what = label[0].lower() + label[1:] if not label[:3].isupper() else label
        d = self.details
        extras = [f"target {d['target']}" if "target" in d else "", f"{d['generation']}-generation" if "generation" in d else "",
                  d.get("subclass", ""), d.get("transplant", ""), d.get("car_t_source", "")]
        extras = [x for x in extras if x]
        kind = f"{what}, {', '.join(extras)}" if extras else what
        drug = self.drug
        arm = self.details.get("arm", "")
        if self.source == "study design":
            return f"The study's stated primary purpose is {self.matched.replace('_', ' ').lower()}."
        if self.role == "comparator":
            where = f"the comparator arm '{arm}'" if arm else "the comparator (control) arm"
            return f"{drug[0].upper() + drug[1:]} ({kind}) appears only in {where}, not as the treatment being tested."
        if self.role == "experimental":
            where = f"the experimental arm '{arm}'" if arm else "an experimental arm"
            return f"Tests {drug} ({kind}) in {where}."
        if self.source == "title":
            return f"The title names {drug} ({kind}); the record lists no more specific intervention."
        return f"Lists {drug} ({kind}) as {_SOURCE_PHRASE.get(self.source, self.source)}: '{self.text}'."


_SOURCE_PHRASE = {"intervention": "an intervention", "other name": "another name of an intervention",
                  "intervention description": "part of an intervention", "arm group": "a study arm",
                  "arm description": "part of a study arm"}


@dataclass(frozen=True)
class Classification:
    nct_id: str
    families: tuple[str, ...]
    setting: str
    evidence: tuple[Evidence, ...]
    setting_reason: str
    also_enrols: str = ""  # who else a myeloma study enrols ('other blood cancers'); '' when only myeloma

    @property
    def myeloma_only(self) -> bool:
        """False for basket/umbrella studies (myeloma among other diseases) and studies of another disease."""
        return not self.also_enrols and self.setting != "other_condition"

    def comparator_only(self, family: str) -> bool:
        """True when the family is found, and only in comparator/control arms."""
        ev = [e for e in self.evidence if e.family == family]
        return bool(ev) and all(e.role == "comparator" for e in ev)


# --- segments of a study ---------------------------------------------------------------------

def _arm_roles(study: Study) -> dict[str, tuple[str, str]]:
    roles = {}
    for arm in study.arm_groups:
        role = "comparator" if arm.is_comparator else ("experimental" if arm.type == "EXPERIMENTAL" else "unspecified")
        roles.setdefault(arm.label.strip().lower(), (role, arm.label))
    return roles


def _intervention_role(labels: tuple[str, ...], roles: dict[str, tuple[str, str]]) -> tuple[str, str]:
    if not labels or not roles:
        return "unspecified", ""
    linked = []
    for label in labels:
        found = roles.get(label.strip().lower())
        if found is not None:
            linked.append(found)
    if not linked:
        return "unspecified", ""
    for wanted in ("experimental", "unspecified"):
        for role, label in linked:
            if role == wanted:
                return role, label
    return "comparator", linked[0][1]


_NAME_SOURCES = ("intervention", "other name")


def _primary_segments(study: Study) -> list[tuple[str, str, str, str]]:
    """(text, source, role, arm label) for interventions and arms; the names of interventions first (stronger
    evidence, and where name stems are read)."""
    roles = _arm_roles(study)
    segs, descriptions = [], []
    for iv in study.interventions:
        role, arm = _intervention_role(iv.arm_group_labels, roles)
        segs.append((iv.name, "intervention", role, arm))
        for o in iv.other_names:
            segs.append((o, "other name", role, arm))
        if iv.description:
            descriptions.append((iv.description, "intervention description", role, arm))
    segs += descriptions
    for a in study.arm_groups:
        role = roles.get(a.label.strip().lower(), ("unspecified", a.label))[0]
        segs.append((a.label, "arm group", role, a.label))
        if a.description:
            segs.append((a.description, "arm description", role, a.label))
    return segs


def _snippet(seg: str, s: int, e: int) -> str:
    if len(seg) <= _TEXT_LIMIT:
        return seg
    lo = max(0, s - 60)
    hi = min(len(seg), max(e + 60, lo + _TEXT_LIMIT - 40))
    return ("…" if lo else "") + seg[lo:hi].strip() + ("…" if hi < len(seg) else "")


def _is_context(low: str, seg_start: int, s: int, e: int, whole_segment: bool) -> bool:
    """'prior CAR T', 'transplant-ineligible', 'treated with ... CAR T': a mention, not a tested therapy."""
    if _AFTER_RE.match(low[e:e + 24]):
        return True
    start = max(seg_start - 1, 0)  # include the separator before the segment: '^' only matches at index 0
    pos = max(start, s - 60)
    if (_BEFORE_INNER_RE if pos else _BEFORE_RE).search(low, pos, s):
        return True
    return whole_segment and _BEFORE_ANYWHERE_RE.search(low, start, s) is not None


# Evidence is first collected as light hits; only what survives _settle becomes an Evidence object,
# and its snippet of text is cut only then.
@dataclass(slots=True)
class _Hit:
    family: str
    drug: str
    matched: str
    source: str
    role: str
    details: dict[str, str]
    text: str | None  # None: cut from seg[start:end] when needed
    seg: str
    start: int
    end: int
    order: int  # strength of the source (_SOURCE_ORDER)


_TARGETED_FAMILIES = frozenset(("car_t", "bispecific", "antibody_drug_conjugate", "cell_therapy_other"))


def _pattern_drug(value: tuple, matched: str, seg_low: str) -> Drug:
    """The taxonomy-like entry of a name found by a name pattern (see taxonomy.json name_patterns)."""
    pattern, target = value
    details = (("matched_by", pattern.says),) + ((("target", target),) if target else ())
    return Drug(matched, pattern.family_for(seg_low), details, generic=True)


def _scan(segs: list[tuple[str, str, str, str]]) -> list[_Hit]:
    if not segs:
        return []
    texts = [t if t.isascii() else normalise(t) for t, _, _, _ in segs]
    text = "\n".join(texts)
    low = text.lower()
    starts, pos, names, orders = [], 0, [], []
    for t, (_, source, _, _) in zip(texts, segs):
        if source in _NAME_SOURCES:
            names.append((pos, pos + len(t)))
        starts.append(pos)
        orders.append(_SOURCE_ORDER.get(source, 9))
        pos += len(t) + 1
    found = drug_spans(text, low, names)
    if not found:
        return []
    out = []
    # (family, drug, role) -> best source order already kept. A later hit with the same family,
    # drug and role, from a source that is no stronger, is always dropped by _settle (same fate
    # under every filter, sorted after the earlier one): it is skipped before any work is done.
    kept: dict[tuple[str, str, str], int] = {}
    for s, e, (kind, value) in found:
        i = bisect.bisect_right(starts, s) - 1
        _, source, role, arm = segs[i]
        order = orders[i]
        matched = text[s:e]
        seg_start = starts[i]
        seg = texts[i]
        if kind == "regimen":
            drugs = [d for d in value if d.family != IGNORE]
            if not drugs:
                continue  # ignored words produce nothing, context or not
            keys = [(d.family, d.name or matched, role) for d in drugs]
            if all(kept.get(k, 10) <= order for k in keys):
                continue
        else:
            if kind == "pattern":
                value = _pattern_drug(value, matched, low[seg_start:seg_start + len(seg)])
            if value.family == IGNORE:
                continue
            key = (value.family, value.name or matched, role)
            if kept.get(key, 10) <= order:
                continue
            drugs, keys = (value,), (key,)
        if _is_context(low, seg_start, s, e, source == "title"):
            continue  # "prior CAR T", "transplant-ineligible", "treated with ... CAR T": context only
        for d, key in zip(drugs, keys):
            family = d.family
            if kept.get(key, 10) > order:
                kept[key] = order
            details = dict(d.details)
            if d.generic:
                seg_low = low[seg_start:seg_start + len(seg)]
                if "target" not in details and family in _TARGETED_FAMILIES:
                    targets = sorted({TARGET_NAMES[t] for t in _TARGET_RE.findall(seg_low)})
                    if targets:
                        details["target"] = "/".join(targets)
                if family == "car_t" and "car_t_source" not in details:
                    if _IN_VIVO_RE.search(seg_low):
                        details["car_t_source"] = "in vivo"
                    elif _OFF_THE_SHELF_RE.search(seg_low):
                        details["car_t_source"] = "off-the-shelf"
                    elif _AUTOLOGOUS_RE.search(seg_low):
                        details["car_t_source"] = "autologous"
            if arm and role != "unspecified":
                details["arm"] = arm
            if kind == "regimen":
                details["regimen"] = matched
            out.append(_Hit(family, key[1], matched, source, role, details, None, seg, s - seg_start, e - seg_start, order))
    return out


def _design_evidence(study: Study, families: set[str]) -> list[_Hit]:
    purpose = study.primary_purpose
    if purpose in _SUPPORTIVE_PURPOSES and "supportive_care" not in families:
        return [_Hit("supportive_care", "supportive care", purpose, "study design", "unspecified", {},
                     f"Primary purpose: {purpose}", "", 0, 0, _SOURCE_ORDER["study design"])]
    if purpose in _DIAGNOSTIC_PURPOSES and "diagnostic" not in families and not (families - {"supportive_care"}):
        return [_Hit("diagnostic", "tests", purpose, "study design", "unspecified", {}, f"Primary purpose: {purpose}",
                     "", 0, 0, _SOURCE_ORDER["study design"])]
    return []


_LYMPHO_PARENTS = frozenset(_LYMPHODEPLETION["parent_families"])
_LYMPHO_DRUGS = frozenset(_LYMPHODEPLETION["drugs"])
_NOT_TREATMENT = frozenset(("diagnostic", "supportive_care"))


def _family_order(h: _Hit) -> int:
    return family_order(h.family, 99)


def _settle(evidence: list[_Hit], study: Study) -> list[_Hit]:
    """Drop redundant or parent-owned evidence; order by family, then by strength of source."""
    if len(evidence) < 2 and not (evidence and evidence[0].family in ("diagnostic", "chemotherapy")):
        return list(evidence)  # nothing to drop, merge or order
    families = {h.family for h in evidence}
    if "diagnostic" in families:
        treatment = families - _NOT_TREATMENT
        untested_drugs = study.primary_purpose == "TREATMENT" and any(i.type in _DRUG_TYPES for i in study.interventions)
        if (treatment or untested_drugs) and study.primary_purpose not in _DIAGNOSTIC_PURPOSES:
            evidence = [h for h in evidence if h.family != "diagnostic"]
    evidence = sorted(evidence, key=_source_order)
    keyed = [(h, h.family, h.drug.lower()) for h in evidence]
    tested = {(f, drug) for h, f, drug in keyed if h.role != "comparator"}
    seen, kept = set(), []
    for h, f, drug in keyed:
        role = h.role
        if role == "comparator" and (f, drug) in tested:
            continue  # also given in an experimental arm: the comparator mention adds nothing
        k = (f, drug, role)
        if k not in seen:
            seen.add(k)
            kept.append(h)
    kept.sort(key=_family_order)
    return kept


def _source_order(h: _Hit) -> int:
    return h.order


def _evidence(h: _Hit) -> Evidence:
    text = h.text if h.text is not None else _snippet(h.seg, h.start, h.end)
    return Evidence(h.family, h.drug, h.matched, h.source, text, h.role, h.details)


def _without_lymphodepletion(evidence: list[_Hit], study: Study) -> list[_Hit]:
    """Fludarabine/cyclophosphamide given before CAR T or other cells is lymphodepletion, not chemotherapy:
    so when a cell family is found, when the drug's own text says 'lymphodepleting', or when an intervention
    is a cell product the vocabulary does not name ('XYZ-123 T cells')."""
    lympho = [h for h in evidence if h.family == "chemotherapy" and h.drug in _LYMPHO_DRUGS]
    if not lympho:
        return evidence
    if {h.family for h in evidence}.isdisjoint(_LYMPHO_PARENTS) and not any(
            _CELL_PRODUCT_RE.search(normalise(i.name).lower()) for i in study.interventions):
        lympho = [h for h in lympho if _LYMPHODEPLETING_RE.search(h.seg.lower())]
    return [h for h in evidence if h not in lympho] if lympho else evidence


def _title_context_families(study: Study) -> set[str]:
    """Families the brief title names only as context ('after ASCT', 'treated with CAR T')."""
    text = normalise(study.brief_title)
    low = text.lower()
    found = set()
    for s, e, (kind, value) in DRUG_MATCHER.spans(text, low):
        if _is_context(low, 0, s, e, True):
            found |= {d.family for d in (value if kind == "regimen" else (value,))}
    return found


def _families(study: Study) -> list[_Hit]:
    title = normalise(study.brief_title).lower()
    if _FOLLOW_UP_TITLE_RE.search(title):
        return []  # follow-up of people treated earlier: no therapy is tested
    evidence = _scan(_primary_segments(study))
    if evidence and study.study_type == "OBSERVATIONAL":
        # "Impact of COVID-19 after autologous transplant": the exposure is context, not tested
        context_only = _title_context_families(study) - {h.family for h in _scan([(study.brief_title, "title", "", "")])}
        evidence = [h for h in evidence if h.family not in context_only]
    evidence = _without_lymphodepletion(evidence, study)
    if not evidence:  # nothing named that we know (a code, a placeholder): the titles may say ("... CAR-T ...")
        titles = [(t, "title", "unspecified", "") for t in dict.fromkeys((study.brief_title, study.official_title)) if t]
        evidence = _scan(titles)
    evidence += _design_evidence(study, {h.family for h in evidence})
    return _settle(evidence, study)


def classify(study: Study) -> Classification:
    """Families (with evidence) and disease setting of one study. Pure; never raises."""
    nct_id = getattr(study, "nct_id", "") or ""
    try:
        hits = _families(study)
        families = tuple(dict.fromkeys(h.family for h in hits)) or ("unclassified",)
        setting, setting_reason, others = classify_setting(study)
        return Classification(nct_id, families, setting, tuple(map(_evidence, hits)), setting_reason, others)
    except Exception as exc:  # a malformed record must not stop a whole list from being shown
        failures.record(exc, "classify", nct_id)
        return Classification(nct_id, ("unclassified",), "unknown", (), f"The record could not be read ({type(exc).__name__}).")


def classification_json(c: Classification) -> dict:
    """A Classification as JSON-ready data (the CLI's `classify` lines)."""
    return {
        "nct_id": c.nct_id,
        "categories": list(c.families),
        "setting": c.setting,
        "setting_reason": c.setting_reason,
        "myeloma_only": c.myeloma_only,
        "also_enrols": c.also_enrols,
        "evidence": [
            {"family": e.family, "drug": e.drug, "matched": e.matched, "source": e.source, "role": e.role,
             "reason": e.reason, "text": e.text, "details": dict(e.details)}
            for e in c.evidence
        ],
    }

