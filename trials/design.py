"""Design facts a patient weighs, in plain words, each with where in the record it comes from.

* randomized or not: the record's ``designInfo.allocation``;
* what the study compares against: its comparator arms (``ACTIVE_COMPARATOR``, ``PLACEBO_COMPARATOR``,
  ``SHAM_COMPARATOR``, ``NO_INTERVENTION``) and their interventions;
* first-in-human, dose escalation, a hospital stay, staying near the centre: rules over the record's
  own sentences (titles, summary, description, arms, interventions, criteria). Each rule is a row of
  ``RULES`` (its name, the fact it gives, where it looks, its pattern), and every fact carries the
  rule and the sentence that made it, so the words shown, the test of a rule and its hit count come
  from one table.

Pure and tolerant: any field may be missing; a record that says nothing gives no fact, never a guess.
Record text is returned as text: callers escape it for Markdown (words.md_escape) and the export
neutralises it for spreadsheets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .criteria import items, sentences
from .model import Study

__all__ = ["DesignFact", "Rule", "RULES", "design_facts", "design_in_words", "design_json", "design_columns",
           "DESIGN_COLUMNS", "comparator_text"]

MAX_QUOTE = 300  # characters of a record sentence quoted on a card


@dataclass(frozen=True)
class DesignFact:
    key: str  # randomized, comparator, first_in_human, dose_escalation, hospital_stay, stay_near_centre
    words: str  # plain words for a patient
    source: str  # the record sentence it was read from, or the record field ("allocation: RANDOMIZED")
    rule: str = ""  # the RULES row that found it ("" for facts read from a structured field)


# --- facts from structured fields --------------------------------------------------------------

_TYPE_PREFIX = re.compile(r"^(?:Drug|Device|Biological|Procedure|Radiation|Behavioral|Genetic|Dietary Supplement|"
                          r"Combination Product|Diagnostic Test|Other):\s*", re.I)


def _strip_type(name: str) -> str:
    """'Drug: Bortezomib' -> 'Bortezomib' (arm groups prefix intervention names with their type)."""
    return _TYPE_PREFIX.sub("", name)


def comparator_text(study: Study) -> str:
    """What the comparator/control arms are: 'Arm B (Daratumumab, Bortezomib)'; '' when none."""
    out = []
    for arm in study.arm_groups:
        if not arm.is_comparator:
            continue
        label = arm.label.rstrip(": ").strip()
        drugs = ", ".join(dict.fromkeys(_strip_type(n) for n in arm.intervention_names))
        if arm.type == "NO_INTERVENTION" and not drugs:
            drugs = "no intervention"
        elif arm.type == "PLACEBO_COMPARATOR" and "placebo" not in (label + drugs).lower():
            drugs = f"placebo, {drugs}" if drugs else "placebo"
        out.append(f"{label} ({drugs})" if label and drugs else label or drugs or arm.description[:120])
    return "; ".join(dict.fromkeys(out))


ALLOCATION_WORDS = {
    "RANDOMIZED": (True, "Randomized: chance decides which group each person joins."),
    "NON_RANDOMIZED": (False, "Not randomized: people are put in groups without chance (for example by dose "
                              "level or by their disease)."),
    "NA": (False, "Not randomized: there is a single group, everyone gets the treatment being studied."),
}

COMPARATOR_WORDS = {  # arm type -> how its comparison reads
    "ACTIVE_COMPARATOR": "an existing treatment",
    "PLACEBO_COMPARATOR": "a placebo (a dummy treatment)",
    "SHAM_COMPARATOR": "a sham (a pretend procedure)",
    "NO_INTERVENTION": "no study treatment",
}


def _allocation(study: Study) -> list[DesignFact]:
    known = ALLOCATION_WORDS.get(study.allocation)
    return [DesignFact("randomized", known[1], f"allocation: {study.allocation}")] if known else []


def _comparators(study: Study) -> list[DesignFact]:
    out = []
    for arm in study.arm_groups:
        kind = COMPARATOR_WORDS.get(arm.type)
        if kind is None:
            continue
        drugs = ", ".join(dict.fromkeys(_strip_type(n) for n in arm.intervention_names if _strip_type(n)))
        label = arm.label.rstrip(": ").strip()
        what = f"{drugs} (group “{label}”)" if drugs and label else drugs or (f"group “{label}”" if label else "")
        words = f"Compared with {kind}: {what}." if what else f"Compared with {kind}."
        out.append(DesignFact("comparator", words, f"{arm.type}: {label or '(unnamed group)'}"
                              + (f" ({drugs})" if drugs else "")))
    return out


# --- facts from the record's sentences ---------------------------------------------------------

class Rule(NamedTuple):
    name: str
    key: str  # the fact it gives
    where: frozenset[str]  # parts of the record it reads (see _PARTS)
    pattern: re.Pattern
    needles: tuple[str, ...]  # lower-case literals every match holds one of: the regex runs only when one is there


TITLES = frozenset({"title", "official_title"})
DESCRIPTIONS = frozenset({"summary", "description", "arm", "intervention"})
CRITERIA_TO_MEET = frozenset({"inclusion", "other"})  # not exclusion: "no hospitalisation for infection" is history

_UNITS = r"(?:hours?|hrs?|minutes?|mins?|miles?|mi|kilomet(?:er|re)s?|km)"
_NUMBER = r"(?:\d{1,3}(?:[.,]\d)?|one|two|three|four|five|six|ten|an?)"
_CENTRE = (r"(?:(?:treatment|study|trial|investigational|clinical|treating|infusion|transplant|cancer|medical)\s+)?"
           r"(?:cent(?:er|re)|sites?|hospital|institution|clinic|facility|unit)")

FACT_WORDS = {
    "first_in_human": "First in humans: the treatment is being given to people for the first time.",
    "dose_escalation": "Dose finding: groups of participants get different doses, usually raised step by step "
                       "while safety is checked; early participants may get lower doses.",
    "hospital_stay": "A hospital stay is part of the study.",
    "stay_near_centre": "Participants must stay or live near the treatment centre for a time.",
}

RULES: tuple[Rule, ...] = (
    Rule("first in human (words)", "first_in_human", TITLES | DESCRIPTIONS,
         re.compile(r"\bfirst[- ]in[- ](?:human|man|patient)s?\b|\bfirst[- ]time[- ]in[- ]humans?\b"
                    r"|\bfirst (?:administration|use|dosing) (?:of \S+ )?(?:in|to) humans?\b", re.I),
         ("human", "in man", "in-man", "first in patient", "first-in-patient", "first in-patient", "first-in patient")),
    Rule("dose escalation in a title", "dose_escalation", TITLES,
         re.compile(r"\bdose[- ](?:escalation|escalating|finding)\b", re.I), ("escalat", "finding")),
    Rule("dose escalation study / part", "dose_escalation", DESCRIPTIONS,
         re.compile(r"\bdose[- ](?:escalation|escalating|finding)\s+(?:study|trial|phase|part|portion|stage|cohorts?|design)\b"
                    r"|\b(?:part|phase|stage)\s+(?:[1IA]|one)\b\W{0,3}\s*(?:\(\s*)?dose[- ]escalation\b"
                    r"|^dose[- ]escalation\b"
                    r"|\b3\s*\+\s*3\s+(?:design|dose[- ]escalation|cohorts?)\b", re.I), ("escalat", "finding", "+")),
    Rule("admitted to hospital / inpatient stay", "hospital_stay", DESCRIPTIONS | CRITERIA_TO_MEET,
         re.compile(r"\b(?:admitted|admission)\s+(?:to|in|into)\s+(?:the\s+)?hospital\b"
                    r"|\b(?:remain|stay)s?\s+(?:in\s+(?:the\s+)?hospital|hospitali[sz]ed|as\s+an?\s+inpatients?)\b"
                    r"|\bhospitali[sz](?:ed|ation)\s+(?:for|during|after|following|throughout)\s+(?:the\s+|each\s+|at\s+least\s+)?"
                    r"(?:step[- ]?up|first|initial|\d|one|two|three|infusion|dosing|dose|observation|monitoring|treatment)"
                    r"|\binpatient\s+(?:stay|admission|hospitali[sz]ation|monitoring|observation|setting|dosing|treatment)\b",
                    re.I), ("hospital", "inpatient")),
    Rule("stay within a distance or time of the centre", "stay_near_centre", DESCRIPTIONS | CRITERIA_TO_MEET,
         re.compile(rf"\b(?:stay|remain|reside|live|living|be)\s+(?:\w+\s+){{0,3}}?within\s+(?:approximately\s+|about\s+)?"
                    rf"{_NUMBER}[- ]?(?:to[- ]{_NUMBER}[- ]?)?{_UNITS}\b[^.;]{{0,60}}?\b{_CENTRE}"
                    rf"|\b(?:proximity|close)\s+to\s+(?:the\s+)?{_CENTRE}"
                    rf"|\b(?:stay|remain|reside|live)\s+(?:near|close\s+to|in\s+the\s+(?:vicinity|area)\s+of)\s+(?:the\s+)?{_CENTRE}",
                    re.I), ("within", "proximity", "close", "near", "vicinity", "area")),
    Rule("living too far from the centre excludes", "stay_near_centre", frozenset({"exclusion"}),
         re.compile(rf"\b(?:live|lives|living|reside|resides|residing|residence)\s+(?:\w+\s+){{0,2}}?"
                    rf"(?:more\s+than|over|greater\s+than|farther\s+than|further\s+than|beyond|>)\s*{_NUMBER}[- ]?{_UNITS}\b"
                    rf"[^.;]{{0,60}}?\b{_CENTRE}", re.I), ("liv", "resid")),
)


_CRITERIA_RULES = tuple(r for r in RULES if r.where & {"inclusion", "exclusion", "other"})


def _paragraph_sentences(text: str) -> list[str]:
    """Sentences of free text whose lines are wrapped (classic records indent every line)."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text or ""):
        flat = " ".join(paragraph.split())
        if flat:
            out.extend(sentences(flat))
    return out


