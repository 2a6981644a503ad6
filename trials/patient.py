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
from .vocabulary import FAMILIES, SETTINGS
from .eligibility import Flag
from .errors import BadInput
from .geo import KM_PER_MILE, NearestSite, Place, nearest_site, open_sites_only, sites_by_distance
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


def distance_words(miles: float | None, unit: str = "mi") -> str:
    if miles is None:
        return "distance unknown"
    if unit == "km":
        return f"about {miles * KM_PER_MILE:,.0f} km"
    return f"about {miles:,.0f} miles"


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


def excluded_for(flags: Mapping[str, Flag], had: Iterable[str]) -> tuple[str, ...]:
    """Which of the person's previous treatments the study's criteria exclude."""
    return tuple(k for k in had if k in PRIOR_TREATMENTS
                 and getattr(flags.get(PRIOR_TREATMENTS[k].flag), "value", None) == "excluded")


def required_for(flags: Mapping[str, Flag]) -> tuple[str, ...]:
    """Previous treatments the study is made for (criteria require them)."""
    return tuple(k for k, p in PRIOR_TREATMENTS.items() if getattr(flags.get(p.flag), "value", None) == "required")


def made_for_badge(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        return ""
    return "🎯 Made for people who already had " + _join(PRIOR_TREATMENTS[k].label for k in keys)


def excludes_badge(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        return ""
    return "🚫 Excludes people who had " + _join(PRIOR_TREATMENTS[k].label for k in keys)


def _join(words: Iterable[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def flag_rows(flags: Mapping[str, Flag]) -> list[dict[str, str]]:
    """One row per prior-therapy flag: what, the reading, and the sentence that decided it."""
    rows = []
    for p in PRIOR_TREATMENTS.values():
        f = flags.get(p.flag)
        value = getattr(f, "value", "not_mentioned") or "not_mentioned"
        rows.append({
            "Previous treatment": FLAG_LABELS[p.flag],
            "What the criteria say": FLAG_VALUE_WORDS.get(value, str(value)),
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
    prior: tuple[str, ...] = ()
    show_excluded: bool = False
    study: str = ""

    def with_(self, **changes) -> "Filters":
        return replace(self, **changes)

    def radius_miles(self) -> float | None:
        """Miles, or None for no limit. BadInput for a distance parse_radius refuses."""
        from .geo import parse_radius

        if self.radius in ("", "anywhere"):
            return None
        return parse_radius(f"{self.radius} {self.unit}")


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
    if (v := get("show_excluded")) is not None:
        f = f.with_(show_excluded=v.lower() in ("1", "true", "yes", "on"))
    if (v := get("study")) is not None:
        if NCT_ID.match(v.strip().upper()):
            f = f.with_(study=v.strip().upper())
        else:
            ignore("study", v, "not an NCT number (NCT and 8 digits).")
    return f, notes


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
    if f.show_excluded:
        out["show_excluded"] = "1"
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
    excludes: tuple[str, ...]  # the person's previous treatments this study's criteria exclude
    made_for: tuple[str, ...]  # previous treatments the study requires

    @property
    def study(self) -> Study:
        return self.item.study

    @property
    def miles(self) -> float | None:
        return self.nearest.miles if self.nearest else None


@dataclass
class View:
    rows: list[Row]
    total: int  # studies answered by the source (after the status filter)
    hidden_setting: dict[str, int] = field(default_factory=dict)
    setting_counts: dict[str, int] = field(default_factory=dict)  # every setting, before that filter
    hidden_phase: int = 0
    hidden_age: int = 0
    hidden_sex: int = 0
    hidden_family: int = 0
    hidden_distance: int = 0
    hidden_distance_unmapped: int = 0  # of those: no open site with coordinates (distance unknown)
    hidden_prior: dict[str, int] = field(default_factory=dict)  # per previous treatment
    hidden_prior_total: int = 0
    place: Place | None = None
    miles: float | None = None

    def family_counts(self) -> dict[str, int]:
        counts = {f: 0 for f in FAMILIES}
        for r in self.rows:
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


def build_view(items: Iterable[Annotated], f: Filters, place: Place | None = None,
               miles: float | None = None) -> View:
    """Apply the filters in a fixed order, counting what each one hides.

    Distance: a study is within the radius when one of its open sites (a recruiting study's
    recruiting sites; for any other status, its listed sites) with coordinates is. Open sites without coordinates can't
    be measured, so such a study counts as outside a radius (and is counted separately); with
    'anywhere' it is shown, last, with 'distance unknown'."""
    items = list(items)
    statuses = set(f.statuses)
    items = [a for a in items if not statuses or a.study.overall_status in statuses]
    view = View([], len(items), place=place, miles=miles)
    for a in items:
        view.setting_counts[a.setting] = view.setting_counts.get(a.setting, 0) + 1
    rows: list[Row] = []
    prior_hidden: dict[str, int] = {}
    for a in items:
        s = a.study
        if f.settings and a.setting not in f.settings:
            view.hidden_setting[a.setting] = view.hidden_setting.get(a.setting, 0) + 1
            continue
        if f.phases and not set(f.phases) & set(s.phases):
            view.hidden_phase += 1
            continue
        if f.age is not None and not s.eligibility.admits_age(f.age):
            view.hidden_age += 1
            continue
        if f.sex and not s.eligibility.admits_sex(f.sex):
            view.hidden_sex += 1
            continue
        if f.families and not set(f.families) & set(a.families):
            view.hidden_family += 1
            continue
        nearest = nearest_open_site(s, place)
        if place is not None and miles is not None and not (
                nearest is not None and nearest.miles is not None and nearest.miles <= miles):
            # the nearest open site decides: none within the radius, or none that can be measured
            view.hidden_distance += 1
            if nearest is None or nearest.miles is None:
                view.hidden_distance_unmapped += 1
            continue
        excl = excluded_for(a.flags, f.prior)
        if excl and not f.show_excluded:
            view.hidden_prior_total += 1
            for k in excl:
                prior_hidden[k] = prior_hidden.get(k, 0) + 1
            continue
        rows.append(Row(a, nearest, excl, required_for(a.flags)))
    view.hidden_prior = prior_hidden
    view.rows = sorted(rows, key=_sort_key)
    return view


def hidden_notes(view: View, f: Filters) -> list[str]:
    """One sentence per filter that hides studies, with the count: nothing disappears silently."""
    out = []
    for k, n in view.hidden_prior.items():
        out.append(f"{_studies(n)} hidden because {'it excludes' if n == 1 else 'they exclude'} "
                   f"people who had {PRIOR_TREATMENTS[k].label}.")
    if view.hidden_distance:
        radius = f"{f.radius} {UNITS.get(f.unit, f.unit)}"
        extra = (f" ({view.hidden_distance_unmapped} of them have no recruiting site with map coordinates, "
                 "so their distance is unknown)") if view.hidden_distance_unmapped else ""
        out.append(f"{_studies(view.hidden_distance)} hidden: no open site within {radius}{extra}. "
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
    """One section per family that has studies, guidance families first; a study in several
    families is in each."""
    highlighted = set(guidance(timing).families)
    out = []
    for fam in family_order(timing):
        rows = tuple(r for r in view.rows if fam in r.item.families)
        if rows:
            fm = FAMILIES[fam]
            out.append(Section(fam, fm.label, fm.plain, rows, fam in highlighted))
    return out


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
    return f"Nearest {open_label}: {where} — {distance_words(row.miles, unit)}"


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
    """Every site, nearest first (those without coordinates last, still listed)."""
    rows = []
    for site, miles in sites_by_distance(study, place):
        rows.append({
            "Site": site.facility or "(not named)",
            "Status": site_status_words(site.status),
            "City": ", ".join(p for p in (site.city, site.state, site.country) if p),
            "Distance": distance_words(miles, unit) if place is not None and site.has_coordinates
            else ("no map coordinates" if not site.has_coordinates else ""),
            "Contacts": " | ".join(contact_words(c) for c in site.contacts),
        })
    return rows


def map_points(study: Study) -> list[dict]:
    return [{"lat": s.lat, "lon": s.lon, "site": s.facility or s.city, "status": site_status_words(s.status),
             "open": "Recruiting" if s.is_recruiting else "Not recruiting"}
            for s in study.sites if s.has_coordinates]


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
