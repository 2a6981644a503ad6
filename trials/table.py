"""Annotated studies -> pandas frames with stable, documented columns (one row per study, or one
row per study x site). Pure: no I/O, no neutralising (that happens when bytes are written, in
``trials.export``), so the app can show these frames as they are.

Conventions, the same in every column:
* text is ``str``, "" when the record is silent (never None);
* lists are joined with ``"; "`` (``why`` joins whole sentences with a space);
* dates are the registry's own ISO text: ``YYYY-MM-DD``, or ``YYYY-MM`` / ``YYYY`` when the record
  gives only that (kept as text: a partial date is not a day);
* numbers are numbers: ``float`` (NaN when unknown) for ages and distances, nullable ``Int64``
  for counts and prior lines, nullable ``boolean`` for yes/no columns;
* statuses, phases and sex are the API's own codes (``RECRUITING``, ``PHASE2``, ``ALL``), the
  codes ClinicalTrials.gov's own downloads use, so they stay the same from week to week.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import pandas as pd

from .annotate import Annotated, is_stale
from .design import ALLOCATION_WORDS, DESIGN_COLUMNS, comparator_text, design_columns
from .vocabulary import FAMILIES, SETTINGS
from .eligibility import DISEASE_KEYS, DRUG_KEYS, FLAGS, NUMBER_KEYS
from .geo import DISTANCE_UNKNOWN, NearestSite, Place, sites_by_distance
from .model import Contact, Study
from .search_record import SearchRecord

LIST_SEP = "; "

#: One row per study. Meanings: see COLUMN_MEANINGS.
TRIAL_COLUMNS: tuple[str, ...] = (
    "nct_id", "url", "title", "status", "phases", "setting", "myeloma_only", "family_ids", "families", "why",
    "sponsor", "conditions", "interventions", "randomized", "comparator", *DESIGN_COLUMNS,
    "min_age_years", "max_age_years", "sex",
    "searched_place", "nearest_site", "nearest_site_city", "nearest_site_state", "nearest_site_country",
    "distance_mi", "distance_basis", "nearest_site_contact_name", "nearest_site_contact_phone", "nearest_site_contact_email",
    "site_count", "recruiting_site_count",
    "central_contact_name", "central_contact_phone", "central_contact_email",
    "first_posted", "last_update_posted", "status_verified", "stale",
    *FLAGS, *NUMBER_KEYS, *DISEASE_KEYS, *DRUG_KEYS, "fit", "fit_reasons",
    "data_as_of", "source", "search",
)

#: One row per study x site (a study that lists no site gets one row with empty site columns,
#: so every study of the search is in the export).
SITE_COLUMNS: tuple[str, ...] = (
    "nct_id", "url", "title", "status", "family_ids", "families", "last_update_posted",
    "facility", "city", "state", "zip", "country", "site_status", "distance_mi", "distance_basis",
    "site_contact_name", "site_contact_phone", "site_contact_email",
    "data_as_of", "source", "search",
)

FLOAT_COLUMNS = frozenset({"min_age_years", "max_age_years", "distance_mi"})
INT_COLUMNS = frozenset({"site_count", "recruiting_site_count", *NUMBER_KEYS})
BOOL_COLUMNS = frozenset({"randomized", "stale", "myeloma_only", "first_in_human", "dose_escalation"})

COLUMN_MEANINGS: dict[str, str] = {
    "nct_id": "ClinicalTrials.gov identifier (NCT + 8 digits)",
    "url": "the study's page on ClinicalTrials.gov",
    "title": "brief title (official title when there is none)",
    "status": "overall recruitment status, API code (RECRUITING, ACTIVE_NOT_RECRUITING, ...)",
    "phases": "phases, API codes, '; '-joined (PHASE1; PHASE2); empty for studies without phases",
    "setting": "disease setting in words (e.g. 'Relapsed or refractory myeloma')",
    "myeloma_only": "FALSE when the study also enrols people with other diseases (basket studies: several blood cancers, "
                    "advanced cancers) or is about another disease; TRUE when it is only for myeloma",
    "family_ids": "therapy family ids, '; '-joined (car_t; bispecific; ...); 'unclassified' when none matched",
    "families": "the same families as labels ('CAR T-cell therapy; Bispecific antibody (T-cell engager)')",
    "why": "the evidence sentences that put the study in those families",
    "sponsor": "lead sponsor",
    "conditions": "conditions as the record lists them, '; '-joined",
    "interventions": "interventions as 'TYPE: name', '; '-joined",
    "randomized": "TRUE when allocation is randomized, FALSE when not, empty when the record is silent",
    "comparator": "comparator/control arms: 'label (interventions)', '; '-joined; empty when there is none",
    **DESIGN_COLUMNS,
    "min_age_years": "minimum age in years (number; empty = no minimum stated)",
    "max_age_years": "maximum age in years (number; empty = no upper limit)",
    "sex": "ALL, FEMALE or MALE",
    "searched_place": "the place distances are measured from (--near); empty without one",
    "nearest_site": "facility of the nearest site that is itself RECRUITING (only with a searched place)",
    "nearest_site_city": "its city",
    "nearest_site_state": "its state or region",
    "nearest_site_country": "its country",
    "distance_mi": "miles from the searched place (number, 1 decimal); empty when the site can't be placed",
    "distance_basis": "how distance_mi was found: 'site coordinates' (the record's map position), 'site ZIP' "
                      "(centre of the site's US ZIP code) or 'site city' (centre of its city), both approximate; "
                      "'distance unknown' when none of these places the site; empty without a searched place "
                      "(and, per study, when no site is recruiting)",
    "nearest_site_contact_name": "that site's contact (first one with a phone or e-mail)",
    "nearest_site_contact_phone": "its phone (' ext. N' appended when there is an extension)",
    "nearest_site_contact_email": "its e-mail",
    "site_count": "number of sites listed (any status)",
    "recruiting_site_count": "number of sites whose own status is RECRUITING",
    "central_contact_name": "the study's first central contact",
    "central_contact_phone": "its phone",
    "central_contact_email": "its e-mail",
    "first_posted": "date first posted (ISO; partial dates as given)",
    "last_update_posted": "date of the last update posted (ISO)",
    "status_verified": "month the status was last verified (ISO, usually YYYY-MM)",
    "stale": "TRUE when the status was not verified for over 12 months; empty when the record has no date to tell",
    "prior_car_t": "prior CAR T: required / excluded / allowed / not_mentioned",
    "prior_bcma": "prior BCMA-directed therapy: same values",
    "prior_bispecific": "prior bispecific antibody: same values",
    "prior_anti_cd38": "prior anti-CD38 antibody: same values",
    "triple_class": "triple-class exposure/refractoriness: same values",
    "min_prior_lines": "minimum number of prior lines of therapy (integer; empty = not stated)",
    "max_prior_lines": "maximum number of prior lines of therapy (integer; empty = not stated)",
    "prior_gprc5d": "prior GPRC5D-targeted therapy: required / excluded / allowed / not_mentioned",
    "prior_autologous_transplant": "prior autologous stem cell transplant: same values (a time window is allowed)",
    "prior_allogeneic_transplant": "prior allogeneic (donor) stem cell transplant: same values",
    "min_creatinine_clearance": "lowest creatinine clearance / eGFR accepted, mL/min (integer; empty = not stated)",
    "max_ecog": "highest ECOG performance status accepted (0-4; empty = not stated)",
    "cns_involvement": "myeloma in the central nervous system: required / excluded / allowed / not_mentioned",
    "plasma_cell_leukemia": "plasma cell leukaemia: same values",
    "amyloidosis": "AL amyloidosis: same values",
    "measurable_disease": "measurable disease: required / not_mentioned",
    "required_drugs": "drugs the criteria demand earlier treatment with (or refractoriness to), '; '-separated",
    "excluded_drugs": "drugs whose earlier use (or refractoriness) the criteria name as a reason to exclude",
    "fit": "the searched history against the criteria: conflict / check / no_conflict (empty without answers); "
           "not a decision on eligibility",
    "fit_reasons": "the criteria behind `fit`, each 'status: what the study says', ' | '-separated",
    "data_as_of": "when ClinicalTrials.gov's data was current (date and time, UTC)",
    "source": "live, cache (a saved earlier answer) or snapshot (bundled offline data)",
    "search": "the search that made the file, on the first row only: a JSON object with its parameters "
              "and the ClinicalTrials.gov list request (the place is matched locally, never sent)",
    "facility": "site name",
    "city": "site city",
    "state": "site state or region",
    "zip": "site postal code (text: leading zeros kept)",
    "country": "site country",
    "site_status": "the site's own recruitment status (API code; empty when the record gives none)",
    "site_contact_name": "the site's contact (first one with a phone or e-mail)",
    "site_contact_phone": "its phone",
    "site_contact_email": "its e-mail",
}


# --- cell helpers ------------------------------------------------------------------------------

def _join(items: Iterable[str]) -> str:
    return LIST_SEP.join(dict.fromkeys(i for i in items if i))


_NO_CONTACT = Contact()


def _best_contact(contacts: Iterable[Contact]) -> Contact:
    """The first contact someone can actually reach (phone or e-mail), else the first one."""
    first = None
    for contact in contacts:
        if contact.phone or contact.email:
            return contact
        first = first or contact
    return first or _NO_CONTACT


def _miles(value: float | None) -> float:
    return round(value, 1) if value is not None else float("nan")


def _basis(measured: NearestSite) -> str:
    return measured.basis if measured.miles is not None else DISTANCE_UNKNOWN


def _age(value: float | None) -> float:
    return float(value) if value is not None else float("nan")


def _typed(rows: list, columns: tuple[str, ...], search: SearchRecord | None = None) -> pd.DataFrame:
    """A frame with exactly `columns`, in order, with the documented dtypes (also when empty), and
    the search on the first row (one cell: the file records it without repeating it per row)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    if search is not None:
        frame.attrs["search"] = search.to_json()  # also when no row holds it (an empty list's .xlsx)
        if len(frame) and "search" in frame:
            frame.loc[frame.index[0], "search"] = search.to_json()
    for col in columns:
        if col in FLOAT_COLUMNS:
            frame[col] = frame[col].astype("float64")
        elif col in INT_COLUMNS:
            frame[col] = frame[col].astype("Int64")
        elif col in BOOL_COLUMNS:
            frame[col] = frame[col].astype("boolean")
        else:
            frame[col] = frame[col].fillna("").astype(str)
    return frame


