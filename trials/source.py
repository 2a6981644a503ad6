"""Where answers come from: live API -> local HTTP cache -> bundled snapshot.

Every result says which source answered and as of when, so the UI and the CLI can say so.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .client import Client, Progress, default_cache_path
from .errors import ApiUnreachable, BadResponse, StudyNotFound
from .model import Study
from .query import TrialQuery
from .snapshot import load_snapshot, search_snapshot

SOURCE_LABELS = {
    "live": "live from ClinicalTrials.gov",
    "cache": "saved copy of an earlier ClinicalTrials.gov answer",
    "snapshot": "offline — bundled snapshot",
}


@dataclass
class SearchResult:
    studies: list[Study]
    source: str  # "live" | "cache" | "snapshot"
    data_as_of: str
    query: TrialQuery
    total: int | None = None
    failure: str = ""  # why ClinicalTrials.gov did not answer live, in words a person can act on
    shortfall: str = ""  # why the list may be incomplete ("got N of M studies: ..."); "" when whole

    @property
    def notice(self) -> str:
        """The failure and what answered instead; "" when the live API answered."""
        return f"{self.failure} {FALLBACK_SENTENCES[self.source]}" if self.failure else ""

    @property
    def banner(self) -> str:
        """e.g. 'offline — bundled snapshot, data as of 2026-09-18'."""
        when = f", data as of {self.data_as_of}" if self.data_as_of else ""
        return f"{SOURCE_LABELS[self.source]}{when}"


FALLBACK_SENTENCES = {
    "live": "",
    "cache": "Showing the last saved answer for this search.",
    "snapshot": "Showing the bundled snapshot instead.",
}


def default_client(*, cache: bool = True) -> Client:
    """The client the CLI and the app use (tests replace this to inject timing and retries)."""
    return Client(cache_path=default_cache_path() if cache else None)


def as_of_text(stamp: str) -> str:
    """/version's dataTimestamp (2026-09-04T09:00:06) as people read it: 2026-09-04 09:00."""
    return stamp.replace("T", " ")[:16] if stamp else ""


def search(query: TrialQuery, *, offline: bool = False, client: Client | None = None,
           progress: Progress | None = None) -> SearchResult:
    """All studies matching the query from the best source available.

    A refused query (400) is raised, not hidden behind saved data: the user must fix it.
    """
    if offline:
        return _from_snapshot(query, "")
    client = client or default_client()
    try:
        fetched = client.search(query, progress=progress)
        source = "cache" if fetched.from_cache else "live"
        as_of = as_of_text(fetched.data_as_of) or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC (fetched)")
        return SearchResult([Study.from_api(r) for r in fetched.studies], source, as_of, query,
                            fetched.total, shortfall=fetched.shortfall)
    except (ApiUnreachable, BadResponse) as live_error:
        problem = str(live_error)
    if hasattr(client.session, "cache"):
        try:
            cached = client.search(query, cache_only=True)
            return SearchResult([Study.from_api(r) for r in cached.studies], "cache",
                                as_of_text(cached.data_as_of), query, cached.total,
                                failure=problem, shortfall=cached.shortfall)
        except (ApiUnreachable, BadResponse):
            pass
    return _from_snapshot(query, problem)


def _from_snapshot(query: TrialQuery, failure: str) -> SearchResult:
    snapshot = load_snapshot()
    studies = search_snapshot(query, snapshot)
    return SearchResult(studies, "snapshot", snapshot.data_as_of, query, len(studies), failure=failure)


def fetch_study(nct_id: str, *, offline: bool = False, client: Client | None = None) -> tuple[Study, str]:
    """One study's full record and the source that answered; StudyNotFound if nobody has it."""
    if not offline:
        client = client or default_client()
        for cache_only in (False, True):
            try:
                return Study.from_api(client.fetch_study(nct_id, cache_only=cache_only)), ("cache" if cache_only else "live")
            except (ApiUnreachable, BadResponse):
                continue
    for study in load_snapshot().studies:
        if study.nct_id == nct_id:
            return study, "snapshot"
    raise StudyNotFound(nct_id)
