"""The only module that talks HTTP: ClinicalTrials.gov API v2.

Facts it relies on (shared ctgov-api reference, sourced there): cursor paging with
`nextPageToken` (absent on the last page; a full last page may be followed by an empty one),
`countTotal` only on the first page, `pageSize` capped at 1000, 400 bodies are plain text worth
showing, 301 for an aliased NCT id, no published rate limit but robots.txt asks for 1 s between
requests, 429/5xx seen in the wild, HTML error pages sometimes served with status 200.

Retries live in one loop here rather than on a urllib3 `Retry` mounted on the adapter: a 200
that carries an HTML page or a truncated body must be retried exactly like a 503, and the total
wait must stay bounded even when a server asks for a long `Retry-After`. urllib3 sees neither.
"""
from __future__ import annotations

import email.utils
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import requests

from .errors import ApiUnreachable, BadResponse, IncompleteList, QueryRefused, StudyNotFound
from .query import TrialQuery, build_params

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"  # OAS `servers`
USER_AGENT = "myeloma-trial-finder/0.1 (+open-source; ClinicalTrials.gov API v2 client)"
# requests has no default timeout. Connect fails fast so an offline machine falls back quickly;
# deep pages of large result sets are reported slow, hence the long read timeout.
TIMEOUT = (4.0, 45.0)
MIN_INTERVAL = 1.0  # seconds between network requests (robots.txt Crawl-delay: 1)
MAX_ATTEMPTS = 6  # per request, first try included
CONNECT_ATTEMPTS = 2  # a refused connection or failed DNS lookup rarely heals within seconds
CONNECT_RETRY_DELAY = 0.1
TIMEOUT_ATTEMPTS = 2  # a server that let two requests time out is treated as down
VERSION_TIMEOUT = (4.0, 10.0)  # /version is tiny: a slow answer there means a slow API
RETRY_BUDGET = 90.0  # wall-clock seconds per request: waits, Retry-After and timeouts included
CACHE_EXPIRY = timedelta(hours=4)
# Saved answers stale for longer than this are deleted when the cache opens: the "last saved
# answer" fallback keeps a month of use, and the file can't grow without bound (SQLite reuses the
# freed pages).
KEEP_SAVED_FOR = timedelta(days=30)
LOCK_WAIT = 2.0  # seconds to wait for another program writing to the cache, then go on without it
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Searches carrying what a person typed (a place's coordinates, free text) are never written to
# the on-disk HTTP cache: nothing a patient enters is stored. Nor is a single study's record:
# the studies a person opened would otherwise stay on disk as a history.
PRIVATE_PARAMS = frozenset({"filter.geo", "query.term"})

log = logging.getLogger(__name__)

Progress = Callable[[int, int, int | None], None]  # pages done, studies so far, total (if known)


def base_url_from_env() -> str:
    return (os.environ.get("CTGOV_API_URL") or DEFAULT_BASE_URL).rstrip("/")


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("myeloma-trial-finder")) / "ctgov-http-cache"


def _keep_in_cache(response: requests.Response) -> bool:
    """Cheap check before a 200 is cached: never store an HTML page or a cut-off body.

    Other statuses pass: `allowable_codes` already keeps them out, and requests-cache deletes
    the saved copy of any response this rejects, which must not happen on a passing 503.
    Searches carrying what a person typed (PRIVATE_PARAMS) and single-study records are never kept."""
    url = urlsplit(response.url or "")
    if any(key in PRIVATE_PARAMS for key, _ in parse_qsl(url.query)):
        return False
    if "/studies/" in url.path:
        return False
    if response.status_code != 200:
        return True
    body = (response.content or b"").strip()
    return body[:1] in (b"{", b"[") and body[-1:] in (b"}", b"]")


def make_session(cache_path: Path | None, expiry: timedelta = CACHE_EXPIRY) -> requests.Session:
    """One session for the whole client; with a path, an SQLite HTTP cache if it can be used.

    A cache must never break a search: a corrupt or truncated file is set aside (renamed, with a
    warning) and a fresh one started; a locked or unwritable one, or a file where its folder should
    be, is bypassed (warning) and the search goes on live. Stale copies are served only through an
    explicit cache-only request (see Client._send), so a failing API is first retried and then
    reported, never silently papered over."""
    session = _cached_session(cache_path, expiry) if cache_path is not None else None
    if session is None:
        session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


def _cached_session(path: Path, expiry: timedelta) -> requests.Session | None:
    try:
        return _open_cache(path, expiry)
    except (sqlite3.Error, OSError) as exc:
        if _is_damaged(exc) and (aside := _set_aside(_db_file(path))):
            log.warning("the HTTP cache %s was damaged (%s); moved it to %s and started a new one",
                        _db_file(path), exc, aside.name)
            try:
                return _open_cache(path, expiry)
            except (sqlite3.Error, OSError) as again:
                exc = again
        log.warning("the HTTP cache %s can't be used (%s); searching without it", _db_file(path), exc)
        return None