# --- the frames --------------------------------------------------------------------------------

def trial_row(a: Annotated, *, data_as_of: str, source: str, place: Place | None = None,
              today: dt.date | None = None) -> dict:
    s = a.study
    c = a.classification
    central = _best_contact(s.central_contacts)
    nearest = a.nearest.site if (place is not None and a.nearest is not None) else None
    near_contact = _best_contact(nearest.contacts) if nearest else Contact()
    row = {
        "nct_id": s.nct_id,
        "url": s.url,
        "title": s.title,
        "status": s.overall_status,
        "phases": _join(s.phases),
        "setting": SETTINGS.get(c.setting, c.setting),
        "myeloma_only": c.myeloma_only,
        "family_ids": _join(c.families),
        "families": _join(FAMILIES[f].label if f in FAMILIES else f for f in c.families),
        "why": " ".join(dict.fromkeys(e.reason for e in c.evidence)),
        "sponsor": s.lead_sponsor,
        "conditions": _join(s.conditions),
        "interventions": _join(f"{i.type}: {i.name}" if i.type else i.name for i in s.interventions),
        "randomized": ALLOCATION_WORDS.get(s.allocation, (None,))[0],  # None: the record doesn't say
        "comparator": comparator_text(s),
        **design_columns(a.design),
        "min_age_years": _age(s.eligibility.min_age_years),
        "max_age_years": _age(s.eligibility.max_age_years),
        "sex": s.eligibility.sex,
        "searched_place": place.label if place else "",
        "nearest_site": nearest.facility if nearest else "",
        "nearest_site_city": nearest.city if nearest else "",
        "nearest_site_state": nearest.state if nearest else "",
        "nearest_site_country": nearest.country if nearest else "",
        "distance_mi": _miles(a.nearest.miles) if nearest else float("nan"),
        "distance_basis": _basis(a.nearest) if nearest else "",
        "nearest_site_contact_name": near_contact.name,
        "nearest_site_contact_phone": near_contact.phone_text,
        "nearest_site_contact_email": near_contact.email,
        "site_count": len(s.sites),
        "recruiting_site_count": len(s.recruiting_sites),
        "central_contact_name": central.name,
        "central_contact_phone": central.phone_text,
        "central_contact_email": central.email,
        "first_posted": s.first_posted,
        "last_update_posted": s.last_update_posted,
        "status_verified": s.status_verified,
        "stale": is_stale(s, today),
        "data_as_of": data_as_of,
        "source": source,
        "search": "",
    }
    for key in FLAGS + DISEASE_KEYS:
        flag = a.flags.get(key)
        row[key] = flag.value if flag is not None else "not_mentioned"
    for key in NUMBER_KEYS:
        flag = a.flags.get(key)
        row[key] = flag.value if flag is not None else None
    for key in DRUG_KEYS:
        flag = a.flags.get(key)
        row[key] = "; ".join(flag.value) if flag is not None else ""
    row["fit"] = a.fit.verdict if a.fit is not None else ""
    row["fit_reasons"] = " | ".join(f"{r.status}: {r.says}" for r in a.fit.reasons) if a.fit is not None else ""
    return row


