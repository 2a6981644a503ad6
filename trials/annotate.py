"""One study with everything the views and exports derive from it: its therapy families and
reasons, its prior-therapy eligibility flags, its design facts, and (for a searched place) its
nearest recruiting site. Pure functions; computed once per study and shared by the app, the CLI and
the exports (the study store keeps what depends on the record alone: `Reading`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, NamedTuple

from . import failures
from .classify import Classification, classify
from .design import DesignFact, design_facts
from .eligibility import Flag, eligibility_flags
from .fit import Fit, Profile, fit
from .geo import NearestSite, Place, nearest_site
from .model import Study

STALE_AFTER_DAYS = 365  # PRODUCT: flag records whose status was not verified for over 12 months


class Reading(NamedTuple):
    """What one record version says, whoever reads it: computed by `read_record`, kept by the store."""
    classification: Classification
    flags: dict[str, Flag]
    design: tuple[DesignFact, ...]


def read_record(study: Study) -> Reading:
    """The one reading of a record, for the sync and for studies read live alike."""
    with failures.reading(study.nct_id):
        return Reading(classify(study), eligibility_flags(study.eligibility.criteria), design_facts(study))


@dataclass(frozen=True)
class Annotated:
    study: Study
    classification: Classification
    flags: dict[str, Flag]
    design: tuple[DesignFact, ...]
    nearest: NearestSite | None  # nearest site that is itself recruiting; None if there is none
    fit: Fit | None = None  # the person's answers held against the criteria; None without answers

    @property
    def families(self) -> tuple[str, ...]:
        return self.classification.families

    @property
    def setting(self) -> str:
        return self.classification.setting


def annotate(study: Study, place: Place | None = None, profile: Profile | None = None,
             reading: Reading | None = None) -> Annotated:
    """`reading`: the record's reading when it is already known (the store's sync computed it)."""
    r = reading or read_record(study)
    with failures.reading(study.nct_id):
        return Annotated(study, r.classification, r.flags, r.design, nearest_site(study, place),
                         fit(study, r.flags, profile) if profile is not None else None)


def annotate_all(studies: Iterable[Study], place: Place | None = None,
                 profile: Profile | None = None, known: Mapping[str, Reading] | None = None) -> list[Annotated]:
    """`known`: readings already computed (by the store's sync), by NCT id; the person's answers
    (`profile`) are held against them all the same."""
    known = known or {}
    return [annotate(s, place, profile, known.get(s.nct_id)) for s in studies]


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
