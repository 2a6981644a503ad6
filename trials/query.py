"""What to ask ClinicalTrials.gov: a TrialQuery and the pure function that turns it into API parameters.

Parameter names and syntax follow the official v2 spec (ctg-oas-v2.yaml 2.0.5): there is no
`filter.phase` (phases go through `filter.advanced=AREA[Phase]...`), `filter.geo` takes
`distance(lat,lon,Nmi)` with no spaces, and user text is always quoted so it can neither break
nor widen an Essie expression.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from .errors import BadInput

# The API's vocabulary (spec components.schemas.Status / Phase), with the words a patient reads.
STATUSES: dict[str, str] = {
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "COMPLETED": "Completed",
    "WITHDRAWN": "Withdrawn",
    "AVAILABLE": "Available (expanded access)",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
    "UNKNOWN": "Unknown status",
}
PHASES: dict[str, str] = {
    "EARLY_PHASE1": "Early phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
    "NA": "Not applicable",
}
MYELOMA_CONDITIONS = ("multiple myeloma", "plasma cell myeloma")

# Only what list views, classification, eligibility flags, distances and exports use.
# The full record (outcomes, references, results, derived browse trees...) is fetched per study.
LIST_FIELDS = (
    "protocolSection.identificationModule.nctId",
    "protocolSection.identificationModule.briefTitle",
    "protocolSection.identificationModule.officialTitle",
    "protocolSection.identificationModule.acronym",
    "protocolSection.statusModule.overallStatus",
    "protocolSection.statusModule.statusVerifiedDate",
    "protocolSection.statusModule.startDateStruct",
    "protocolSection.statusModule.primaryCompletionDateStruct",
    "protocolSection.statusModule.studyFirstPostDateStruct",
    "protocolSection.statusModule.lastUpdatePostDateStruct",
    "protocolSection.sponsorCollaboratorsModule.leadSponsor",
    "protocolSection.descriptionModule.briefSummary",
    "protocolSection.conditionsModule",
    "protocolSection.designModule.studyType",
    "protocolSection.designModule.phases",
    "protocolSection.designModule.designInfo.allocation",
    "protocolSection.designModule.designInfo.primaryPurpose",
    "protocolSection.designModule.enrollmentInfo",
    "protocolSection.armsInterventionsModule",
    "protocolSection.eligibilityModule",
    "protocolSection.contactsLocationsModule.centralContacts",
    "protocolSection.contactsLocationsModule.locations",
    "derivedSection.conditionBrowseModule.meshes",
)
PAGE_SIZE = 1000  # the API's maximum; larger values are silently capped (spec)

NCT_ID = re.compile(r"^NCT\d{8}$")
_PHASE_ALIASES = {"0": "EARLY_PHASE1", "EARLY1": "EARLY_PHASE1", "1": "PHASE1", "2": "PHASE2",
                  "3": "PHASE3", "4": "PHASE4", "N/A": "NA"}


@dataclass(frozen=True)
class GeoFilter:
    lat: float
    lon: float
    miles: float


@dataclass(frozen=True)
class TrialQuery:
    conditions: tuple[str, ...] = MYELOMA_CONDITIONS
    statuses: tuple[str, ...] = ("RECRUITING",)  # empty = every status
    phases: tuple[str, ...] = ()  # empty = every phase (and studies with none)
    near: GeoFilter | None = None
    terms: tuple[str, ...] = ()  # free text, every term must match
    updated_since: dt.date | None = None
    nct_ids: tuple[str, ...] = field(default=())

    def with_(self, **changes) -> "TrialQuery":
        return replace(self, **changes)


# --- normalising user input --------------------------------------------------------------------

def _parse_list(text: str, vocabulary: dict[str, str], spell, what: str, hint: str) -> tuple[str, ...]:
    """Comma- or pipe-separated values mapped by `spell` onto the API's vocabulary, in order, once each."""
    out = []
    for part in re.split(r"[,|]", text):
        key = spell(part.strip())
        if not key:
            continue
        if key not in vocabulary:
            raise BadInput(f'Unknown {what} "{part.strip()}". {hint}')
        out.append(key)
    if not out:
        raise BadInput(f'No {what} in "{text.strip()[:40]}". {hint}')
    return tuple(dict.fromkeys(out))


def _status_key(part: str) -> str:
    return re.sub(r"[\s,-]+", "_", part).upper()


def _phase_key(part: str) -> str:
    key = re.sub(r"[\s_-]+", "", part).upper()
    if not key:
        return ""
    key = _PHASE_ALIASES.get(key.removeprefix("PHASE"), key)
    return {"EARLYPHASE1": "EARLY_PHASE1"}.get(key, key)


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """'RECRUITING,not yet recruiting' -> ('RECRUITING', 'NOT_YET_RECRUITING'); 'all' -> ()."""
    if text is None or not text.strip():
        return ("RECRUITING",)
    if text.strip().lower() in ("all", "any", "*"):
        return ()
    return _parse_list(text, STATUSES, _status_key, "status",
                       f'Use one of: {", ".join(STATUSES)} (or "all").')


