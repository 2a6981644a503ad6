"""ClinicalTrials.gov v2 study JSON -> plain dataclasses.

Any field of a real record may be missing, empty, or of an unexpected type (projected records
from a `fields=` request, expanded-access records with almost nothing, spec drift). Parsing
therefore never raises: a missing or malformed value becomes None, "" or an empty tuple.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

STUDY_URL = "https://clinicaltrials.gov/study/{nct_id}"


# --- tolerant accessors ---------------------------------------------------------------------

def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(t for t in (_text(v) for v in value) if t)


def _dicts(value: Any) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# --- the model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Contact:
    name: str = ""
    role: str = ""
    phone: str = ""
    phone_ext: str = ""
    email: str = ""

    @property
    def phone_text(self) -> str:
        """'+1 555 0100 ext. 12': the phone as a person dials it."""
        return f"{self.phone} ext. {self.phone_ext}" if self.phone and self.phone_ext else self.phone

    @classmethod
    def from_api(cls, raw: dict) -> "Contact":
        return cls(
            name=_text(raw.get("name")),
            role=_text(raw.get("role")),
            phone=_text(raw.get("phone")),
            phone_ext=_text(raw.get("phoneExt")),
            email=_text(raw.get("email")),
        )


@dataclass(frozen=True)
class Site:
    facility: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    status: str = ""  # RecruitmentStatus enum; often absent on closed studies
    lat: float | None = None
    lon: float | None = None
    contacts: tuple[Contact, ...] = ()

    @property
    def is_recruiting(self) -> bool:
        return self.status == "RECRUITING"

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None

    @classmethod
    def from_api(cls, raw: dict) -> "Site":
        # (called for every site of every study read: tens of thousands per export, so no _dig)
        get = raw.get
        point, contacts = get("geoPoint"), get("contacts")
        lat = lon = None
        if isinstance(point, dict):
            lat, lon = _number(point.get("lat")), _number(point.get("lon"))
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat = lon = None
        return cls(
            facility=_text(get("facility")),
            city=_text(get("city")),
            state=_text(get("state")),
            zip=_text(get("zip")),
            country=_text(get("country")),
            status=_text(get("status")),
            lat=lat,
            lon=lon,
            contacts=tuple(Contact.from_api(c) for c in _dicts(contacts)) if contacts else (),
        )


@dataclass(frozen=True)
class Intervention:
    type: str = ""
    name: str = ""
    other_names: tuple[str, ...] = ()
    description: str = ""
    arm_group_labels: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, raw: dict) -> "Intervention":
        return cls(
            type=_text(raw.get("type")),
            name=_text(raw.get("name")),
            other_names=_texts(raw.get("otherNames")),
            description=_text(raw.get("description")),
            arm_group_labels=_texts(raw.get("armGroupLabels")),
        )


@dataclass(frozen=True)
class ArmGroup:
    label: str = ""
    type: str = ""  # ArmGroupType: EXPERIMENTAL, ACTIVE_COMPARATOR, PLACEBO_COMPARATOR, ...
    description: str = ""
    intervention_names: tuple[str, ...] = ()

    @property
    def is_comparator(self) -> bool:
        return self.type.endswith("_COMPARATOR") or self.type == "NO_INTERVENTION"

    @classmethod
    def from_api(cls, raw: dict) -> "ArmGroup":
        return cls(
            label=_text(raw.get("label")),
            type=_text(raw.get("type")),
            description=_text(raw.get("description")),
            intervention_names=_texts(raw.get("interventionNames")),
        )


_AGE_UNITS = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25, "hour": 1 / 8766, "minute": 1 / 525960}


_AGE = re.compile(r"(\d{1,3}(?:\.\d+)?) (year|month|week|day|hour|minute)s?", re.IGNORECASE)


def age_in_years(text: str) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None when absent or not in the API's format."""
    m = _AGE.fullmatch(text.strip())
    if not m:
        return None
    return round(float(m.group(1)) * _AGE_UNITS[m.group(2).lower()], 2)


@dataclass(frozen=True)
class Eligibility:
    criteria: str = ""
    minimum_age: str = ""  # "18 Years" style, as the API writes it
    maximum_age: str = ""  # absent = no upper limit
    sex: str = ""  # ALL, FEMALE, MALE
    healthy_volunteers: bool | None = None
    std_ages: tuple[str, ...] = ()

    @property
    def min_age_years(self) -> float | None:
        return age_in_years(self.minimum_age)

    @property
    def max_age_years(self) -> float | None:
        return age_in_years(self.maximum_age)

    def admits_age(self, years: float) -> bool:
        low, high = self.min_age_years, self.max_age_years
        return (low is None or years >= low) and (high is None or years <= high)

    def admits_sex(self, sex: str) -> bool:
        """sex: FEMALE or MALE; a study open to ALL (or silent) admits both."""
        return self.sex in ("", "ALL") or self.sex == sex

    @classmethod
    def from_api(cls, raw: Any) -> "Eligibility":
        if not isinstance(raw, dict):
            return cls()
        return cls(
            criteria=_text(raw.get("eligibilityCriteria")),
            minimum_age=_text(raw.get("minimumAge")),
            maximum_age=_text(raw.get("maximumAge")),
            sex=_text(raw.get("sex")),
            healthy_volunteers=_flag(raw.get("healthyVolunteers")),
            std_ages=_texts(raw.get("stdAges")),
        )