def _open_cache(path: Path, expiry: timedelta) -> requests.Session:
    import requests_cache

    path.parent.mkdir(parents=True, exist_ok=True)
    _check_and_prune(_db_file(path))  # a damaged, locked or read-only cache fails here, not mid-search
    return requests_cache.CachedSession(
        str(path), backend="sqlite", expire_after=expiry,
        allowable_codes=(200,), filter_fn=_keep_in_cache,
    )


def _check_and_prune(db: Path) -> None:
    """Raise sqlite3.Error if the file is damaged, locked or read-only (requests-cache would wait
    for a lock forever, so the wait is bounded here), then delete answers whose freshness ended
    more than KEEP_SAVED_FOR ago."""
    if not db.exists():
        return
    con = sqlite3.connect(db, timeout=LOCK_WAIT)
    try:
        con.execute("BEGIN IMMEDIATE")
        problem = con.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({problem})")
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "responses" in tables:  # requests-cache's table; `expires` is a Unix time
            cutoff = int(time.time() - KEEP_SAVED_FOR.total_seconds())
            con.execute("DELETE FROM responses WHERE expires < ?", (cutoff,))
        con.commit()
    finally:
        con.close()


def _db_file(path: Path) -> Path:
    return path if path.suffix else path.with_name(path.name + ".sqlite")  # requests-cache adds .sqlite


