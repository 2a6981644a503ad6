"""Everything the patient app decides, as pure functions (no streamlit here).

app.py draws widgets and calls these: relapse timing (early / late / unknown), the guidance panel
that follows the patient article, filters and the counts of what they hide, grouping by therapy
family, plain-language words for phases, statuses, designs and sites, the shareable-link
parameters, and an escape for record text shown through Markdown.

Record text comes from third parties: it is always passed through ``md_escape`` (or shown in a
table) so a record can never render a link, an image or HTML in the app.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import string
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Hashable, Iterable, Mapping, TypeVar

from .annotate import Annotated, comparator_text, is_stale
from .classify import Classification
from .vocabulary import FAMILIES, SETTINGS
from .eligibility import Flag
from .fit import Fit, Profile, fit, parse_transplants, resolve_treatments
from .errors import BadInput
from .geo import (BY_CITY, BY_ZIP, DISTANCE_UNKNOWN, KM_PER_MILE, OUTSIDE, NearestSite, Place, nearest_site,
                  open_sites_only, reach, site_point, sites_by_distance)
from .model import Contact, Site, Study
from .query import NCT_ID, PHASES, STATUSES

EARLY_MONTHS = 24  # the article: early = back within two years of remission, late = after more
EARLIEST_DATE = dt.date(1950, 1, 1)  # oldest remission/relapse date the app (widgets and links) accepts

# --- escaping record text ----------------------------------------------------------------------

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_WS = re.compile(r"\s+")
_AUTOLINK = re.compile(r"(https?://|www\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"  # invisible; stops GFM autolinks (see md_escape)


def md_escape(text: str, *, limit: int | None = None) -> str:
    """Record text made inert for st.markdown: every ASCII punctuation mark is backslash-escaped
    (CommonMark renders an escaped mark as itself), whitespace is collapsed to single spaces, and
    an invisible word joiner goes before URLs, www. addresses and "@", so no link, image, autolink,
    e-mail link, HTML tag, heading, list, table or maths can come out of it."""
    text = _WS.sub(" ", str(text or "")).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    # Streamlit's renderer (GFM) turns bare URLs, www. addresses and e-mail addresses into links in
    # the text left after unescaping, so backslashes can't stop those: an invisible word joiner
    # right before them (and before "@") does, as they must start after a space or a punctuation mark
    text = _AUTOLINK.sub(WORD_JOINER + r"\1", text).replace("@", WORD_JOINER + "@")
    return _PUNCT.sub(r"\\\1", text)


def safe_url(study: Study) -> str:
    """The study's ClinicalTrials.gov page, only when its NCT id has the official shape."""
    return study.url if NCT_ID.match(study.nct_id or "") else ""


# --- relapse timing ----------------------------------------------------------------------------

TIMINGS = ("early", "late", "unknown")


