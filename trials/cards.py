"""What a study's card and its details say: why it is in a family, the fit verdict and reasons,
the readings of its criteria, its nearest site, arms, sites and contacts. Pure, no streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .annotate import Annotated
from .eligibility import Flag
from .filters import PRIOR_TREATMENTS
from .fit import Fit
from .geo import DISTANCE_UNKNOWN, Place, open_sites_only, site_point, sites_by_distance
from .model import Contact, Study
from .view import Row
from .vocabulary import FAMILIES
from .criteria import split_criteria
from .words import (APPROXIMATE, NOT_GIVEN, distance_words, join_or, phase_words, place_words, safe_url,
                    site_status_words, status_words)

FLAG_LABELS = {p.flag: p.label[0].upper() + p.label[1:] for p in PRIOR_TREATMENTS.values()}
FLAG_VALUE_WORDS = {
    "required": "Required: the study is for people who already had this",
    "excluded": "Excluded: people who had this cannot join",
    "allowed": "Allowed: people who had this can join",
    "not_mentioned": "Not mentioned in the criteria",
}


def made_for_badge(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        return ""
    return "🎯 Made for people who already had " + join_or(PRIOR_TREATMENTS[k].label for k in keys)


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


def contact_words(c: Contact) -> str:
    return " · ".join(p for p in (c.name, c.phone_text, c.email) if p)


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


# --- what fits a phone: sites, readings and criteria as wrapped text -------------------------------

def reach_contact(row: Row) -> Contact | None:
    """Who to call about the nearest open site: its own contact with a phone, else the study's
    central contact with a phone, else any contact with an e-mail address."""
    site_contacts = row.nearest.site.contacts if row.nearest else ()
    for contacts in (site_contacts, row.study.central_contacts):
        for c in contacts:
            if c.phone_text:
                return c
    return next((c for c in (*site_contacts, *row.study.central_contacts) if c.email), None)


@dataclass(frozen=True)
class SiteEntry:
    name: str
    status: str
    where: str
    distance: str  # "" without a place
    contacts: tuple[Contact, ...]


def site_entries(study: Study, place: Place | None, unit: str = "mi") -> list[SiteEntry]:
    """Every site, nearest first (those that can't be placed last, still listed)."""
    return [SiteEntry(m.site.facility or "(not named)", site_status_words(m.site.status),
                      ", ".join(p for p in (m.site.city, m.site.state, m.site.country) if p) or NOT_GIVEN,
                      distance_words(m.miles, unit, m.basis) if place is not None else "", m.site.contacts)
            for m in sites_by_distance(study, place)]


@dataclass(frozen=True)
class Reading:
    label: str
    says: str  # a full sentence
    sentence: str  # the criterion sentence that decided it ("" when none)
    condition: str


def readings(flags: Mapping[str, Flag]) -> tuple[list[Reading], list[str]]:
    """The readings of the criteria the record mentions, as full sentences with the sentence that
    decided each; and the labels of those it doesn't mention (said once, together)."""
    mentioned, silent = [], []
    for row in flag_rows(flags):
        if row["What the criteria say"] in ("Not mentioned in the criteria", "Not stated", "None named"):
            silent.append(row["Criterion"])
        else:
            mentioned.append(Reading(row["Criterion"], row["What the criteria say"] + ".",
                                     row["Deciding sentence"], row["Condition"]))
    return mentioned, silent


CRITERIA_HEADINGS = (("inclusion", "Inclusion criteria — who can join"),
                     ("exclusion", "Exclusion criteria — who cannot join"),
                     ("other", "Other criteria text"))


def criteria_sections(criteria_text: str) -> list[tuple[str, list[str]]]:
    """(heading, items) for the inclusion, exclusion and other criteria the record has."""
    crit = split_criteria(criteria_text)
    return [(heading, list(getattr(crit, key))) for key, heading in CRITERIA_HEADINGS if getattr(crit, key)]


# --- the printable list ----------------------------------------------------------------------------

QUESTIONS_TO_ASK = (
    "Could this study be an option for me now, or later?",
    "Do my earlier treatments, test results or other conditions rule me out?",
    "What would taking part involve: visits, tests, time in hospital, travel, costs?",
    "What are the other treatment options, inside or outside a study?",
    "Who at the study site should I or my care team contact, and what should we ask them?",
)


@dataclass(frozen=True)
class PrintStudy:
    nct_id: str
    title: str
    url: str
    status: str
    phase: str
    why: tuple[str, ...]  # "Family: reason" for each family
    fit: tuple[str, ...]  # the fit verdict and its reasons ("" without answers)
    nearest: str
    contact: str


def print_studies(rows: Iterable[Row], starred: Iterable[str], place: Place | None, unit: str = "mi") -> list[PrintStudy]:
    """The starred studies among the rows, in the list's order, as the printable page shows them."""
    wanted = set(starred)
    out = []
    for row in rows:
        s = row.study
        if s.nct_id not in wanted:
            continue
        why = tuple(f"{FAMILIES[f].label}: {why_in_family(row.item, f)[0] or 'no reason recorded'}"
                    for f in row.item.families if f in FAMILIES)
        contact = reach_contact(row)
        out.append(PrintStudy(s.nct_id, s.title, safe_url(s), status_words(s.overall_status), phase_words(s.phases),
                              why, tuple(fit_lines(row.fit, limit=20)), nearest_words(row, place, unit),
                              contact_words(contact) if contact else "No contact listed in the record"))
    return out
