"""Where answers come from: the study store when it is fresh -> live API -> the store even when it
is not fresh -> local HTTP cache -> bundled snapshot.

Every result says which source answered and as of when, so the UI and the CLI can say so. The
store and the snapshot are filtered by the same function (`snapshot.matches`).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable, TypeVar

from .errors import ApiUnreachable, BadResponse, StoreError, StudyNotFound
from .model import Study
from .query import TrialQuery
from .snapshot import load_snapshot, search_snapshot
from .store import Store, SyncState

if TYPE_CHECKING:  # the HTTP client (requests, urllib3) is imported only when asked to go live
    from .client import Client, Progress

log = logging.getLogger(__name__)

SOURCE_LABELS = {
    "store": "local study store",
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
    synced: str = ""  # store answers: "synced 3 h ago"
    annotations: dict | None = None  # store answers: nct id -> annotate.Reading computed at sync
    shortfall: str = ""  # why the list may be incomplete ("got N of M studies: ..."); "" when whole

    @property
    def notice(self) -> str:
        """The failure and what answered instead; "" when the live API answered."""
        return f"{self.failure} {FALLBACK_SENTENCES[self.source]}" if self.failure else ""

    @property
    def banner(self) -> str:
        """e.g. 'offline — bundled snapshot, data as of 2026-09-18'."""
        when = f", data as of {self.data_as_of}" if self.data_as_of else ""
        synced = f" ({self.synced})" if self.synced else ""
        return f"{SOURCE_LABELS[self.source]}{when}{synced}"


FALLBACK_SENTENCES = {
    "live": "",
    "store": "Showing the local study store's last synced copy instead.",
    "cache": "Showing the last saved answer for this search.",
    "snapshot": "Showing the bundled snapshot instead.",
}


def default_client(*, cache: bool = True) -> Client:
    """The client the CLI and the app use (tests replace this to inject timing and retries)."""
    from .client import Client, default_cache_path

    return Client(cache_path=default_cache_path() if cache else None)


def as_of_text(stamp: str) -> str:
    """/version's dataTimestamp (2026-09-04T09:00:06) as people read it: 2026-09-04 09:00."""
    return stamp.replace("T", " ")[:16] if stamp else ""


_NO_STORE = object()
_stores: dict[str, Store] = {}


def configured_store() -> Store | None:
    """The study store TRIALS_DB_URL (or the default SQLite file) names, once per process; None
    when nobody has synced one, or when it can't be opened (logged: searches go on without it)."""
    from .store import default_url

    url = default_url()
    if url not in _stores:
        try:
            store = Store.open(url)
        except StoreError as exc:
            log.warning("%s", exc)
            return None
        if store is None:
            return None  # not cached: a sync may create it later
        _stores[url] = store
    return _stores[url]


def search(query: TrialQuery, *, offline: bool = False, client: Client | None = None,
           progress: Progress | None = None, store: Store | None | object = _NO_STORE) -> SearchResult:
    """All studies matching the query from the best source available.

    A refused query (400) is raised, not hidden behind saved data: the user must fix it.
    `store` defaults to the configured one; None searches without a store.
    """
    if offline:
        return _from_snapshot(query, "")
    store = configured_store() if store is _NO_STORE else store
    state = _store_state(store)
    if state is not None and state.is_fresh():
        return _from_store(query, store, state, "")
    client = client or default_client()
    try:
        fetched = client.search(query, progress=progress)
        source = "cache" if fetched.from_cache else "live"
        as_of = as_of_text(fetched.data_as_of) or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC (fetched)")
        return SearchResult([Study.from_api(r) for r in fetched.studies], source, as_of, query,
                            fetched.total, shortfall=fetched.shortfall)
    except (ApiUnreachable, BadResponse) as live_error:
        problem = str(live_error)
    if state is not None and state.studies:
        return _from_store(query, store, state, problem)
    if hasattr(client.session, "cache"):
        try:
            cached = client.search(query, cache_only=True)
            return SearchResult([Study.from_api(r) for r in cached.studies], "cache",
                                as_of_text(cached.data_as_of), query, cached.total,
                                failure=problem, shortfall=cached.shortfall)
        except (ApiUnreachable, BadResponse):
            pass
    return _from_snapshot(query, problem)


def _store_state(store: Store | None) -> SyncState | None:
    if store is None:
        return None
    try:
        return store.state()
    except Exception as exc:  # a database that went away must not stop a search that has other sources
        log.warning("the study store could not be read: %s", exc)
        return None


def _from_store(query: TrialQuery, store: Store, state: SyncState, failure: str) -> SearchResult:
    stored = store.studies(query)
    return SearchResult([s.study for s in stored], "store", as_of_text(state.data_as_of), query, len(stored),
                        failure=failure, synced=state.age_text(),
                        annotations={s.study.nct_id: s.reading for s in stored})


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