def parse_phases(text: str | None) -> tuple[str, ...]:
    """'2,3' / 'PHASE2|phase 3' / 'early_phase1' -> ('PHASE2', 'PHASE3')."""
    if text is None or not text.strip() or text.strip().lower() in ("all", "any"):
        return ()
    return _parse_list(text, PHASES, _phase_key, "phase", 'Use 1, 2, 3, 4, early1 or NA (e.g. --phase 2,3), or "all".')


def parse_nct_ids(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if not text:
        return ()
    parts = re.split(r"[\s,|]+", text) if isinstance(text, str) else [p for t in text for p in re.split(r"[\s,|]+", t)]
    out = []
    for part in parts:
        key = part.strip().upper()
        if not key:
            continue
        if not NCT_ID.match(key) or key == "NCT00000000":
            raise BadInput(f'"{part.strip()[:40]}" is not an NCT number. They look like NCT01234567 (NCT and 8 digits).')
        out.append(key)
    return tuple(dict.fromkeys(out))


def parse_date(text: str | None) -> dt.date | None:
    if text is None or not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise BadInput(f'"{str(text).strip()[:40]}" is not a date. Write it as YYYY-MM-DD, e.g. 2026-01-31.') from None


MAX_TEXT = 200  # characters of one search phrase; longer text is refused, never silently cut


def _plain(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f\\]", " ", str(text))
    return re.sub(r"\s+", " ", text).strip()


def clean_text(text: str) -> str:
    """User text as plain words: no control characters, no backslashes, bounded length (for display)."""
    return _plain(text)[:MAX_TEXT]


def essie_phrase(text: str) -> str:
    """Quote user text as one Essie phrase. Inside quotes only embedded quotes need escaping
    (Essie syntax page); backslashes and control characters were removed by clean_text, so a
    trailing backslash can't escape the closing quote."""
    words = _plain(text)
    if not words:
        raise BadInput("The search text is empty once odd characters are removed.")
    if len(words) > MAX_TEXT:
        raise BadInput(f'The search text "{words[:40]}…" is {len(words)} characters long; '
                       f"the most is {MAX_TEXT}. Use a shorter phrase, or several --term.")
    return '"' + words.replace('"', '\\"') + '"'


# --- TrialQuery -> API parameters --------------------------------------------------------------

def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def build_params(query: TrialQuery, *, fields: tuple[str, ...] | None = LIST_FIELDS,
                 page_size: int = PAGE_SIZE) -> dict[str, str]:
    """Parameters for GET /studies (first page; the client adds pageToken for the next ones)."""
    params: dict[str, str] = {"format": "json", "pageSize": str(page_size)}
    if query.conditions:
        params["query.cond"] = " OR ".join(essie_phrase(c) for c in query.conditions)
    if query.terms:
        params["query.term"] = " AND ".join(essie_phrase(t) for t in query.terms)
    if query.statuses:
        params["filter.overallStatus"] = ",".join(query.statuses)
    if query.nct_ids:
        params["filter.ids"] = ",".join(query.nct_ids)
    if query.near is not None:
        g = query.near
        params["filter.geo"] = f"distance({_number(g.lat)},{_number(g.lon)},{_number(max(g.miles, 1.0))}mi)"
    advanced = []
    if query.phases:
        ors = " OR ".join(f"AREA[Phase]{p}" for p in query.phases)
        advanced.append(f"({ors})" if len(query.phases) > 1 else ors)
    if query.updated_since is not None:
        advanced.append(f"AREA[LastUpdatePostDate]RANGE[{query.updated_since.isoformat()},MAX]")
    if advanced:
        params["filter.advanced"] = " AND ".join(advanced)
    if fields:
        params["fields"] = ",".join(fields)
    return params


def describe(query: TrialQuery) -> str:
    """One line a person can read back: what was searched."""
    bits = [" or ".join(query.conditions) or "all conditions"]
    bits.append(", ".join(STATUSES[s] for s in query.statuses) if query.statuses else "any status")
    if query.phases:
        bits.append(", ".join(PHASES[p] for p in query.phases))
    if query.terms:
        bits.append("matching " + " and ".join(f'"{clean_text(t)}"' for t in query.terms))
    if query.near:
        bits.append(f"within {_number(query.near.miles)} miles")
    if query.updated_since:
        bits.append(f"updated since {query.updated_since.isoformat()}")
    if query.nct_ids:
        bits.append(", ".join(query.nct_ids))
    return "; ".join(bits)


def api_url(query: TrialQuery, base_url: str) -> str:
    """The exact GET /studies address of this search's first page, as the client sends it (later
    pages add the pageToken the API hands back), so a navigator can run it again."""
    return f"{base_url}/studies?{urlencode(build_params(query))}"
