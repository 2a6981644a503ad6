"""`python -m trials sync`: bring the study store up to date with ClinicalTrials.gov.

The first sync pulls every myeloma study (all statuses); later ones ask only for records posted
since the last one (its newest LastUpdatePostDate minus a day of overlap), so a daily run costs
one request per thousand changed studies plus the /version call. Once a week (or with --full) the
whole list is read again, which is the only way to notice a study that left the results.

Each page is annotated and written in its own transaction together with the change events it
shows, then dropped: memory stays that of one page. A run killed half way leaves whole pages
behind; the next run reads the same records again, finds the pages already applied unchanged,
and so records every change exactly once. One sync at a time: a second one exits with a message.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import sqlalchemy as sa

from .annotate import read_record
from .client import Client
from .errors import ApiUnreachable, BadResponse, SyncBusy
from .model import Study
from .query import LIST_FIELDS, PAGE_SIZE, TrialQuery, build_params
from .store import (Store, annotation_json, annotator_fingerprint, changes_table, now_utc, runs_table,
                    site_statuses, sqlite_path, studies_table, text_hash)

OVERLAP = dt.timedelta(days=1)  # records posted late on the cursor's day are asked for again
FULL_EVERY = dt.timedelta(days=7)  # how often the whole list is read to find studies gone
SYNC_QUERY = TrialQuery(statuses=())  # every status: closures must be seen
PG_LOCK_KEY = 0x6D7466_01  # pg_advisory_lock key of the sync ("mtf" + 1)

SyncProgress = Callable[["SyncReport"], None]

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    kind: str  # full | incremental
    since: str = ""  # incremental: LastUpdatePostDate asked from
    pages: int = 0
    studies: int = 0  # records received
    total: int | None = None
    new: int = 0
    changed: int = 0
    gone: int = 0
    events: int = 0
    data_as_of: str = ""
    reread: int = 0  # stored studies read again because the reading code changed (no change events)
    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        total = f" of {self.total}" if self.total is not None else ""
        return (f"page {self.pages}: {self.studies}{total} records, {self.new} new, {self.changed} changed"
                + (f", {self.gone} gone" if self.gone else ""))


@contextmanager
def sync_lock(store: Store) -> Iterator[None]:
    """Held for a whole sync; released by the operating system or the database if the process
    dies, so a killed sync never blocks the next one."""
    path = sqlite_path(store.url)
    if path is not None:
        lock_path = path.with_name(path.name + ".sync-lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                raise SyncBusy(f"another sync is already running on this store ({holder or 'unknown process'}); "
                               "this one did nothing.") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()}, started {now_utc()}".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock
        return
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar():
                raise SyncBusy("another sync is already running on this store (its database holds the sync "
                               "lock); this one did nothing.")
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
        return
    yield  # another database: one sync at a time is the scheduler's job


def _plan(meta: dict[str, str], full: bool, now: dt.datetime) -> tuple[str, str]:
    """(kind, since): a full read when asked, the first time, or when the last one is a week old."""
    cursor, last_full = meta.get("cursor", ""), meta.get("last_full_sync", "")
    if full or not cursor or not last_full:
        return "full", ""
    last = dt.datetime.strptime(last_full, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    if now - last >= FULL_EVERY:
        return "full", ""
    return "incremental", (dt.date.fromisoformat(cursor) - OVERLAP).isoformat()


def sync(store: Store, client: Client, *, full: bool = False, page_size: int = PAGE_SIZE,
         progress: SyncProgress | None = None) -> SyncReport:
    """One sync run; raises SyncBusy, ApiUnreachable/BadResponse (pages done so far are kept)."""
    with sync_lock(store):
        meta = store.meta()
        kind, since = _plan(meta, full, dt.datetime.now(dt.timezone.utc))
        query = SYNC_QUERY.with_(updated_since=dt.date.fromisoformat(since) if since else None)
        params = build_params(query, fields=LIST_FIELDS, page_size=page_size)
        report = SyncReport(kind, since)
        try:
            report.data_as_of = client.data_timestamp()
        except (ApiUnreachable, BadResponse) as exc:
            if getattr(exc, "unresponsive", False):
                raise
        baseline = not meta.get("synced_at")  # no history before the first completed sync
        with store.engine.begin() as conn:
            run = conn.execute(runs_table.insert().values(kind=kind, started=now_utc(), since=since)
                               ).inserted_primary_key[0]
        for body, _ in client.iter_pages(params):
            report.pages += 1
            if report.pages == 1 and isinstance(body.get("totalCount"), int):
                report.total = body["totalCount"]
            raws = [r for r in body["studies"] if isinstance(r, dict)]
            report.studies += len(raws)
            with store.engine.begin() as conn:
                apply_page(conn, raws, run=run, baseline=baseline, report=report)
                conn.execute(runs_table.update().where(runs_table.c.id == run)
                             .values(pages=report.pages, studies=report.studies))
            if progress:
                progress(report)
            if not raws:
                break
        if report.total is not None and report.studies < report.total:
            log.warning("sync got %s of %s studies; the next sync asks again from the same date", report.studies,
                        report.total)
        report.reread = reread_stale(store)
        with store.engine.begin() as conn:
            if kind == "full":
                mark_gone(conn, run=run, report=report)
            newest = conn.execute(sa.select(sa.func.max(studies_table.c.version_date))).scalar() or ""
            finished = now_utc()
            values = {"synced_at": finished, "data_as_of": report.data_as_of}
            if newest:
                values["cursor"] = newest
            if kind == "full":
                values["last_full_sync"] = finished
            Store.set_meta(conn, **values)
            conn.execute(runs_table.update().where(runs_table.c.id == run).values(finished=finished))
        return report


def _event(nct: str, change: str, old: str, new: str, date: str, version: str, seen_at: str, run: int,
           site: str = "") -> dict:
    return {"nct_id": nct, "change": change, "old": old, "new": new, "date": date, "version_date": version,
            "seen_at": seen_at, "run": run, "site": site}


def study_events(old: dict | None, study: Study, old_criteria: str, *, baseline: bool, seen_at: str,
                 run: int) -> list[dict]:
    """The change events between a stored row (None: never seen, or gone) and a fresh record."""
    nct, version = study.nct_id, study.last_update_posted
    date = version or seen_at[:10]
    if old is None or old["gone"]:
        # The first sync has no history: a study counts as new from the day it was first posted
        # (no date when the record gives none, rather than the day the store happened to start).
        when = (study.first_posted or version) if baseline else date
        return [_event(nct, "new_study", "", study.overall_status, when, version, seen_at, run)]
    out = []
    if old["status"] != study.overall_status:
        out.append(_event(nct, "status_changed", old["status"], study.overall_status, date, version, seen_at, run))
    before, after = json.loads(old["sites"]), site_statuses(study)
    for site in sorted(after.keys() - before.keys()):
        out.append(_event(nct, "site_opened", "", after[site], date, version, seen_at, run, site))
    for site in sorted(before.keys() - after.keys()):
        out.append(_event(nct, "site_closed", before[site], "", date, version, seen_at, run, site))
    for site in sorted(before.keys() & after.keys()):
        if before[site] != after[site]:
            out.append(_event(nct, "site_status_changed", before[site], after[site], date, version, seen_at, run, site))
    if old["eligibility_hash"] != text_hash(study.eligibility.criteria):
        out.append(_event(nct, "eligibility_changed", old_criteria, study.eligibility.criteria, date, version,
                          seen_at, run))
    return out


def apply_page(conn: sa.Connection, raws: list[dict], *, run: int, baseline: bool, report: SyncReport) -> None:
    """Write one page of records and the changes they show, in the caller's transaction."""
    t = studies_table
    seen_at = now_utc()
    fingerprint = annotator_fingerprint()
    records: dict[str, tuple[dict, str]] = {}
    for raw in raws:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        nct = _nct(raw)
        if nct:
            records[nct] = (raw, text)
    if not records:
        return
    cols = (t.c.nct_id, t.c.status, t.c.record_hash, t.c.eligibility_hash, t.c.sites, t.c.gone, t.c.annotator)
    existing = {r.nct_id: r._asdict() for r in conn.execute(sa.select(*cols).where(t.c.nct_id.in_(list(records))))}
    unchanged, inserts, updates, events = [], [], [], []
    changed_ids = []
    for nct, (raw, text) in records.items():
        old = existing.get(nct)
        if old and not old["gone"] and old["record_hash"] == text_hash(text) and old["annotator"] == fingerprint:
            unchanged.append(nct)
            continue
        changed_ids.append(nct)
    old_criteria = _old_criteria(conn, [n for n in changed_ids if n in existing and not existing[n]["gone"]])
    for nct in changed_ids:
        raw, text = records[nct]
        old = existing.get(nct)
        study = Study.from_api(raw)
        reading = read_record(study)
        found = study_events(old, study, old_criteria.get(nct, ""), baseline=baseline, seen_at=seen_at, run=run)
        events.extend(found)
        row = {"status": study.overall_status, "phases": ";" + ";".join(study.phases) + ";" if study.phases else "",
               "title": study.title, "first_posted": study.first_posted, "version_date": study.last_update_posted,
               "record": text, "annotation": annotation_json(reading), "annotator": fingerprint,
               "record_hash": text_hash(text), "eligibility_hash": text_hash(study.eligibility.criteria),
               "sites": json.dumps(site_statuses(study), ensure_ascii=False, sort_keys=True),
               "gone": False, "seen_run": run, "rev": run}
        if old is None:
            inserts.append({"nct_id": nct, **row})
            report.new += 1
        else:
            updates.append({"b_nct": nct, **row})
            report.new += int(bool(old["gone"]))
            report.changed += int(not old["gone"] and any(e["change"] != "new_study" for e in found))
    if unchanged:
        conn.execute(t.update().where(t.c.nct_id.in_(unchanged)).values(seen_run=run))
    if inserts:
        conn.execute(t.insert(), inserts)
    if updates:
        conn.execute(t.update().where(t.c.nct_id == sa.bindparam("b_nct")), updates)
    if events:
        conn.execute(changes_table.insert(), events)
        report.events += len(events)
        for e in events:
            report.counts[e["change"]] = report.counts.get(e["change"], 0) + 1