def timing_from_months(months: float | None) -> str:
    """Length of the last remission in months -> 'early' (< 24), 'late' (>= 24) or 'unknown'."""
    if months is None or isinstance(months, bool):
        return "unknown"
    try:
        months = float(months)
    except (TypeError, ValueError):
        return "unknown"
    if not math.isfinite(months) or months < 0:
        return "unknown"
    return "early" if months < EARLY_MONTHS else "late"


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from start to end: 2022-01-01 -> 2024-01-01 is 24, and one day less
    (2023-12-31) is 23. A month counts once its day of the month is reached (dateutil's rule), so
    2020-02-29 -> 2022-02-28 is 23 and -> 2022-03-01 is 24. Counting days / 30.44 instead made
    exactly two years 23.98 months ("early")."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months - 1 if end.day < start.day else months


def remission_months(remission_start: dt.date | None, relapse: dt.date | None,
                     today: dt.date | None = None) -> float | None:
    """Whole calendar months from the start of the remission to the relapse; None if a date is
    missing.

    Raises BadInput (with a message for the person) when the dates can't both be right."""
    if remission_start is None or relapse is None:
        return None
    today = today or dt.date.today()
    if remission_start < EARLIEST_DATE or relapse < EARLIEST_DATE:
        raise BadInput(f"A date is before {EARLIEST_DATE.year}. Please check the remission and relapse dates.")
    if remission_start > today or relapse > today:
        raise BadInput("A date is in the future. Please check the remission and relapse dates.")
    if relapse < remission_start:
        raise BadInput("The relapse date is before the remission started. Please check the two dates.")
    return months_between(remission_start, relapse)


def relapse_timing(*, months: float | None = None, remission_start: dt.date | None = None,
                   relapse: dt.date | None = None, today: dt.date | None = None) -> str:
    """'early' / 'late' / 'unknown' from months, else from the two dates; bad dates -> BadInput."""
    if months is not None:
        return timing_from_months(months)
    return timing_from_months(remission_months(remission_start, relapse, today))


TIMING_WORDS = {
    "early": "Early relapse: the last remission lasted less than two years (under 24 months).",
    "late": "Late relapse: the last remission lasted two years or more (24 months or more).",
    "unknown": "Relapse timing not given.",
}


# --- guidance (follows the patient article, paraphrased) -------------------------------------

GUIDANCE_SOURCE = "Source: the patient article on early vs late relapse this tool follows."
DISCLAIMER = ("This is information to talk over with your care team. It is not medical advice, "
              "and this tool cannot say which treatment or study is right for anyone.")


@dataclass(frozen=True)
class Guidance:
    timing: str
    title: str
    intro: str
    points: tuple[str, ...]
    families: tuple[str, ...]  # families the article brings up, in the order it does
    source: str = GUIDANCE_SOURCE
    disclaimer: str = DISCLAIMER


_GUIDANCE = {
    "early": Guidance(
        "early",
        "Early relapse (the last remission lasted under two years)",
        "The article explains that myeloma returning within about two years can mean it has become "
        "less sensitive to the treatment used before, so repeating that treatment may help less. "
        "Care teams commonly bring up treatments that work in a different way:",
        ("switching to newer drugs that were not part of the earlier treatment",
         "CAR T-cell therapy",
         "bispecific antibodies",
         "anti-CD38 antibodies such as daratumumab, if not used before",
         "in some cases a stem cell transplant",
         "clinical trials, which give access to treatments still being studied"),
        ("car_t", "bispecific", "anti_cd38", "targeted_therapy", "proteasome_inhibitor", "stem_cell_transplant"),
    ),
    "late": Guidance(
        "late",
        "Late relapse (the last remission lasted two years or more)",
        "The article explains that myeloma returning after more than two years tends to behave "
        "less aggressively, and a treatment that worked before may work again. Care teams "
        "commonly bring up:",
        ("treatment similar to what worked the first time",
         "newer immunomodulatory drugs such as pomalidomide",
         "antibody-based treatments",
         "a stem cell transplant for people fit enough, especially if they have not had one",
         "clinical trials of newer treatments"),
        ("immunomodulatory", "anti_cd38", "other_antibody", "stem_cell_transplant", "proteasome_inhibitor"),
    ),
    "unknown": Guidance(
        "unknown",
        "Early or late relapse?",
        "The article sorts a relapse by how long the last remission lasted: early means within "
        "about two years, late means after more than two years, and the options it describes "
        "differ between the two. If you are not sure, the care team can tell you. Give the months "
        "or the two dates above to see which therapy families the article brings up.",
        (),
        (),
    ),
}


def guidance(timing: str) -> Guidance:
    return _GUIDANCE.get(timing, _GUIDANCE["unknown"])


def family_order(timing: str) -> list[str]:
    """Every family: those the guidance brings up first (in its order), then the taxonomy's
    order, 'unclassified' last. Ordering only: nothing is left out."""
    first = [f for f in guidance(timing).families if f in FAMILIES]
    rest = [f for f in FAMILIES if f not in first and f != "unclassified"]
    return first + rest + (["unclassified"] if "unclassified" in FAMILIES else [])


# --- plain words -------------------------------------------------------------------------------

PHASE_EXPLAINED = {
    "EARLY_PHASE1": "Early phase 1: a very small first look at a treatment in people.",
    "PHASE1": "Phase 1: a first test in people, mainly about safety and the right dose; usually small.",
    "PHASE2": "Phase 2: checks whether the treatment works and what its side effects are, in more people.",
    "PHASE3": "Phase 3: compares the treatment with a standard one in many people; often randomized.",
    "PHASE4": "Phase 4: studies an approved treatment in everyday use.",
    "NA": "No phase: not a drug study in phases (for example a test, a device or a care study).",
}

_STATUS_ICON = {
    "RECRUITING": "✅", "NOT_YET_RECRUITING": "⏳", "ENROLLING_BY_INVITATION": "✉️",
    "ACTIVE_NOT_RECRUITING": "⏸️", "SUSPENDED": "⏸️", "TERMINATED": "⛔", "WITHDRAWN": "⛔",
    "COMPLETED": "🏁", "AVAILABLE": "✅", "NO_LONGER_AVAILABLE": "⛔", "TEMPORARILY_NOT_AVAILABLE": "⏸️",
    "APPROVED_FOR_MARKETING": "🏁", "WITHHELD": "❔", "UNKNOWN": "❔",
}
_STATUS_MEANING = {
    "RECRUITING": "open to new participants",
    "NOT_YET_RECRUITING": "not open to participants yet",
    "ENROLLING_BY_INVITATION": "only people invited by the study team can join",
    "ACTIVE_NOT_RECRUITING": "running, but taking no new participants",
    "SUSPENDED": "paused, taking no new participants",
    "TERMINATED": "stopped early",
    "WITHDRAWN": "stopped before anyone joined",
    "COMPLETED": "finished",
    "UNKNOWN": "the registry has not heard from the study in a long time",
}


def phase_words(phases: Iterable[str]) -> str:
    """('PHASE1', 'PHASE2') -> 'Phase 1 and Phase 2'; nothing -> 'Phase not given'."""
    words = [PHASES.get(p, p.replace("_", " ").title()) for p in phases or ()]
    words = ["No phase (not a drug study)" if w == "Not applicable" else w for w in words]
    if not words:
        return "Phase not given"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def status_words(status: str) -> str:
    """Icon AND words (never colour alone): '✅ Recruiting — open to new participants'."""
    label = STATUSES.get(status, status.replace("_", " ").capitalize() if status else "Status not given")
    icon = _STATUS_ICON.get(status, "❔")
    meaning = _STATUS_MEANING.get(status)
    return f"{icon} {label}" + (f" — {meaning}" if meaning else "")


def site_status_words(status: str) -> str:
    if not status:
        return "❔ Status not given"
    return f"{_STATUS_ICON.get(status, '❔')} {STATUSES.get(status, status.replace('_', ' ').capitalize())}"


APPROXIMATE = {BY_ZIP: "from the site's ZIP code", BY_CITY: "from the site's city centre"}


def distance_words(miles: float | None, unit: str = "mi", basis: str = "") -> str:
    """'about 12 miles', 'about 12 miles (from the site's ZIP code)' when approximate."""
    if miles is None:
        return DISTANCE_UNKNOWN
    shown = f"about {miles * KM_PER_MILE:,.0f} km" if unit == "km" else f"about {miles:,.0f} miles"
    return f"{shown} ({APPROXIMATE[basis]})" if basis in APPROXIMATE else shown


def place_words(site: Site) -> str:
    return ", ".join(p for p in (site.facility, site.city, site.state, site.country) if p) or "site not named"


def design_words(study: Study) -> str:
    """Randomized or not, and what the comparator is, in words."""
    comp = comparator_text(study)
    if study.allocation == "RANDOMIZED":
        base = "Randomized: chance decides which group each participant joins."
        return f"{base} Compared with: {comp}." if comp else f"{base} No comparator group is named in the record."
    if study.allocation == "NON_RANDOMIZED":
        base = "Not randomized: participants are put in groups without chance (for example by dose level)."
        return f"{base} Comparison group: {comp}." if comp else base
    if len(study.arm_groups) <= 1:
        return "Not randomized: everyone in the study gets the treatment being studied."
    return "Not randomized."


def updated_words(study: Study) -> str:
    bits = []
    if study.last_update_posted:
        bits.append(f"Last updated {study.last_update_posted}")
    if study.status_verified:
        bits.append(f"status last checked {study.status_verified}")
    return ", ".join(bits) if bits else "Date of last update not given"


STALE_BADGE = "⚠️ Status not verified for over 12 months: check with the study team that it is still current."
UNDATED_BADGE = "ℹ️ This copy of the record does not say when its status was last checked: confirm with the study team."


def stale_badge(study: Study, today: dt.date | None = None) -> str:
    stale = is_stale(study, today)
    return STALE_BADGE if stale else (UNDATED_BADGE if stale is None else "")


NOT_ONLY_MYELOMA = "Not only for myeloma"
NOT_ONLY_MYELOMA_EXPLAINED = (
    "🧩 Not only for myeloma: the study also enrols people with other diseases, for example several blood cancers "
    "(lymphoma, leukaemia) or advanced cancers, usually in separate groups (cohorts). It is shown when its myeloma "
    "group fits; the criteria say which group a person could join.")


def not_only_myeloma_badge(c: Classification) -> str:
    """'🧩 Not only for myeloma: this study also enrols people with other blood cancers.' ('' when only myeloma)."""
    if c.myeloma_only or not c.also_enrols:
        return ""  # a study of another disease says so in its patient group instead
    return f"🧩 {NOT_ONLY_MYELOMA}: this study also enrols people with {c.also_enrols}."


# --- "my previous treatments" ------------------------------------------------------------------

@dataclass(frozen=True)
class PriorTreatment:
    key: str
    flag: str
    label: str  # as in "people who had ..."


PRIOR_TREATMENTS: dict[str, PriorTreatment] = {p.key: p for p in (
    PriorTreatment("car_t", "prior_car_t", "CAR T-cell therapy"),
    PriorTreatment("bcma", "prior_bcma", "a BCMA-directed therapy"),
    PriorTreatment("bispecific", "prior_bispecific", "a bispecific antibody"),
    PriorTreatment("anti_cd38", "prior_anti_cd38", "an anti-CD38 antibody (such as daratumumab)"),
    PriorTreatment("triple_class", "triple_class",
                   "triple-class exposure (a proteasome inhibitor, an immunomodulatory drug and an anti-CD38 antibody)"),
)}
FLAG_LABELS = {p.flag: p.label[0].upper() + p.label[1:] for p in PRIOR_TREATMENTS.values()}
FLAG_VALUE_WORDS = {
    "required": "Required: the study is for people who already had this",
    "excluded": "Excluded: people who had this cannot join",
    "allowed": "Allowed: people who had this can join",
    "not_mentioned": "Not mentioned in the criteria",
}


# what a ticked kind of treatment means to the eligibility reader (a class word it understands)
_PRIOR_WORDS = {"car_t": ("CAR T",), "bcma": ("BCMA",), "bispecific": ("bispecific",), "anti_cd38": ("anti-CD38",),
                "triple_class": ("proteasome inhibitor", "immunomodulatory drug", "anti-CD38")}


def required_for(flags: Mapping[str, Flag]) -> tuple[str, ...]:
    """Previous treatments the study is made for (criteria require them)."""
    return tuple(k for k, p in PRIOR_TREATMENTS.items() if getattr(flags.get(p.flag), "value", None) == "required")


def made_for_badge(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        return ""
    return "🎯 Made for people who already had " + _join(PRIOR_TREATMENTS[k].label for k in keys)


def _join(words: Iterable[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


CRITERIA_LABELS = {  # every reading of the criteria, in plain words (eligibility.KEYS)
    **FLAG_LABELS,
    "prior_gprc5d": "A GPRC5D-targeted therapy (such as talquetamab)",
    "prior_autologous_transplant": "A transplant of your own stem cells (autologous)",
    "prior_allogeneic_transplant": "A donor stem cell transplant (allogeneic)",
    "min_prior_lines": "Fewest earlier lines of treatment",
    "max_prior_lines": "Most earlier lines of treatment",
    "min_creatinine_clearance": "Lowest kidney function (creatinine clearance, mL/min)",
    "max_ecog": "Highest ECOG performance status (0 = fully active … 4 = in bed all day)",
    "cns_involvement": "Myeloma in the brain or spinal cord (CNS)",
    "plasma_cell_leukemia": "Plasma cell leukaemia",
    "amyloidosis": "AL amyloidosis",
    "measurable_disease": "Measurable disease (levels the study can follow in blood or urine)",
    "required_drugs": "Drugs the criteria ask you to have had",
    "excluded_drugs": "Drugs whose earlier use the criteria name as a reason not to take part",
}
_DISEASE_VALUE_WORDS = {"required": "Required: the study is for people with this",
                        "excluded": "Excluded: people with this cannot join", "allowed": "Allowed",
                        "not_mentioned": "Not mentioned in the criteria"}


def _reading_words(key: str, value) -> str:
    if key in ("cns_involvement", "plasma_cell_leukemia", "amyloidosis", "measurable_disease"):
        return _DISEASE_VALUE_WORDS.get(value, str(value))
    if isinstance(value, (tuple, list)):
        return ", ".join(value) if value else "None named"
    if value is None:
        return "Not stated"
    if isinstance(value, int):
        return str(value)
    return FLAG_VALUE_WORDS.get(value, str(value))


def flag_rows(flags: Mapping[str, Flag]) -> list[dict[str, str]]:
    """One row per reading of the criteria: what, the reading, and the sentence that decided it."""
    rows = []
    for key, label in CRITERIA_LABELS.items():
        f = flags.get(key)
        value = getattr(f, "value", None)
        rows.append({
            "Criterion": label,
            "What the criteria say": _reading_words(key, "not_mentioned" if value is None and key in FLAG_LABELS
                                                    else value),
            "Deciding sentence": getattr(f, "sentence", "") or "",
            "Condition": getattr(f, "condition", "") or "",
        })
    return rows


# --- filters -----------------------------------------------------------------------------------

RADIUS_CHOICES = ("anywhere", "10", "25", "50", "100", "250", "500")
UNITS = {"mi": "miles", "km": "km"}
SEXES = {"": "Any", "FEMALE": "Female", "MALE": "Male"}
DEFAULT_SETTINGS = ("relapsed_refractory", "mixed")
DEFAULT_STATUSES = ("RECRUITING",)


@dataclass(frozen=True)
class Filters:
    months: float | None = None
    remission_start: dt.date | None = None
    relapse: dt.date | None = None
    place: str = ""
    radius: str = "anywhere"  # one of RADIUS_CHOICES or another number
    unit: str = "mi"
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    phases: tuple[str, ...] = ()  # empty = every phase
    age: int | None = None
    sex: str = ""
    families: tuple[str, ...] = ()  # empty = every family
    settings: tuple[str, ...] = DEFAULT_SETTINGS
    prior: tuple[str, ...] = ()  # kinds of treatment ticked (PRIOR_TREATMENTS)
    # "About your treatment so far": every answer optional; in the link only with share_answers
    lines: int | None = None
    had: tuple[str, ...] = ()  # drugs had, canonical names (fit.resolve_treatments)
    refractory: tuple[str, ...] = ()
    transplant: str = ""  # "", "none", "auto", "allo", "auto,allo"
    transplant_months: float | None = None
    crcl: int | None = None
    ecog: int | None = None
    cns: str = ""  # "", "yes", "no"
    pcl: str = ""
    amyloidosis: str = ""
    share_answers: bool = False
    study: str = ""

    def with_(self, **changes) -> "Filters":
        return replace(self, **changes)

    def radius_miles(self) -> float | None:
        """Miles, or None for no limit. BadInput for a distance parse_radius refuses."""
        from .geo import parse_radius

        if self.radius in ("", "anywhere"):
            return None
        return parse_radius(f"{self.radius} {self.unit}")


ECOG_WORDS = {  # asked in plain words; the number is the ECOG performance status
    0: "Fully active, no restrictions",
    1: "Up and about, able to do light work; strenuous activity is hard",
    2: "Up and about more than half the day, able to care for myself, not able to work",
    3: "In bed or a chair more than half the day; limited self-care",
    4: "In bed or a chair all day; need help with self-care",
}
YES_NO = {"": "Don't know", "yes": "Yes", "no": "No"}
TRANSPLANTS = {"": "Don't know / rather not say", "none": "No transplant", "auto": "With my own stem cells (autologous)",
               "allo": "With a donor's stem cells (allogeneic)", "auto,allo": "Both"}
HISTORY_FIELDS = ("lines", "had", "refractory", "transplant", "transplant_months", "crcl", "ecog", "cns", "pcl",
                  "amyloidosis")


def profile_of(f: Filters) -> Profile | None:
    """The person's answers as a fit.Profile (ticked kinds of treatment count as had), or None."""
    had = f.had + tuple(w for k in f.prior for w in _PRIOR_WORDS.get(k, ()))
    profile = Profile(
        lines=f.lines, had=had, refractory=f.refractory,
        transplants=parse_transplants(f.transplant) if f.transplant else None,
        transplant_months=f.transplant_months, age=f.age, crcl=f.crcl, ecog=f.ecog,
        cns={"yes": True, "no": False}.get(f.cns), pcl={"yes": True, "no": False}.get(f.pcl),
        amyloidosis={"yes": True, "no": False}.get(f.amyloidosis))
    # age alone is a filter of its own, not a history
    return None if profile.is_empty() or profile == Profile(age=f.age) else profile


def fit_for(study: Study, flags: Mapping[str, Flag], f: Filters) -> Fit | None:
    profile = profile_of(f)
    return fit(study, dict(flags), profile) if profile is not None else None


VERDICT_WORDS = {
    "conflict": "⚠️ Something you told us conflicts with a criterion of this study",
    "check": "❓ Things to ask your care team about",
    "no_conflict": "✅ Nothing in the criteria we could read conflicts with your answers",
}


def fit_lines(result: Fit | None, limit: int = 6) -> list[str]:
    """The verdict heading, then one line per reason (what the study says), conflicts first."""
    if result is None:
        return []
    out = [VERDICT_WORDS[result.verdict]]
    out += [("⚠️ " if r.status == "conflict" else "❓ ") + r.says for r in result.reasons[:limit]]
    if len(result.reasons) > limit:
        out.append(f"… and {len(result.reasons) - limit} more (see the details).")
    return out


def fit_rows(result: Fit | None) -> list[dict[str, str]]:
    """Every reason with the criterion sentence it rests on (the study record's own words)."""
    if result is None:
        return []
    return [{"": "Conflict" if r.status == "conflict" else "Ask", "What the study says": r.says,
             "From the criteria": r.sentence} for r in result.reasons]


def _csv(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return [p.strip() for p in str(value or "").split(",") if p.strip()]


def _shown(value) -> str:
    text = _WS.sub(" ", str(value))
    return text[:40] + ("…" if len(text) > 40 else "")


def _number_between(text: str, low: float, high: float) -> float | None:
    """The number written, if it is a finite one within [low, high]; else None ("inf", "1e400", "nan")."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def filters_from_params(params: Mapping[str, object], today: dt.date | None = None) -> tuple[Filters, list[str]]:
    """Filters from a shared link's query parameters, and one notice per value ignored.

    Never raises: a value that can't be used keeps the default and says so."""
    today = today or dt.date.today()
    f = Filters()
    notes: list[str] = []

    def get(key: str) -> str | None:
        value = params.get(key)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        return None if value is None else str(value)

    def ignore(key: str, value, why: str) -> None:
        notes.append(f'Ignored "{key}={_shown(value)}" in the link: {why}')

    if (v := get("months")) is not None:
        if (months := _number_between(v, 0, 600)) is None:
            ignore("months", v, "not a number of months between 0 and 600.")
        else:
            f = f.with_(months=round(months, 1))
    dates = {}
    for key in ("remission", "relapse"):
        if (v := get(key)) is not None:
            try:
                day = dt.date.fromisoformat(v.strip())
            except ValueError:
                ignore(key, v, "not a date written YYYY-MM-DD.")
                continue
            # the same bounds as the date inputs: a date they can't show must not vanish silently
            if day < EARLIEST_DATE:
                ignore(key, v, f"before {EARLIEST_DATE.isoformat()}, the earliest date this app takes.")
            elif day > today:
                ignore(key, v, "a date in the future.")
            else:
                dates[key] = day
    if dates:
        try:
            remission_months(dates.get("remission"), dates.get("relapse"), today)
            f = f.with_(remission_start=dates.get("remission"), relapse=dates.get("relapse"))
        except BadInput as e:
            notes.append(f"Ignored the dates in the link: {e}")
    if (v := get("place")) is not None:
        f = f.with_(place=_WS.sub(" ", v).strip()[:200])
    if (v := get("unit")) is not None:
        if v in UNITS:
            f = f.with_(unit=v)
        else:
            ignore("unit", v, 'use "mi" or "km".')
    if (v := get("radius")) is not None:
        v = v.strip().lower()
        try:
            if v not in ("anywhere", ""):
                float(v)
                replace(f, radius=v).radius_miles()
            f = f.with_(radius=v or "anywhere")
        except (ValueError, BadInput) as e:
            ignore("radius", v, str(e) if isinstance(e, BadInput) else "not a distance.")
    for key, attr, known in (("status", "statuses", STATUSES), ("phase", "phases", PHASES),
                             ("family", "families", FAMILIES), ("setting", "settings", SETTINGS),
                             ("prior", "prior", PRIOR_TREATMENTS)):
        if (v := get(key)) is None:
            continue
        good = [p for p in _csv(v) if p in known]
        bad = [p for p in _csv(v) if p not in known]
        if bad:
            ignore(key, ",".join(bad), "not a value this app knows.")
        if good or not bad:
            if key == "status" and not good:
                continue  # an empty status list would mean "every status": keep the default
            f = f.with_(**{attr: tuple(dict.fromkeys(good))})
    if (v := get("age")) is not None:
        if (age := _number_between(v, 0, 120)) is None:
            ignore("age", v, "not an age between 0 and 120.")
        else:
            f = f.with_(age=int(age))
    if (v := get("sex")) is not None:
        if v.upper() in ("FEMALE", "MALE"):
            f = f.with_(sex=v.upper())
        elif v:
            ignore("sex", v, 'use "female" or "male".')
    if (get("answers") or "").lower() in ("1", "true", "yes", "on"):
        f, history_notes = _history_from_params(f, get)
        notes += history_notes
    if (v := get("study")) is not None:
        if NCT_ID.match(v.strip().upper()):
            f = f.with_(study=v.strip().upper())
        else:
            ignore("study", v, "not an NCT number (NCT and 8 digits).")
    return f, notes


def _history_from_params(f: Filters, get) -> tuple[Filters, list[str]]:
    """The answers about treatment a link carries (only links made with "include my answers")."""
    notes: list[str] = []
    changes: dict = {"share_answers": True}

    def number(key: str, low: float, high: float, whole: bool):
        v = get(key)
        if v is None:
            return None
        try:
            x = float(v)
            if not (math.isfinite(x) and low <= x <= high) or (whole and x != int(x)):
                raise ValueError
            return int(x) if whole else x
        except (ValueError, OverflowError):
            notes.append(f'Ignored "{key}={_shown(v)}" in the link: not a number from {low:g} to {high:g}.')
            return None

    changes.update(lines=number("lines", 0, 30, True), transplant_months=number("transplant_months", 0, 600, False),
                   crcl=number("crcl", 0, 300, True), ecog=number("ecog", 0, 4, True))
    for key in ("had", "refractory"):
        if (v := get(key)) is not None:
            names = []
            for part in _csv(v):
                try:
                    names += resolve_treatments([part])
                except BadInput as e:
                    notes.append(f'Ignored "{key}={_shown(part)}" in the link: {e}')
            changes[key] = tuple(dict.fromkeys(names))
    if (v := get("transplant")) is not None:
        if v in TRANSPLANTS:
            changes["transplant"] = v
        else:
            notes.append(f'Ignored "transplant={_shown(v)}" in the link: use none, auto, allo or auto,allo.')
    for key in ("cns", "pcl", "amyloidosis"):
        if (v := get(key)) is not None:
            if v.lower() in YES_NO:
                changes[key] = v.lower()
            else:
                notes.append(f'Ignored "{key}={_shown(v)}" in the link: use yes or no.')
    return f.with_(**{k: v for k, v in changes.items() if v is not None}), notes


def filters_to_params(f: Filters) -> dict[str, str]:
    """Query parameters that restore these filters; defaults are left out to keep links short."""
    d = Filters()
    out: dict[str, str] = {}
    if f.months is not None:
        out["months"] = f"{f.months:g}"
    elif f.remission_start and f.relapse:
        out["remission"] = f.remission_start.isoformat()
        out["relapse"] = f.relapse.isoformat()
    if f.place:
        out["place"] = f.place
    if f.radius not in ("", "anywhere"):
        out["radius"] = f.radius
    if f.unit != d.unit:
        out["unit"] = f.unit
    for key, attr in (("status", "statuses"), ("phase", "phases"), ("family", "families"),
                      ("setting", "settings"), ("prior", "prior")):
        value = getattr(f, attr)
        if tuple(value) != tuple(getattr(d, attr)):
            out[key] = ",".join(value)
    if f.age is not None:
        out["age"] = str(f.age)
    if f.sex:
        out["sex"] = f.sex.lower()
    if f.share_answers:  # the answers about treatment travel only when the person asked for it
        out["answers"] = "1"
        for key in HISTORY_FIELDS:
            value = getattr(f, key)
            if value in (None, "", ()):
                continue
            out[key] = ",".join(value) if isinstance(value, tuple) else (f"{value:g}" if isinstance(value, float)
                                                                          else str(value))
    if f.study:
        out["study"] = f.study
    return out


def timing_of(f: Filters, today: dt.date | None = None) -> tuple[str, str]:
    """(timing, problem): the timing the inputs give, and a message when the dates don't add up."""
    if f.months is not None:
        return timing_from_months(f.months), ""
    try:
        return relapse_timing(remission_start=f.remission_start, relapse=f.relapse, today=today), ""
    except BadInput as e:
        return "unknown", str(e)


# --- the filtered view -------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    item: Annotated
    nearest: NearestSite | None  # nearest open site (recruiting; or listed, for studies not recruiting: geo.open_sites_only)
    made_for: tuple[str, ...]  # previous treatments the study requires
    fit: Fit | None = None  # the person's answers against the criteria (None without answers)

    @property
    def study(self) -> Study:
        return self.item.study

    @property
    def miles(self) -> float | None:
        return self.nearest.miles if self.nearest else None


@dataclass
class View:
    rows: list[Row]  # shown under their therapy families
    total: int  # studies answered by the source (after the status filter)
    maybe: list[Row] = field(default_factory=list)  # setting "unknown": the record doesn't say which patients
    distance_unknown: list[Row] = field(default_factory=list)  # no open site placed in or out of the circle
    conflicts: list[Row] = field(default_factory=list)  # a criterion conflicts with an answer: listed last
    hidden_setting: dict[str, int] = field(default_factory=dict)
    setting_counts: dict[str, int] = field(default_factory=dict)  # every setting, before that filter
    hidden_phase: int = 0
    hidden_age: int = 0
    hidden_sex: int = 0
    hidden_family: int = 0
    hidden_distance: int = 0
    place: Place | None = None
    miles: float | None = None

    @property
    def shown(self) -> list[Row]:
        """Every study on the page, whichever group it is in."""
        return self.rows + self.maybe + self.distance_unknown + self.conflicts

    def family_counts(self) -> dict[str, int]:
        counts = {f: 0 for f in FAMILIES}
        for r in self.shown:
            for fam in r.item.families:
                counts[fam] = counts.get(fam, 0) + 1
        return counts


def nearest_open_site(study: Study, place: Place | None) -> NearestSite | None:
    """Nearest site that counts as open, by the rule the command line uses too (geo.open_sites_only)."""
    return nearest_site(study, place, recruiting_only=open_sites_only(study))


def _sort_key(row: Row):
    s = row.study
    return (row.miles is None, row.miles or 0.0, s.overall_status != "RECRUITING",
            _neg_date(s.last_update_posted), s.nct_id)


def _neg_date(text: str) -> str:
    # newest first with an ascending sort: invert the digits of the ISO date
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in (text or "0000"))


def _reach(a: Annotated, place: Place | None, miles: float | None) -> str:
    """geo.reach for the study's open sites; "within" when there is no circle to be in."""
    if place is None or miles is None:
        return "within"
    return reach(a.study, place, miles, recruiting_only=open_sites_only(a.study))


def leaving_out(a: Annotated, f: Filters, place: Place | None = None, miles: float | None = None, *,
                where: str | None = None) -> list[str]:
    """The filters that leave this study out of the view, in the order build_view applies them.
    A setting the record doesn't state ("unknown") and a distance that can't be measured never leave
    a study out: those studies have groups of their own. `where`: _reach's answer, if known."""
    s = a.study
    checks = (
        ("status", lambda: bool(f.statuses) and s.overall_status not in f.statuses),
        ("setting", lambda: bool(f.settings) and a.setting != "unknown" and a.setting not in f.settings),
        ("phase", lambda: bool(f.phases) and not set(f.phases) & set(s.phases)),
        ("age", lambda: f.age is not None and not s.eligibility.admits_age(f.age)),
        ("sex", lambda: bool(f.sex) and not s.eligibility.admits_sex(f.sex)),
        ("family", lambda: bool(f.families) and not set(f.families) & set(a.families)),
        ("distance", lambda: (where or _reach(a, place, miles)) == OUTSIDE),
    )
    return [key for key, hides in checks if hides()]


def build_view(items: Iterable[Annotated], f: Filters, place: Place | None = None,
               miles: float | None = None) -> View:
    """Apply the filters in a fixed order, counting what each one hides.

    Distance: a study is within the radius when one of its open sites (a recruiting study's
    recruiting sites; for any other status, its listed sites) is, placed by geo.site_point (the
    record's coordinates, else the site's ZIP or city). A study none of whose open sites is within
    the radius but some of which can't be placed (or that lists none) is not hidden: it goes to
    View.distance_unknown ("call to ask"). Studies whose setting the record doesn't state go to
    View.maybe, whatever the patient-group choice."""
    items = list(items)
    statuses = set(f.statuses)
    items = [a for a in items if not statuses or a.study.overall_status in statuses]
    view = View([], len(items), place=place, miles=miles)
    for a in items:
        view.setting_counts[a.setting] = view.setting_counts.get(a.setting, 0) + 1
    profile = profile_of(f)
    unfiltered_status = f.with_(statuses=())  # already applied above, before the total
    for a in items:
        s = a.study
        where = _reach(a, place, miles)
        out = leaving_out(a, unfiltered_status, place, miles, where=where)
        if out:
            first = out[0]
            if first == "setting":
                view.hidden_setting[a.setting] = view.hidden_setting.get(a.setting, 0) + 1
            else:
                setattr(view, f"hidden_{first}", getattr(view, f"hidden_{first}") + 1)
            continue
        verdict = fit(s, a.flags, profile) if profile is not None else None
        row = Row(a, nearest_open_site(s, place), required_for(a.flags), verdict)
        if verdict is not None and verdict.verdict == "conflict":
            view.conflicts.append(row)
        elif where == DISTANCE_UNKNOWN:
            view.distance_unknown.append(row)
        elif a.setting == "unknown":
            view.maybe.append(row)
        else:
            view.rows.append(row)
    for group in (view.rows, view.maybe, view.distance_unknown, view.conflicts):
        group.sort(key=_sort_key)
    return view


@dataclass(frozen=True)
class LeftOut:
    """Why a study is not in the view, and the filter change that brings it back."""
    sentence: str
    relax: dict  # Filters field -> value


def _left_out_sentence(key: str, a: Annotated, f: Filters) -> LeftOut:
    s = a.study
    if key == "status":
        return LeftOut(f"its status is {STATUSES.get(s.overall_status, s.overall_status or 'not given')}, and the "
                       f"list shows {_join(STATUSES.get(x, x) for x in f.statuses)} studies",
                       {"statuses": tuple(dict.fromkeys((*f.statuses, s.overall_status)))})
    if key == "setting":
        return LeftOut(f"it is for {SETTINGS.get(a.setting, a.setting)}, a patient group not chosen",
                       {"settings": tuple(dict.fromkeys((*f.settings, a.setting)))})
    if key == "phase":
        return LeftOut(f"its phase ({phase_words(s.phases)}) is not among the phases chosen", {"phases": ()})
    if key == "age":
        return LeftOut(f"the age given ({f.age}) is outside its age limits", {"age": None})
    if key == "sex":
        return LeftOut("it is open to one sex only", {"sex": ""})
    if key == "family":
        return LeftOut("its kind of treatment is not among the therapy families chosen", {"families": ()})
    if key == "distance":
        return LeftOut(f"none of its open sites is within {f.radius} {UNITS.get(f.unit, f.unit)}",
                       {"radius": "anywhere"})
    return LeftOut("it is not among the studies shown", {})


def why_left_out(a: Annotated | None, f: Filters, place: Place | None = None,
                 miles: float | None = None) -> tuple[str, dict]:
    """For a linked study not in the view: the sentence saying which filters leave it out, and the
    filter changes that show it ({} when no filter is the reason, e.g. the search never found it)."""
    if a is None:
        return ("It is not among the studies this search found (ClinicalTrials.gov does not list it "
                "under myeloma, or it is not in this copy of the data).", {})
    reasons = [_left_out_sentence(k, a, f) for k in leaving_out(a, f, place, miles)]
    if not reasons:
        return "It is not among the studies this search found.", {}
    relax: dict = {}
    for r in reasons:
        relax.update(r.relax)
    return "It is not in the list shown: " + "; ".join(r.sentence for r in reasons) + ".", relax


def hidden_notes(view: View, f: Filters) -> list[str]:
    """One sentence per filter that hides studies, with the count: nothing disappears silently."""
    out = []
    if view.conflicts:
        out.append(f"{_studies(len(view.conflicts))} {'has' if len(view.conflicts) == 1 else 'have'} a criterion that "
                   f"conflicts with your answers about your treatment: listed last, under \"{GROUPS[CONFLICTS][0]}\".")
    if view.hidden_distance:
        radius = f"{f.radius} {UNITS.get(f.unit, f.unit)}"
        out.append(f"{_studies(view.hidden_distance)} hidden: no open site within {radius}. "
                   "Choose \"anywhere\" to see them.")
    if view.hidden_family:
        out.append(f"{_studies(view.hidden_family)} hidden by the therapy-family choice.")
    if view.hidden_phase:
        out.append(f"{_studies(view.hidden_phase)} hidden by the phase choice.")
    if view.hidden_age:
        out.append(f"{_studies(view.hidden_age)} hidden: the age given is outside their age limits.")
    if view.hidden_sex:
        out.append(f"{_studies(view.hidden_sex)} hidden: they are open to one sex only.")
    if view.hidden_setting:
        parts = ", ".join(f"{SETTINGS.get(s, s)} ({n})" for s, n in sorted(view.hidden_setting.items(),
                                                                          key=lambda kv: -kv[1]))
        out.append(f"{_studies(sum(view.hidden_setting.values()))} for other groups of patients not shown: "
                   f"{parts}.")
    return out


def _studies(n: int) -> str:
    return f"{n} study" if n == 1 else f"{n} studies"


# --- grouping by family ------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    family: str
    label: str
    plain: str
    rows: tuple[Row, ...]
    highlighted: bool  # brought up by the guidance for this relapse timing

    @property
    def heading(self) -> str:
        mark = "★ " if self.highlighted else ""
        return f"{mark}{self.label} — {_studies(len(self.rows))}"


def sections(view: View, timing: str) -> list[Section]:
    """One section per family that has studies, guidance families first (a study in several
    families is in each); then the groups of studies the filters can't place: "May be for you"
    (the record doesn't say which patients) and "Distance unknown — call to ask"."""
    highlighted = set(guidance(timing).families)
    out = []
    for fam in family_order(timing):
        rows = tuple(r for r in view.rows if fam in r.item.families)
        if rows:
            fm = FAMILIES[fam]
            out.append(Section(fam, fm.label, fm.plain, rows, fam in highlighted))
    for group, rows in ((MAYBE, view.maybe), (DISTANCE_GROUP, view.distance_unknown), (CONFLICTS, view.conflicts)):
        if rows:
            out.append(Section(group, GROUPS[group][0], GROUPS[group][1], tuple(rows), False))
    return out


MAYBE, DISTANCE_GROUP, CONFLICTS = "maybe_for_you", "distance_unknown", "conflicts"
GROUPS = {  # section id -> (heading, what it means)
    MAYBE: ("May be for you: the record doesn't say which patients",
            "These records don't say whether the study is for relapsed, newly diagnosed or other patients "
            "with myeloma, so no patient-group choice hides them. The study team can say whether it is open "
            "to you."),
    DISTANCE_GROUP: ("Distance unknown — call to ask",
                     "These studies have open sites that can't be placed on the map (the record gives no "
                     "map position, and no ZIP code or city we know), or list no open site. They may be "
                     "near you: the study's contacts can say where it runs."),
    CONFLICTS: ("Studies whose criteria conflict with your answers",
                "Something you told us about your treatment goes against one of these studies' criteria, as we "
                "read them (the sentence is quoted on each card). Reading criteria is hard and criteria change: "
                "ask your care team before ruling a study out."),
}

WORDS = (  # "What the words mean": the words the lists use for places and patient groups
    "Distance: measured to the site's map position in its ClinicalTrials.gov record. When the record has "
    "none, it is measured from the centre of the site's US ZIP code area (\"from the site's ZIP code\") or of "
    "its city (\"from the site's city centre\"): approximate, usually within a few miles.",
    "Distance unknown: a site without a map position whose ZIP code or city can't be placed either. A distance "
    "choice never hides such a study: it is listed under \"Distance unknown — call to ask\".",
    "May be for you: the record doesn't say which patients the study is for (relapsed, newly diagnosed, …). "
    "These studies are always listed, in a group of their own.",
    NOT_ONLY_MYELOMA_EXPLAINED,
    "Things to ask your care team about: when you answer questions about your treatment so far, each study's "
    "criteria are read for them. A conflict means a criterion, as written in the study record, goes against "
    "an answer; a question means a criterion depends on something you did not answer, or carries a condition. "
    "It is never a decision on whether you can join: only the study team can say that.",
)


def card_family(item: Annotated, section: str) -> str:
    """The family a card explains: its section's, or (in a group that isn't a family) its first one."""
    if section in FAMILIES:
        return section
    return item.families[0] if item.families else "unclassified"


def guidance_counts(view: View, timing: str) -> list[tuple[str, str, int]]:
    """(family id, label, matching studies) for the families the guidance brings up."""
    counts = view.family_counts()
    return [(fam, FAMILIES[fam].label, counts.get(fam, 0)) for fam in guidance(timing).families if fam in FAMILIES]


def other_families_words(item: Annotated, family: str) -> str:
    others = [FAMILIES[f].label for f in item.families if f != family and f in FAMILIES]
    return ("Also listed under: " + ", ".join(others) + ".") if others else ""


def why_in_family(item: Annotated, family: str, limit: int = 2) -> tuple[str, bool]:
    """(reason text, comparator_only) for one family."""
    reasons = list(dict.fromkeys(e.reason for e in item.classification.evidence if e.family == family))
    comparator = item.classification.comparator_only(family)
    if not reasons:
        reasons = ["The record does not say clearly which kind of treatment it tests."] if family == "unclassified" else []
    text = " ".join(reasons[:limit])
    if comparator:
        text = ("Comparator only: this kind of treatment is what the study compares against, "
                "not what it tests. " + text)
    return text.strip(), comparator


def nearest_words(row: Row, place: Place | None, unit: str = "mi") -> str:
    s = row.study
    recruiting = open_sites_only(s)
    yet = " yet" if s.overall_status == "NOT_YET_RECRUITING" else ""
    open_label = "recruiting site" if recruiting else f"listed site (the study is not recruiting{yet})"
    if row.nearest is None:
        return "No recruiting site listed" if recruiting else f"No site listed{yet}"
    where = place_words(row.nearest.site)
    if place is None:
        n = len(s.recruiting_sites) if recruiting else len(s.sites)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return f"{open_label.capitalize()}: {where}{more}. Enter a ZIP code or city to see distances."
    if row.miles is None:
        return (f"Nearest {open_label}: {where} — {DISTANCE_UNKNOWN}: its record has no map position, and its "
                "ZIP code or city can't be placed. The study's contacts can say where it runs.")
    return f"Nearest {open_label}: {where} — {distance_words(row.miles, unit, row.nearest.basis)}"


# --- study detail ------------------------------------------------------------------------------

def arm_rows(study: Study) -> list[dict[str, str]]:
    rows = []
    for a in study.arm_groups:
        role = "Comparator (what the study compares against)" if a.is_comparator else (
            "Experimental (what the study tests)" if a.type == "EXPERIMENTAL" else
            (a.type.replace("_", " ").capitalize() or "Not stated"))
        rows.append({"Group": a.label, "Role": role, "Treatments": ", ".join(a.intervention_names),
                     "Description": a.description})
    return rows


def intervention_rows(study: Study) -> list[dict[str, str]]:
    return [{"Treatment": i.name, "Type": i.type.replace("_", " ").capitalize(),
             "Other names": ", ".join(i.other_names), "Groups": ", ".join(i.arm_group_labels)}
            for i in study.interventions]


def contact_rows(contacts: Iterable[Contact]) -> list[dict[str, str]]:
    """Contacts for a table (not Markdown: e-mail addresses stay exactly as written, to copy)."""
    return [{"Name": c.name, "Phone": c.phone_text, "E-mail": c.email}
            for c in contacts]


def contact_words(c: Contact) -> str:
    return " · ".join(p for p in (c.name, c.phone_text, c.email) if p)


def site_rows(study: Study, place: Place | None, unit: str = "mi") -> list[dict[str, str]]:
    """Every site, nearest first (those that can't be placed last, still listed)."""
    rows = []
    for m in sites_by_distance(study, place):
        site = m.site
        rows.append({
            "Site": site.facility or "(not named)",
            "Status": site_status_words(site.status),
            "City": ", ".join(p for p in (site.city, site.state, site.country) if p),
            "Distance": distance_words(m.miles, unit, m.basis) if place is not None else "",
            "Contacts": " | ".join(contact_words(c) for c in site.contacts),
        })
    return rows


def map_points(study: Study) -> list[dict]:
    """Sites that can be placed; those placed by ZIP code or city say so ("position approximate")."""
    out = []
    for s in study.sites:
        point = site_point(s)
        if point is None:
            continue
        status = site_status_words(s.status) + (f" (position {APPROXIMATE[point.basis]})"
                                                 if point.basis in APPROXIMATE else "")
        out.append({"lat": point.lat, "lon": point.lon, "site": s.facility or s.city, "status": status,
                    "open": "Recruiting" if s.is_recruiting else "Not recruiting"})
    return out


def key_dates(study: Study) -> list[tuple[str, str]]:
    return [(k, v) for k, v in (
        ("Study start", study.start_date), ("Primary completion (expected or actual)", study.primary_completion_date),
        ("First posted", study.first_posted), ("Last update posted", study.last_update_posted),
        ("Status last verified", study.status_verified)) if v]


# --- the export --------------------------------------------------------------------------------

def export_items(rows: Iterable[Row], place: Place | None) -> list[Annotated]:
    """The rows shown, as the exports take them. The export's nearest_site is documented as the
    nearest site that is itself RECRUITING, so it is measured with recruiting sites only, also for
    a study not yet recruiting (whose card shows its nearest listed site instead)."""
    return [replace(r.item, nearest=nearest_site(r.study, place)) for r in rows]


# --- answers kept between page loads -----------------------------------------------------------

LIVE_KEEP_SECONDS = 3600.0  # a live ClinicalTrials.gov answer is reused for an hour
FALLBACK_KEEP_SECONDS = 120.0  # a saved copy / snapshot answer: ClinicalTrials.gov is tried again after this

T = TypeVar("T")


def _clock() -> float:
    return time.monotonic()


class AnswerStore:
    """Answers shared by every page load, each kept as long as its kind deserves: a live answer
    for an hour, a fallback (saved copy, bundled snapshot) only briefly, so the live source is
    tried again soon while the pages in between stay fast. (st.cache_data has one ttl per
    function, not per result.) Thread-safe; a failed load (an exception) is not kept."""

    def __init__(self, *, live_seconds: float = LIVE_KEEP_SECONDS,
                 fallback_seconds: float = FALLBACK_KEEP_SECONDS, max_entries: int = 128,
                 clock: Callable[[], float] | None = None):
        self.live_seconds = live_seconds
        self.fallback_seconds = fallback_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}  # key -> (expires at, value)

    def _now(self) -> float:
        return (self._clock or _clock)()

    def get(self, key: Hashable, load: Callable[[], T], is_live: Callable[[T], bool]) -> T:
        """The kept answer for key while it is fresh, else load() (kept by is_live's verdict)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > self._now():
                return hit[1]  # type: ignore[return-value]
        value = load()
        keep = self.live_seconds if is_live(value) else self.fallback_seconds
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._now() + keep, value)
            now = self._now()
            for k in [k for k, (until, _) in self._entries.items() if until <= now]:
                del self._entries[k]
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]  # oldest stored first
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