def trials_frame(annotated: Iterable[Annotated], *, data_as_of: str, source: str,
                 place: Place | None = None, today: dt.date | None = None,
                 search: SearchRecord | None = None) -> pd.DataFrame:
    """One row per study, columns TRIAL_COLUMNS in that order (see COLUMN_MEANINGS).

    The nearest-site columns are filled only when `place` (the searched place) is given: without
    one, "nearest" would only mean "first in the record's list". `today` fixes the staleness date.
    """
    rows = [trial_row(a, data_as_of=data_as_of, source=source, place=place, today=today) for a in annotated]
    return _typed(rows, TRIAL_COLUMNS, search)


_NO_SITE = ("", "", "", "", "", "", float("nan"), "", "", "", "")


def _site_cells(measured: NearestSite | None, place: Place | None) -> tuple:
    """SITE_COLUMNS from facility to site_contact_email, in that order."""
    if measured is None:
        return _NO_SITE
    site = measured.site
    contact = _best_contact(site.contacts)
    return (site.facility, site.city, site.state, site.zip, site.country, site.status, _miles(measured.miles),
            _basis(measured) if place is not None else "", contact.name, contact.phone_text, contact.email)


def sites_frame(annotated: Iterable[Annotated], *, data_as_of: str, source: str,
                place: Place | None = None, search: SearchRecord | None = None) -> pd.DataFrame:
    """One row per study x site, columns SITE_COLUMNS in that order.

    Sites of a study come nearest first when `place` is given (sites that can't be placed last),
    otherwise in the record's order. A study with no site gets one row with empty site columns.
    """
    rows = []  # tuples in SITE_COLUMNS order: a dict per row costs more than the rest of the frame
    tail = (data_as_of, source, "")
    for a in annotated:
        s = a.study
        study_cells = (s.nct_id, s.url, s.title, s.overall_status, _join(a.families),
                       _join(FAMILIES[f].label if f in FAMILIES else f for f in a.families), s.last_update_posted)
        for measured in sites_by_distance(s, place) or [None]:
            rows.append(study_cells + _site_cells(measured, place) + tail)
    return _typed(rows, SITE_COLUMNS, search)


def coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the known columns of a frame read back from text their documented dtypes.

    Raises ValueError naming the column and the value when a number or TRUE/FALSE can't be read.
    """
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        typed = pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
        if col in FLOAT_COLUMNS or col in INT_COLUMNS:
            if typed and not pd.api.types.is_bool_dtype(values.dtype):
                numbers = values.astype("float64")
            else:
                text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
                numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
                bad = text[(text != "") & numbers.isna()]
                if len(bad):
                    raise ValueError(f'column {col}: "{bad.iloc[0][:40]}" is not a number')
            if col in INT_COLUMNS:
                if ((numbers.dropna() % 1) != 0).any():
                    raise ValueError(f"column {col}: expected whole numbers")
                out[col] = numbers.astype("Int64")
            else:
                out[col] = numbers.astype("float64")
        elif col in BOOL_COLUMNS:
            if pd.api.types.is_bool_dtype(values.dtype):
                out[col] = values.astype("boolean")
                continue
            text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
            mapping = {"true": True, "false": False, "": None, "1": True, "0": False}
            bad = text[~text.isin(list(mapping))]
            if len(bad):
                raise ValueError(f'column {col}: "{bad.iloc[0][:40]}" is not TRUE or FALSE')
            out[col] = text.map(mapping).astype("boolean")
        elif not (values.dtype == _TEXT and values.dtype.storage == _TEXT.storage and not values.hasnans):
            # (a text column as read from a file is already so: most columns, nothing to do)
            out[col] = values.astype(object).where(values.notna(), "").astype(str)
    return out


_TEXT = pd.Series([], dtype=str).dtype  # what .astype(str) gives