def _is_damaged(exc: BaseException) -> bool:
    """Not an SQLite file, or a cut-off one; a locked or read-only file is not damaged."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _set_aside(db: Path) -> Path | None:
    aside = db.with_name(f"{db.name}.damaged-{int(time.time())}")
    try:
        db.replace(aside)
    except OSError:
        return None
    return aside


@dataclass
class FetchResult:
    studies: list[dict]  # raw v2 study objects, de-duplicated by NCT id, in API order
    total: int | None  # the API's totalCount, when it gave one
    pages: int  # list requests that succeeded (retries and the /version call not counted)
    data_as_of: str  # /version dataTimestamp; "" when unknown
    from_cache: bool  # every page came from the HTTP cache
    bytes: int = 0
    shortfall: str = ""  # why the list may be incomplete, e.g. "got 2000 of 4100 studies: ..."; "" when whole


@dataclass
class Client:
    base_url: str = field(default_factory=base_url_from_env)
    session: requests.Session | None = None
    cache_path: Path | None = None
    cache_expiry: timedelta = CACHE_EXPIRY
    min_interval: float = MIN_INTERVAL
    retry_budget: float = RETRY_BUDGET
    max_attempts: int = MAX_ATTEMPTS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last_network_call: float = field(default=-1e9, init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.session is None:
            self.session = make_session(self.cache_path, self.cache_expiry)

    # --- one request, with every failure mode handled --------------------------------------

    def _throttle(self) -> None:
        wait = self._last_network_call + self.min_interval - self.clock()
        if wait > 0:
            self.sleep(wait)

    def _send(self, path: str, params: dict | None, cache_only: bool, timeout: tuple[float, float]) -> requests.Response:
        url = f"{self.base_url}{path}"
        kwargs: dict[str, Any] = {"params": params, "timeout": timeout}
        if cache_only:
            if not hasattr(self.session, "cache"):
                raise ApiUnreachable("No HTTP cache is configured, so there is nothing saved to show.")
            settings = self.session.settings
            settings.stale_if_error = True  # only here may an expired copy answer
            try:
                return self.session.get(url, only_if_cached=True, **kwargs)
            except sqlite3.Error as exc:
                self._drop_cache(exc)
                raise ApiUnreachable("The local cache can't be read, so there is nothing saved to show.") from exc
            finally:
                settings.stale_if_error = False
        self._throttle()
        try:
            response = self.session.get(url, **kwargs)
        except sqlite3.Error as exc:  # the cache broke mid-run (locked by another process, disk full)
            self._drop_cache(exc)
            self._throttle()
            response = self.session.get(url, **kwargs)
        if not getattr(response, "from_cache", False):
            self._last_network_call = self.clock()
        return response

    def _drop_cache(self, exc: sqlite3.Error) -> None:
        log.warning("the HTTP cache stopped working (%s); going on without it", exc)
        self.session = make_session(None)

    def _unresponsive(self, message: str) -> ApiUnreachable:
        error = ApiUnreachable(message)
        error.unresponsive = True
        return error

    def get_json(self, path: str, params: dict | None = None, *, cache_only: bool = False,
                 expect: Callable[[Any], bool] = lambda body: isinstance(body, dict),
                 timeout: tuple[float, float] = TIMEOUT) -> tuple[Any, requests.Response]:
        """GET and decode JSON, retrying what can heal (network, 429, 5xx, malformed body).

        The retry budget is wall-clock time, waits on timeouts included."""
        url = f"{self.base_url}{path}"
        started = self.clock()
        problem = ""
        timeouts = 0
        for attempt in range(1, self.max_attempts + 1):
            delay = None  # before the next try; None = exponential backoff
            bad_body = False
            try:
                response = self._send(path, params, cache_only, timeout)
            except requests.exceptions.ConnectionError as exc:
                problem = f"the connection failed ({_short(exc)})"
                if _is_connect_failure(exc):
                    # a failed DNS lookup can take seconds and won't heal in a quarter of one
                    if attempt >= CONNECT_ATTEMPTS or _is_dns_failure(exc):
                        raise self._unresponsive(
                            f"Could not connect to ClinicalTrials.gov at {self.base_url} ({_short(exc)}). "
                            "Check the internet connection.") from exc
                    delay = CONNECT_RETRY_DELAY  # one quick second try, then fall back: the user is waiting
            except requests.exceptions.Timeout as exc:
                timeouts += 1
                problem = f"no answer within {timeout[1]:.0f} seconds"
                if timeouts >= TIMEOUT_ATTEMPTS:
                    raise self._unresponsive(
                        f"ClinicalTrials.gov did not answer: {problem}, {timeouts} times ({url}). "
                        "Try again later.") from exc
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                problem, bad_body = f"the answer was cut off ({_short(exc)})", True
            except requests.exceptions.RequestException as exc:  # bad address, redirect loop: retrying won't help
                raise ApiUnreachable(f"Could not ask ClinicalTrials.gov at {url} ({_short(exc)}). "
                                     "Check CTGOV_API_URL.") from exc
            else:
                status = response.status_code
                if cache_only and status == 504:
                    raise ApiUnreachable("Nothing for this search is saved in the local cache.")
                if status == 200:
                    try:
                        body = _decode(response)
                        if not expect(body):
                            raise BadResponse("the answer did not have the shape the API documents")
                        return body, response
                    except BadResponse as exc:
                        self._forget(response)
                        problem, bad_body = str(exc), True
                        if cache_only:
                            raise
                elif status == 400:
                    raise QueryRefused(response.text.strip()[:500], url)
                elif status == 404:
                    raise _not_found(path, url)
                elif status in RETRY_STATUSES:
                    problem = f"it answered HTTP {status}" + (" (too many requests)" if status == 429 else "")
                    delay = _retry_after_seconds(response.headers.get("Retry-After"))
                else:  # 403 and other refusals don't heal by retrying
                    raise ApiUnreachable(
                        f"ClinicalTrials.gov refused the request with HTTP {status} ({url}). "
                        "It may be blocking automated access for a while.")
            if attempt == self.max_attempts:
                break
            if delay is None:
                delay = min(2.0 ** (attempt - 1), 30.0)
            if self.clock() - started + delay > self.retry_budget:
                break
            self.sleep(delay)
        spent = self.clock() - started
        if bad_body:
            raise BadResponse(f"ClinicalTrials.gov answered, but not with data: {problem} "
                              f"(after {attempt} tries, {url}). Try again later.")
        raise ApiUnreachable(
            f"ClinicalTrials.gov kept failing: {problem} after {attempt} tries "
            f"over {spent:.0f} s ({url}). Try again later.")

    def _forget(self, response: requests.Response) -> None:
        cache = getattr(self.session, "cache", None)
        if cache is not None and getattr(response, "from_cache", False):
            try:
                cache.delete(requests=[response.request])
            except sqlite3.Error as exc:
                self._drop_cache(exc)

    # --- endpoints ------------------------------------------------------------------------

    def data_timestamp(self, *, cache_only: bool = False) -> str:
        """`/version`'s dataTimestamp (UTC, yyyy-MM-ddTHH:mm:ss), or "" when not given."""
        body, _ = self.get_json("/version", cache_only=cache_only, timeout=VERSION_TIMEOUT)
        stamp = body.get("dataTimestamp")
        return stamp if isinstance(stamp, str) else ""

    def search(self, query: TrialQuery, *, progress: Progress | None = None,
               cache_only: bool = False, fields: tuple[str, ...] | None = None) -> FetchResult:
        """Every study matching the query, all pages, each NCT id once.

        Pages are followed until `nextPageToken` is absent (or a page is empty): totalCount is a
        cross-check, never a stop signal. A token seen before ends paging; that, or fewer studies
        than totalCount, is reported in `shortfall` so no caller loses studies without saying so."""
        params = build_params(query) if fields is None else build_params(query, fields=fields or None)
        try:
            as_of = self.data_timestamp(cache_only=cache_only)
        except (ApiUnreachable, BadResponse) as exc:
            if getattr(exc, "unresponsive", False):
                raise  # no point trying the list: fall back now, not after more timeouts
            as_of = ""  # a mirror without /version still serves studies
        studies: dict[str, dict] = {}
        total = None
        pages = size = 0
        all_cached = True
        repeats: list[str] = []
        for body, response in self.iter_pages(params, cache_only=cache_only, repeats=repeats):
            pages += 1
            size += len(response.content)
            all_cached = all_cached and bool(getattr(response, "from_cache", False))
            if pages == 1 and isinstance(body.get("totalCount"), int):
                total = body["totalCount"]
            for raw in body["studies"]:
                nct = _nct_id(raw)
                if nct and nct not in studies:
                    studies[nct] = raw
            if progress:
                progress(pages, len(studies), total)
        repeated = bool(repeats)
        shortfall = _shortfall(len(studies), total, repeated)
        if shortfall:
            log.warning("incomplete list: %s (%s pages)", shortfall, pages)
        elif total is not None and len(studies) > total:
            log.warning("ClinicalTrials.gov said %s studies and sent %s; every page was followed", total, len(studies))
        return FetchResult(list(studies.values()), total, pages, as_of, all_cached, size, shortfall)

    def iter_pages(self, params: dict[str, str], *, cache_only: bool = False,
                   repeats: list[str] | None = None) -> Iterator[tuple[dict, requests.Response]]:
        """Each page of GET /studies, following nextPageToken until it is absent or a page is empty.
        A token seen before ends the pages (they would go round in circles): it is added to `repeats`
        when the caller gives that list (to report a partial list), else IncompleteList is raised."""
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            page_params = dict(params)
            if token is None:
                page_params["countTotal"] = "true"
            else:
                page_params["pageToken"] = token
            body, response = self.get_json("/studies", page_params, cache_only=cache_only,
                                           expect=lambda b: isinstance(b, dict) and isinstance(b.get("studies"), list))
            yield body, response
            token = body.get("nextPageToken")
            if not body["studies"] or not isinstance(token, str) or not token:
                return
            if token in seen_tokens:
                if repeats is None:
                    raise IncompleteList("ClinicalTrials.gov repeated a page token: the pages went round in circles")
                repeats.append(token)
                return
            seen_tokens.add(token)

    def fetch_study(self, nct_id: str, *, cache_only: bool = False) -> dict:
        """One full record; an aliased id follows the API's 301 to the canonical study."""
        body, _ = self.get_json(f"/studies/{nct_id}", cache_only=cache_only,
                                expect=lambda b: isinstance(b, dict) and isinstance(b.get("protocolSection"), dict))
        return body


