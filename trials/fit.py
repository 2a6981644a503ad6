""""Does this study fit me?": a person's treatment history held against a study's criteria.

The readings come from ``eligibility`` (each with the sentence that decides it); this module only
compares. A verdict is never "eligible": it is ``conflict`` (a criterion contradicts an answer),
``check`` (a criterion depends on something not answered, or its reading carries a condition) or
``no_conflict``, each with the criteria behind it, to take to the care team. Every answer is
optional; nothing here stores or logs a profile.
"""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Iterable

from trials.errors import BadInput
from trials.criteria_flags import topics_in
from trials.eligibility import Flag
from trials.model import Study
from trials.vocabulary import DRUGS_BY_NAME, DRUG_MATCHER, IGNORE, normalise, prior_topics

VERDICTS = ("conflict", "check", "no_conflict")
TRANSPLANTS = ("auto", "allo")

# therapy flag -> (topic a person's drugs imply, plain words)
_THERAPY_FLAGS = {
    "prior_car_t": ("car_t", "CAR T-cell therapy"),
    "prior_bcma": ("bcma", "a BCMA-targeted therapy"),
    "prior_bispecific": ("bispecific", "a bispecific antibody"),
    "prior_anti_cd38": ("anti_cd38", "an anti-CD38 antibody (such as daratumumab)"),
    "prior_gprc5d": ("gprc5d", "a GPRC5D-targeted therapy"),
}
_TRANSPLANT_FLAGS = {
    "prior_autologous_transplant": ("auto", "a transplant of your own stem cells (autologous)"),
    "prior_allogeneic_transplant": ("allo", "a donor stem cell transplant (allogeneic)"),
}
_DISEASE_FLAGS = {
    "cns_involvement": ("cns", "myeloma in the brain or spinal cord (CNS)"),
    "plasma_cell_leukemia": ("pcl", "plasma cell leukaemia"),
    "amyloidosis": ("amyloidosis", "AL amyloidosis"),
}


@dataclass(frozen=True)
class Profile:
    """What a person chose to tell; None (or empty) means not answered."""
    lines: int | None = None
    had: tuple[str, ...] = ()  # canonical drug names or class words, as resolved by resolve_treatments
    refractory: tuple[str, ...] = ()
    transplants: frozenset[str] | None = None  # {"auto", "allo"}; empty: none; None: not answered
    transplant_months: float | None = None  # since the last transplant
    age: float | None = None
    crcl: float | None = None
    ecog: int | None = None
    cns: bool | None = None
    pcl: bool | None = None
    amyloidosis: bool | None = None

    def is_empty(self) -> bool:
        return self == Profile()

    def topics(self) -> set[str]:
        """Therapy topics of everything the person had (refractory implies had)."""
        found: set[str] = set()
        for name in self.had + self.refractory:
            found |= _name_topics(name)
        return found


@dataclass(frozen=True)
class Reason:
    criterion: str
    value: object
    sentence: str
    status: str  # "conflict" / "check"
    says: str  # plain words: what the study says and how it meets the answer

    def as_json(self) -> dict:
        return {"criterion": self.criterion, "value": list(self.value) if isinstance(self.value, tuple) else self.value,
                "sentence": self.sentence, "status": self.status, "says": self.says}


@dataclass(frozen=True)
class Fit:
    verdict: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {"verdict": self.verdict, "reasons": [r.as_json() for r in self.reasons]}


# --- resolving what a person types ----------------------------------------------------------

def _name_topics(name: str) -> set[str]:
    drug = DRUGS_BY_NAME.get(name.lower())
    return set(prior_topics(drug)) if drug is not None else topics_in(name)


def _known_names() -> list[str]:
    return sorted(set(DRUGS_BY_NAME))


@functools.cache  # the vocabulary is fixed for the process; the app asks on every page run
def drug_names() -> tuple[str, ...]:
    """Canonical names of the myeloma drugs and products the vocabulary knows, for a picker."""
    return tuple(sorted({d.name for d in DRUGS_BY_NAME.values() if d.name and not d.generic and d.family != IGNORE},
                        key=str.lower))