def _parts(study: Study) -> Iterable[tuple[str, str]]:
    """(part, sentence) of the record, in reading order."""
    for part, text in (("title", study.brief_title), ("official_title", study.official_title)):
        if text:
            yield part, text
    for part, text in (("summary", study.brief_summary), ("description", study.detailed_description)):
        for s in _paragraph_sentences(text):
            yield part, s
    for arm in study.arm_groups:
        for s in _paragraph_sentences(f"{arm.label}. {arm.description}" if arm.description else arm.label):
            yield "arm", s
    for intervention in study.interventions:
        for s in _paragraph_sentences(intervention.description):
            yield "intervention", s
    criteria = " ".join(study.eligibility.criteria.split())
    low = criteria.lower()
    if any(_could_match(rule, criteria, low) and rule.pattern.search(criteria) for rule in _CRITERIA_RULES):
        # (a sentence's match is a match in the whole text: splitting it is worth it only then)
        for section, item in items(study.eligibility.criteria):
            for s in sentences(" ".join(item.split())):
                yield section, s


def _quote(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_QUOTE else sentence[:MAX_QUOTE].rsplit(" ", 1)[0] + " …"


def _could_match(rule: Rule, sentence: str, low: str) -> bool:
    # re.IGNORECASE also folds a few non-ASCII letters onto ASCII ones (the long s): those texts go to the regex
    return not sentence.isascii() or any(n in low for n in rule.needles)


def _from_sentences(study: Study) -> list[DesignFact]:
    found: dict[str, DesignFact] = {}
    for part, sentence in _parts(study):
        low = sentence.lower()
        for rule in RULES:
            if (rule.key not in found and part in rule.where and _could_match(rule, sentence, low)
                    and rule.pattern.search(sentence)):
                found[rule.key] = DesignFact(rule.key, FACT_WORDS[rule.key], _quote(sentence), rule.name)
    return [found[key] for key in FACT_WORDS if key in found]


# --- what callers use --------------------------------------------------------------------------

def design_facts(study: Study) -> tuple[DesignFact, ...]:
    """Every design fact the record states, in a fixed order; none for what it doesn't say.
    Computed once per record version (trials.annotate; the study store keeps them)."""
    return (*_allocation(study), *_comparators(study), *_from_sentences(study))


def design_in_words(facts: Iterable[DesignFact]) -> list[str]:
    """One plain line per fact, for a study's card; record sentences are quoted with where they come from."""
    return [f"{f.words} The record says: “{f.source}”" if f.rule else f.words for f in facts]


def design_json(facts: Iterable[DesignFact]) -> list[dict[str, str]]:
    """The facts for the CLI's JSON lines: fact, words, source (sentence or field), rule ("" for a field)."""
    return [{"fact": f.key, "words": f.words, "source": f.source, "rule": f.rule} for f in facts]


#: Export columns (one row per study) and their meanings.
DESIGN_COLUMNS: dict[str, str] = {
    "first_in_human": "TRUE when the record says the treatment is given to people for the first time "
                      "(first-in-human); FALSE when it doesn't say so",
    "dose_escalation": "TRUE when the record describes a dose-escalation (or dose-finding) study or part; "
                       "FALSE when it doesn't say so",
    "hospital_stay": "the record's sentence saying participants stay in hospital (e.g. for step-up dosing); "
                     "empty when it says nothing",
    "stay_near_centre": "the record's sentence asking participants to stay or live near the treatment centre "
                        "(e.g. within 2 hours for 4 weeks); empty when it says nothing",
}


def design_columns(facts: Iterable[DesignFact]) -> dict[str, object]:
    """DESIGN_COLUMNS of one study from its facts (`design_facts`)."""
    facts = {f.key: f for f in facts}
    return {"first_in_human": "first_in_human" in facts, "dose_escalation": "dose_escalation" in facts,
            "hospital_stay": facts["hospital_stay"].source if "hospital_stay" in facts else "",
            "stay_near_centre": facts["stay_near_centre"].source if "stay_near_centre" in facts else ""}