# --- helpers ------------------------------------------------------------------------------------

def _shortfall(got: int, total: int | None, repeated: bool) -> str:
    """'' when the list is whole as far as the API lets us tell, else 'got N of M studies: why'."""
    of = f"got {got} of {total} studies" if total is not None else f"got {got} studies"
    if repeated:
        return f"{of}: ClinicalTrials.gov sent a page token it had already sent, so the rest could not be fetched"
    if total is not None and got < total:
        return f"{of}: ClinicalTrials.gov's pages ended before its own count"
    return ""


def _decode(response: requests.Response) -> Any:
    content_type = response.headers.get("Content-Type", "").lower()
    head = response.content.lstrip()[:200].lower()
    if "html" in content_type or head.startswith((b"<!doctype", b"<html", b"<")):
        raise BadResponse("the API sent a web page instead of data (often a maintenance or error page)")
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(f"the answer was cut off or is not valid JSON ({len(response.content)} bytes received)") from None


def _nct_id(raw: Any) -> str:
    try:
        nct = raw["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return ""
    return nct.strip().upper() if isinstance(nct, str) else ""


def _not_found(path: str, url: str) -> Exception:
    if path.startswith("/studies/"):
        return StudyNotFound(path.rsplit("/", 1)[-1])
    return ApiUnreachable(f"The API answered 404 for {url}. Is CTGOV_API_URL set to an API v2 address?")


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_connect_failure(exc: Exception) -> bool:
    """Refused connection or failed DNS lookup, as opposed to a connection reset mid-answer."""
    seen = exc
    for _ in range(6):
        name = type(seen).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError"):
            return True
        nxt = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if nxt is None and seen.args and isinstance(seen.args[0], Exception):
            nxt = seen.args[0]
        if nxt is None or nxt is seen:
            break
        seen = nxt
    text = str(exc)
    return "Failed to establish a new connection" in text or "Name or service not known" in text


def _is_dns_failure(exc: Exception) -> bool:
    text = str(exc)
    return "NameResolutionError" in text or "Name or service not known" in text or "name resolution" in text


def _short(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "Connection reset", "Connection aborted", "timed out"):
        if marker in text:
            return marker.lower()
    return text[:120]