def resolve_treatment(text: str) -> str:
    """A drug's canonical name ("Darzalex" -> "daratumumab", "JNJ-64007957" -> "teclistamab"), or a
    class word the reader understands ("CAR T", "bispecific", "anti-CD38"). BadInput otherwise,
    naming close matches."""
    shown = " ".join(str(text).split())[:60]
    cleaned = normalise(shown).strip()
    if not cleaned:
        raise BadInput("empty treatment name")
    spans = DRUG_MATCHER.spans(cleaned, cleaned.lower())
    whole = [v for s, e, v in spans if s == 0 and e == len(cleaned)]
    if whole:
        kind, value = whole[0]
        drug = value[0] if kind == "regimen" and value else value
        if kind == "drug" and drug.name and not drug.generic:
            return drug.name
        if kind == "drug":
            return cleaned
        if kind == "regimen":
            return cleaned
    if topics_in(cleaned):
        return cleaned
    close = difflib.get_close_matches(cleaned.lower(), _known_names(), n=3, cutoff=0.75)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise BadInput(f"unknown treatment {shown!r}.{hint}")


def resolve_treatments(texts: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for t in texts:
        for part in str(t).split(","):
            if part.strip():
                name = resolve_treatment(part)
                if name not in out:
                    out.append(name)
    return tuple(out)


def parse_transplants(text: str) -> frozenset[str]:
    """'auto', 'allo', 'auto,allo' or 'none'."""
    parts = {p.strip().lower() for p in str(text).split(",") if p.strip()}
    if parts == {"none"}:
        return frozenset()
    if not parts or not parts <= set(TRANSPLANTS):
        raise BadInput(f"--transplant takes auto, allo, auto,allo or none, not {str(text)[:40]!r}")
    return frozenset(parts)


# --- the comparison -------------------------------------------------------------------------

def _therapy(flag: Flag, key: str, topic: str, words: str, profile: Profile, had: set[str]) -> Reason | None:
    known = bool(profile.had or profile.refractory)
    if flag.value == "excluded":
        if topic in had:
            status = "check" if flag.condition else "conflict"
            return Reason(key, flag.value, flag.sentence, status,
                          f"The study does not take people who had {words}" +
                          (f" ({flag.condition})" if flag.condition else "") + "; you said you had it.")
        if not known:
            return Reason(key, flag.value, flag.sentence, "check", f"The study does not take people who had {words}.")
    if flag.value == "required" and topic not in had:
        return Reason(key, flag.value, flag.sentence, "check",
                      f"The study asks for earlier {words}" + ("; it is not in the treatments you listed." if known else "."))
    if flag.value == "allowed" and flag.condition and topic in had:
        return Reason(key, flag.value, flag.sentence, "check", f"Earlier {words} is allowed only {flag.condition}.")
    return None


def _transplant(flag: Flag, key: str, kind: str, words: str, profile: Profile) -> Reason | None:
    had = None if profile.transplants is None else kind in profile.transplants
    if flag.value == "excluded":
        if had is None:
            return Reason(key, flag.value, flag.sentence, "check", f"The study does not take people who had {words}.")
        if had:
            return Reason(key, flag.value, flag.sentence, "check" if flag.condition else "conflict",
                          f"The study does not take people who had {words}" +
                          (f" ({flag.condition})" if flag.condition else "") + "; you said you had one.")
    if flag.value == "required":
        if had is None:
            return Reason(key, flag.value, flag.sentence, "check", f"The study asks for an earlier {words}.")
        if not had:
            return Reason(key, flag.value, flag.sentence, "conflict",
                          f"The study asks for an earlier {words}; you said you had none.")
    if flag.value == "allowed" and flag.condition and had is not False:
        return Reason(key, flag.value, flag.sentence, "check", f"An earlier {words} is allowed only {flag.condition}.")
    return None


def _limit(key: str, flag: Flag, answer: float | None, too_far, says: str, unanswered: str) -> Reason | None:
    if flag.value is None:
        return None
    if answer is None:
        return Reason(key, flag.value, flag.sentence, "check", unanswered)
    if too_far(answer, flag.value):
        return Reason(key, flag.value, flag.sentence, "conflict", says)
    return None


def _numbers(readings: dict[str, Flag], p: Profile) -> list[Reason]:
    get = readings.get
    none = Flag(None)
    lo, hi = get("min_prior_lines", none), get("max_prior_lines", none)
    crcl, ecog = get("min_creatinine_clearance", none), get("max_ecog", none)
    out = [
        _limit("min_prior_lines", lo, p.lines, lambda a, v: a < v,
               f"The study asks for at least {lo.value} earlier lines of treatment; you said {p.lines}.",
               f"The study asks for at least {lo.value} earlier lines of treatment."),
        _limit("max_prior_lines", hi, p.lines, lambda a, v: a > v,
               f"The study takes people with at most {hi.value} earlier lines of treatment; you said {p.lines}.",
               f"The study takes people with at most {hi.value} earlier lines of treatment."),
        _limit("min_creatinine_clearance", crcl, p.crcl, lambda a, v: a < v,
               f"The study asks for kidney function (creatinine clearance) of about {crcl.value} mL/min or more; "
               f"you said {_whole(p.crcl)}.",
               f"The study has a kidney function limit (creatinine clearance about {crcl.value} mL/min)."),
        _limit("max_ecog", ecog, p.ecog, lambda a, v: a > v,
               f"The study asks for a daily-activity level (ECOG) of {ecog.value} or better; you chose {p.ecog}.",
               f"The study has a daily-activity limit (ECOG {ecog.value} or better)."),
    ]
    return [r for r in out if r]


def _whole(x: float | None) -> str:
    return "not given" if x is None else f"{x:.0f}"


def _drugs(readings: dict[str, Flag], p: Profile) -> list[Reason]:
    out = []
    had = {n.lower() for n in p.had + p.refractory}
    refractory = {n.lower() for n in p.refractory}
    known = bool(had)
    excluded = readings.get("excluded_drugs")
    for name in (excluded.value if excluded else ()):
        if name.lower() in had:
            only_refractory = "refractor" in excluded.sentence.lower() and name.lower() not in refractory
            out.append(Reason("excluded_drugs", name, excluded.sentence, "check" if only_refractory else "conflict",
                              f"The study names {name} as a reason not to take part; you listed it."))
    required = readings.get("required_drugs")
    for name in (required.value if required else ()):
        if name.lower() not in had:
            out.append(Reason("required_drugs", name, required.sentence, "check",
                              f"The study asks for earlier {name}" +
                              ("; it is not in the treatments you listed." if known else ".")))
    return out


def fit(study: Study, readings: dict[str, Flag], profile: Profile) -> Fit | None:
    """The verdict for one study, or None when the person answered nothing."""
    if profile.is_empty():
        return None
    reasons: list[Reason] = []
    had = profile.topics()
    for key, (topic, words) in _THERAPY_FLAGS.items():
        flag = readings.get(key)
        if flag is not None:
            reasons.append(_therapy(flag, key, topic, words, profile, had))
    triple = readings.get("triple_class")
    if triple is not None and triple.value == "required" and not {"pi", "imid", "anti_cd38"} <= had:
        reasons.append(Reason("triple_class", triple.value, triple.sentence, "check",
                              "The study asks for earlier treatment with all three main drug classes "
                              "(a proteasome inhibitor, an immunomodulatory drug and an anti-CD38 antibody)."))
    for key, (kind, words) in _TRANSPLANT_FLAGS.items():
        flag = readings.get(key)
        if flag is not None:
            reasons.append(_transplant(flag, key, kind, words, profile))
    reasons += _numbers(readings, profile)
    reasons += _drugs(readings, profile)
    for key, (attr, words) in _DISEASE_FLAGS.items():
        flag = readings.get(key)
        if flag is None or flag.value not in ("excluded", "required"):
            continue
        answer = getattr(profile, attr)
        if answer is None:
            reasons.append(Reason(key, flag.value, flag.sentence, "check",
                                  f"The study {'does not take' if flag.value == 'excluded' else 'is for'} people with {words}."))
        elif answer == (flag.value == "excluded"):
            reasons.append(Reason(key, flag.value, flag.sentence, "conflict",
                                  f"The study {'does not take' if flag.value == 'excluded' else 'is for'} people with {words}; "
                                  f"you answered {'yes' if answer else 'no'}."))
    if profile.age is not None and not study.eligibility.admits_age(profile.age):
        reasons.append(Reason("age", profile.age, "", "conflict",
                              f"The study's age range ({_age_range(study)}) does not include {_whole(profile.age)}."))
    reasons = [r for r in reasons if r is not None]
    reasons.sort(key=lambda r: VERDICTS.index(r.status))
    verdict = reasons[0].status if reasons else "no_conflict"
    return Fit(verdict, tuple(reasons))


def _age_range(study: Study) -> str:
    lo, hi = study.eligibility.min_age_years, study.eligibility.max_age_years
    return f"{_whole(lo) if lo is not None else 'no minimum'} to {_whole(hi) if hi is not None else 'no maximum'}"