def reread_stale(store: Store, batch: int = 200) -> int:
    """Read again every stored record whose reading was made by other code (an older version, or a
    migrated store), a batch per transaction: searches and exports then find it stored instead of
    recomputing it each time. The records are unchanged, so no change event is recorded."""
    t = studies_table
    fingerprint = annotator_fingerprint()
    done = 0
    while True:
        with store.engine.begin() as conn:
            rows = conn.execute(sa.select(t.c.nct_id, t.c.record).where(t.c.annotator != fingerprint)
                                .order_by(t.c.nct_id).limit(batch)).all()
            if not rows:
                return done
            conn.execute(t.update().where(t.c.nct_id == sa.bindparam("b_nct")),
                         [{"b_nct": nct, "annotator": fingerprint,
                           "annotation": annotation_json(read_record(Study.from_api(json.loads(record))))}
                          for nct, record in rows])
        done += len(rows)


def _old_criteria(conn: sa.Connection, ids: list[str]) -> dict[str, str]:
    """The stored eligibility text of studies about to change (to report what it was)."""
    out = {}
    for i in range(0, len(ids), 500):
        for nct, record in conn.execute(sa.select(studies_table.c.nct_id, studies_table.c.record)
                                        .where(studies_table.c.nct_id.in_(ids[i:i + 500]))):
            out[nct] = Study.from_api(json.loads(record)).eligibility.criteria
    return out


def _nct(raw: dict) -> str:
    ident = (raw.get("protocolSection") or {}).get("identificationModule") or {}
    nct = ident.get("nctId")
    return nct.strip().upper() if isinstance(nct, str) else ""


def mark_gone(conn: sa.Connection, *, run: int, report: SyncReport) -> None:
    """After a complete full read: studies it did not return have left the results."""
    t = studies_table
    gone = conn.execute(sa.select(t.c.nct_id, t.c.status, t.c.version_date)
                        .where(t.c.gone == sa.false(), t.c.seen_run != run)).all()
    if not gone:
        return
    seen_at = now_utc()
    conn.execute(changes_table.insert(), [_event(nct, "study_gone", status, "", seen_at[:10], version, seen_at, run)
                                          for nct, status, version in gone])
    ids = [g[0] for g in gone]
    for i in range(0, len(ids), 500):
        conn.execute(t.update().where(t.c.nct_id.in_(ids[i:i + 500])).values(gone=True, rev=run))
    report.gone += len(gone)
    report.events += len(gone)
    report.counts["study_gone"] = report.counts.get("study_gone", 0) + len(gone)
