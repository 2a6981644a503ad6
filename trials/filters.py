"""The person's choices (Filters), what they mean to the eligibility reader, and the one codec
between Filters, the page's link (query parameters) and the page's widget state.

Pure functions, no streamlit here: app.py hands in st.query_params / st.session_state as dicts.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from .eligibility import Flag
from .errors import BadInput
from .fit import Fit, Profile, fit, parse_transplants, resolve_treatments
from .guidance import EARLIEST_DATE, relapse_timing, remission_months, timing_from_months
from .model import Study
from .query import NCT_ID, PHASES, STATUSES
from .vocabulary import FAMILIES, SETTINGS

_WS = re.compile(r"\s+")

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

# what a ticked kind of treatment means to the eligibility reader (a class word it understands)
_PRIOR_WORDS = {"car_t": ("CAR T",), "bcma": ("BCMA",), "bispecific": ("bispecific",), "anti_cd38": ("anti-CD38",),
                "triple_class": ("proteasome inhibitor", "immunomodulatory drug", "anti-CD38")}


def required_for(flags: Mapping[str, Flag]) -> tuple[str, ...]:
    """Previous treatments the study is made for (criteria require them)."""
    return tuple(k for k, p in PRIOR_TREATMENTS.items() if getattr(flags.get(p.flag), "value", None) == "required")



# --- filters -----------------------------------------------------------------------------------

RADIUS_CHOICES = ("anywhere", "10", "25", "50", "100", "250", "500")
UNITS = {"mi": "miles", "km": "km"}
SEXES = {"": "Any", "FEMALE": "Female", "MALE": "Male"}
DEFAULT_SETTINGS = ("relapsed_refractory", "mixed")
DEFAULT_STATUSES = ("RECRUITING",)


@dataclass(frozen=True)
class Filters:
    months: int | None = None  # whole months
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
    transplant_months: int | None = None  # whole months
    crcl: int | None = None
    ecog: int | None = None
    cns: str = ""  # "", "yes", "no"
    pcl: str = ""
    amyloidosis: str = ""
    share_answers: bool = False
    study: str = ""

    def with_(self, **changes) -> "Filters":
        return replace(self, **changes)

    def without_answers(self) -> "Filters":
        """The same list without the answers about treatment: they only sort studies into groups (fit), so
        counts of the list need no fit, which is the costly part of a view."""
        return replace(self, prior=(), **{k: getattr(_NO_ANSWERS, k) for k in HISTORY_FIELDS})

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
_NO_ANSWERS = Filters()


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
            # whole months, counted down as months_between counts them: 23.9 stays under 24 (early)
            f = f.with_(months=int(months))
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

    transplant_months = number("transplant_months", 0, 600, False)
    changes.update(lines=number("lines", 0, 30, True),
                   transplant_months=None if transplant_months is None else int(transplant_months),
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


# The one table between Filters, the link and the page's widgets: Filters attribute -> (link
# parameter, widget key). Answers about treatment (HISTORY_FIELDS) travel in the link only with
# share_answers; the kinds of treatment ticked (prior) are one checkbox each, "prior_<key>".
FIELDS: dict[str, tuple[str, str]] = {
    "months": ("months", "months"), "remission_start": ("remission", "remission"), "relapse": ("relapse", "relapse"),
    "place": ("place", "place"), "radius": ("radius", "radius"), "unit": ("unit", "unit"),
    "statuses": ("status", "statuses"), "phases": ("phase", "phases"), "age": ("age", "age"), "sex": ("sex", "sex"),
    "families": ("family", "families"), "settings": ("setting", "settings"), "prior": ("prior", ""),
    **{k: (k, k) for k in HISTORY_FIELDS}, "share_answers": ("answers", "share_answers"), "study": ("study", "study"),
}
TIMING_WAYS = ("months", "dates", "unsure")  # the widget "how": how the remission's length is given


def _param_text(value) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(value)
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def filters_to_params(f: Filters) -> dict[str, str]:
    """Query parameters that restore these filters; defaults are left out to keep links short."""
    d = Filters()
    out: dict[str, str] = {}
    for attr, (param, _) in FIELDS.items():
        value = getattr(f, attr)
        if value == getattr(d, attr) or value in (None, "", "anywhere") or (value == () and attr in HISTORY_FIELDS):
            continue  # an empty list that is not the default means "every" and is kept ("setting=")
        if attr in HISTORY_FIELDS and not f.share_answers:
            continue  # the answers about treatment travel only when the person asked for it
        if attr in ("remission_start", "relapse") and (f.months is not None or not (f.remission_start and f.relapse)):
            continue  # months, when given, say it; one date alone says nothing
        out[param] = value.lower() if attr == "sex" else _param_text(value)
    return out


def picker_options(names: Sequence[str], chosen) -> list[str]:
    """A drug picker's choices: the known drug names, then whatever else a link or the person chose
    (a class word such as "CAR T" or a regimen such as "VRd"), so that nothing chosen is dropped."""
    known = set(names)
    return [*names, *(c for c in dict.fromkeys(chosen or ()) if c not in known)]


def to_state(f: Filters) -> dict:
    """The page's widget values that show these filters (lists for multiselects)."""
    state = {key: list(getattr(f, attr)) if isinstance(getattr(f, attr), tuple) else getattr(f, attr)
             for attr, (_, key) in FIELDS.items() if key}
    state["how"] = "dates" if (f.months is None and f.remission_start) else "months"
    state.update({f"prior_{k}": k in f.prior for k in PRIOR_TREATMENTS})
    return state


def from_state(state: Mapping[str, object]) -> Filters:
    """Filters from the page's widget values (None or missing: the default)."""
    d = Filters()
    values = {}
    for attr, (_, key) in FIELDS.items():
        if not key:
            continue
        value = state.get(key)
        default = getattr(d, attr)
        if isinstance(default, tuple):
            value = tuple(value or ()) or (default if attr == "statuses" else ())
        elif isinstance(default, str):
            value = (value or "").strip() if attr == "place" else (value or default)
        elif isinstance(default, bool):
            value = bool(value)
        values[attr] = value
    how = state.get("how", "months")
    if how != "months":
        values["months"] = None
    if how != "dates":
        values["remission_start"] = values["relapse"] = None
    values["prior"] = tuple(k for k in PRIOR_TREATMENTS if state.get(f"prior_{k}"))
    return Filters(**values)


def timing_of(f: Filters, today: dt.date | None = None) -> tuple[str, str]:
    """(timing, problem): the timing the inputs give, and a message when the dates don't add up."""
    if f.months is not None:
        return timing_from_months(f.months), ""
    try:
        return relapse_timing(remission_start=f.remission_start, relapse=f.relapse, today=today), ""
    except BadInput as e:
        return "unknown", str(e)