@dataclass(frozen=True)
class Study:
    nct_id: str = ""
    brief_title: str = ""
    official_title: str = ""
    acronym: str = ""
    overall_status: str = ""
    status_verified: str = ""  # PartialDate: yyyy, yyyy-MM or yyyy-MM-dd
    start_date: str = ""
    primary_completion_date: str = ""
    first_posted: str = ""
    last_update_posted: str = ""
    phases: tuple[str, ...] = ()
    study_type: str = ""
    allocation: str = ""  # RANDOMIZED, NON_RANDOMIZED, NA
    primary_purpose: str = ""
    enrollment: int | None = None
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    condition_mesh_terms: tuple[str, ...] = ()
    brief_summary: str = ""
    detailed_description: str = ""
    interventions: tuple[Intervention, ...] = ()
    arm_groups: tuple[ArmGroup, ...] = ()
    eligibility: Eligibility = field(default_factory=Eligibility)
    sites: tuple[Site, ...] = ()
    central_contacts: tuple[Contact, ...] = ()
    lead_sponsor: str = ""
    lead_sponsor_class: str = ""
    collaborators: tuple[str, ...] = ()
    has_results: bool | None = None

    @property
    def title(self) -> str:
        return self.brief_title or self.official_title or self.nct_id

    @property
    def url(self) -> str:
        return STUDY_URL.format(nct_id=self.nct_id) if self.nct_id else ""

    @property
    def is_randomized(self) -> bool:
        return self.allocation == "RANDOMIZED"

    @property
    def recruiting_sites(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.is_recruiting)

    @classmethod
    def from_api(cls, raw: Any) -> "Study":
        """Build a Study from one v2 study object; never raises, whatever the input."""
        if not isinstance(raw, dict):
            return cls()
        p = raw.get("protocolSection")
        ident = _dig(p, "identificationModule")
        status = _dig(p, "statusModule")
        design = _dig(p, "designModule")
        arms = _dig(p, "armsInterventionsModule")
        contacts = _dig(p, "contactsLocationsModule")
        sponsors = _dig(p, "sponsorCollaboratorsModule")
        return cls(
            nct_id=_text(_dig(ident, "nctId")).upper(),
            brief_title=_text(_dig(ident, "briefTitle")),
            official_title=_text(_dig(ident, "officialTitle")),
            acronym=_text(_dig(ident, "acronym")),
            overall_status=_text(_dig(status, "overallStatus")),
            status_verified=_text(_dig(status, "statusVerifiedDate")),
            start_date=_text(_dig(status, "startDateStruct", "date")),
            primary_completion_date=_text(_dig(status, "primaryCompletionDateStruct", "date")),
            first_posted=_text(_dig(status, "studyFirstPostDateStruct", "date")),
            last_update_posted=_text(_dig(status, "lastUpdatePostDateStruct", "date")),
            phases=_texts(_dig(design, "phases")),
            study_type=_text(_dig(design, "studyType")),
            allocation=_text(_dig(design, "designInfo", "allocation")),
            primary_purpose=_text(_dig(design, "designInfo", "primaryPurpose")),
            enrollment=_integer(_dig(design, "enrollmentInfo", "count")),
            conditions=_texts(_dig(p, "conditionsModule", "conditions")),
            keywords=_texts(_dig(p, "conditionsModule", "keywords")),
            condition_mesh_terms=tuple(
                t for t in (_text(m.get("term")) for m in
                            _dicts(_dig(raw, "derivedSection", "conditionBrowseModule", "meshes")))
                if t
            ),
            brief_summary=_text(_dig(p, "descriptionModule", "briefSummary")),
            detailed_description=_text(_dig(p, "descriptionModule", "detailedDescription")),
            interventions=tuple(Intervention.from_api(i) for i in _dicts(_dig(arms, "interventions"))),
            arm_groups=tuple(ArmGroup.from_api(a) for a in _dicts(_dig(arms, "armGroups"))),
            eligibility=Eligibility.from_api(_dig(p, "eligibilityModule")),
            sites=tuple(Site.from_api(s) for s in _dicts(_dig(contacts, "locations"))),
            central_contacts=tuple(Contact.from_api(c) for c in _dicts(_dig(contacts, "centralContacts"))),
            lead_sponsor=_text(_dig(sponsors, "leadSponsor", "name")),
            lead_sponsor_class=_text(_dig(sponsors, "leadSponsor", "class")),
            collaborators=tuple(
                t for t in (_text(c.get("name")) for c in _dicts(_dig(sponsors, "collaborators"))) if t
            ),
            has_results=_flag(raw.get("hasResults")),
        )
