"""One study with everything the views and exports derive from it: its therapy families and
reasons, its prior-therapy eligibility flags, and (for a searched place) its nearest recruiting site.
Pure functions; computed once per study and shared by the app, the CLI and the exports.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from . import failures
from .classify import Classification, classify
from .eligibility import Flag, eligibility_flags
from .fit import Fit, Profile, fit
from .geo import NearestSite, Place, nearest_site
from .model import Study

STALE_AFTER_DAYS = 365  # PRODUCT: flag records whose status was not verified for over 12 months


@dataclass(frozen=True)
class Annotated:
    study: Study
    classification: Classification
    flags: dict[str, Flag]
    nearest: NearestSite | None  # nearest site that is itself recruiting; None if there is none
    fit: Fit | None = None  # the person's answers held against the criteria; None without answers

    @property
    def families(self) -> tuple[str, ...]:
        return self.classification.families

    @property
    def setting(self) -> str:
        return self.classification.setting


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


def annotate(study: Study, place: Place | None = None, profile: Profile | None = None) -> Annotated:
    with failures.reading(study.nct_id):
        readings = eligibility_flags(study.eligibility.criteria)
        return Annotated(study, classify(study), readings, nearest_site(study, place),
                         fit(study, readings, profile) if profile is not None else None)


def annotate_all(studies: Iterable[Study], place: Place | None = None,
                 profile: Profile | None = None,
                 known: Mapping[str, tuple[Classification, dict[str, Flag]]] | None = None) -> list[Annotated]:
    """`known`: classifications and flags already computed (by the store's sync), by NCT id; the person's
    answers (`profile`) are held against them all the same."""
    out = []
    for s in studies:
        done = (known or {}).get(s.nct_id)
        if done is None:
            out.append(annotate(s, place, profile))
        else:
            out.append(Annotated(s, done[0], done[1], nearest_site(s, place),
                                 fit(s, done[1], profile) if profile is not None else None))
    return out


_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _partial_date(text: str) -> dt.date | None:
    """PartialDate 'yyyy', 'yyyy-MM' or 'yyyy-MM-dd' -> the last day it could mean (benefit of the
    doubt); None for anything else, e.g. '2026-13'."""
    m = _PARTIAL_DATE.fullmatch(text.strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day:
            return dt.date(year, int(month), int(day))
        if month:
            month = int(month)
            if not 1 <= month <= 12:
                return None
            first_next = dt.date(year + month // 12, month % 12 + 1, 1)
            return first_next - dt.timedelta(days=1)
        return dt.date(year, 12, 31)
    except ValueError:
        return None


def is_stale(study: Study, today: dt.date | None = None) -> bool | None:
    """True when the record's status was last verified more than 12 months ago; None when the
    record carries no date to tell (projected records often don't), so nobody is told it is old
    when we simply don't know."""
    verified = _partial_date(study.status_verified) or _partial_date(study.last_update_posted)
    if verified is None:
        return None
    return ((today or dt.date.today()) - verified).days > STALE_AFTER_DAYS
