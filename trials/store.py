"""The study store: every myeloma record `python -m trials sync` has seen, annotated once, and
the history of what changed in it. SQLAlchemy Core over SQLite (default, a file in the user's
data directory) or PostgreSQL (``TRIALS_DB_URL=postgresql+psycopg://...``, shared by several app
servers and one scheduled sync).

What it holds is registry data only: records as ClinicalTrials.gov sent them, their derived
annotations, change events and sync bookkeeping. Nothing a person types (a place, a search text)
is ever written here; searches only read.

A study's row (record, annotation, status, sites) is written in one statement inside the same
transaction as its change events, so a reader sees a study either before or after a page of the
sync, never half of it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import sqlalchemy as sa

from .annotate import Reading
from .classify import Classification, Evidence
from .design import DesignFact
from .eligibility import Flag
from .errors import StoreError
from .model import Site, Study
from .query import TrialQuery

SCHEMA_VERSION = 3
FRESH_FOR = dt.timedelta(hours=26)  # a daily sync plus slack; older data is "not fresh"
PACKAGE = Path(__file__).parent
CHANGE_KINDS: dict[str, str] = {
    "new_study": "new studies",
    "status_changed": "overall status changes",
    "site_opened": "sites newly listed",
    "site_closed": "sites no longer listed",
    "site_status_changed": "site status changes",
    "eligibility_changed": "eligibility criteria changes",
    "study_gone": "studies gone from the registry's myeloma results",
}
CHANGE_COLUMNS = ("date", "nct_id", "change", "site", "old", "new", "version_date", "seen_at", "title")

metadata = sa.MetaData()
meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
studies_table = sa.Table(
    "studies", metadata,
    sa.Column("nct_id", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(40), nullable=False, default=""),
    sa.Column("phases", sa.String(120), nullable=False, default=""),  # ";PHASE1;PHASE2;" for LIKE
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("first_posted", sa.String(10), nullable=False, default=""),
    sa.Column("version_date", sa.String(10), nullable=False, default=""),  # lastUpdatePostDate
    sa.Column("record", sa.Text, nullable=False),  # the study JSON as the API sent it
    sa.Column("annotation", sa.Text, nullable=False),
    sa.Column("annotator", sa.String(40), nullable=False, default=""),
    sa.Column("record_hash", sa.String(40), nullable=False, default=""),
    sa.Column("eligibility_hash", sa.String(40), nullable=False, default=""),
    sa.Column("sites", sa.Text, nullable=False, default="{}"),  # {site text: site status}
    sa.Column("gone", sa.Boolean, nullable=False, default=False),
    sa.Column("seen_run", sa.Integer, nullable=False, default=0),
    sa.Column("rev", sa.Integer, nullable=False, default=0),  # the run that last wrote the row
)
changes_table = sa.Table(
    "changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("nct_id", sa.String(16), nullable=False, index=True),
    sa.Column("change", sa.String(32), nullable=False),
    sa.Column("site", sa.Text, nullable=False, default=""),
    sa.Column("old", sa.Text, nullable=False, default=""),
    sa.Column("new", sa.Text, nullable=False, default=""),
    sa.Column("date", sa.String(10), nullable=False, index=True),  # when it happened, as best known
    sa.Column("version_date", sa.String(10), nullable=False, default=""),  # the record version showing it
    sa.Column("seen_at", sa.String(20), nullable=False),  # when a sync saw it (UTC)
    sa.Column("run", sa.Integer, nullable=False),
)
runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # full | incremental
    sa.Column("started", sa.String(20), nullable=False),
    sa.Column("finished", sa.String(20), nullable=False, default=""),
    sa.Column("since", sa.String(10), nullable=False, default=""),
    sa.Column("pages", sa.Integer, nullable=False, default=0),
    sa.Column("studies", sa.Integer, nullable=False, default=0),
)


# --- schema versions ---------------------------------------------------------------------------

def _migrate_1_to_2(conn: sa.Connection) -> None:
    """Version 1 (the first layout) had no annotator fingerprint on studies and no record version
    date on change events. Existing annotations are kept but marked for recomputation."""
    conn.execute(sa.text("ALTER TABLE studies ADD COLUMN annotator VARCHAR(40) NOT NULL DEFAULT ''"))
    conn.execute(sa.text("ALTER TABLE changes ADD COLUMN version_date VARCHAR(10) NOT NULL DEFAULT ''"))


def _migrate_2_to_3(conn: sa.Connection) -> None:
    """Version 3 keeps each study's design facts in its annotation (version 2 recomputed them from
    the record at every export). Version 2 annotations lack them: all are marked for recomputation,
    which reads do from the record until the next sync stores it (sync.reread_stale)."""
    conn.execute(studies_table.update().values(annotator=""))


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}  # from version N to N + 1


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_url() -> str:
    url = os.environ.get("TRIALS_DB_URL", "").strip()
    if url:
        return url
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('myeloma-trial-finder')) / 'store.sqlite'}"


def sqlite_path(url: str) -> Path | None:
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _make_engine(url: str) -> sa.Engine:
    if sqlite_path(url) is None:
        # a database server that does not answer must not hold a search up: it has other sources
        timeout = {"connect_timeout": 5} if url.startswith("postgresql") else {}
        return sa.create_engine(url, pool_pre_ping=True, connect_args=timeout)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # WAL: readers never wait for the sync, nor it for them
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
    return engine


_ANNOTATOR: str | None = None


def annotator_fingerprint() -> str:
    global _ANNOTATOR
    if _ANNOTATOR is None:
        h = hashlib.sha1()
        # Every module and data file of the package: a hand-kept list of "the files that decide an
        # annotation" misses the next module a reader is split into. When any changes, stored
        # annotations are recomputed rather than trusted (a sync's worth of work, not a wrong answer).
        for path in sorted([*PACKAGE.glob("*.py"), *PACKAGE.glob("*.json")]):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _ANNOTATOR = h.hexdigest()
    return _ANNOTATOR


# --- annotations to and from JSON --------------------------------------------------------------

def annotation_json(reading: Reading) -> str:
    return json.dumps({"classification": dataclasses.asdict(reading.classification),
                       "flags": {k: dataclasses.asdict(f) for k, f in reading.flags.items()},
                       "design": [dataclasses.asdict(f) for f in reading.design]},
                      ensure_ascii=False, separators=(",", ":"))


def annotation_from_json(text: str) -> Reading:
    """Raises (TypeError, KeyError, ValueError) when the stored shape is not today's."""
    data = json.loads(text)
    c = dict(data["classification"])
    c["evidence"] = tuple(Evidence(**e) for e in c["evidence"])
    c["families"] = tuple(c["families"])
    return Reading(Classification(**c), {k: _flag(f) for k, f in data["flags"].items()},
                   tuple(DesignFact(**f) for f in data["design"]))


def _flag(stored: dict) -> Flag:
    value = stored.get("value")
    return Flag(**{**stored, "value": tuple(value) if isinstance(value, list) else value})  # JSON lists were tuples


def site_text(site: Site) -> str:
    """How a site is named in change events: its facility and place, as the record gives them."""
    return ", ".join(p for p in (site.facility, site.city, site.state, site.zip, site.country) if p)


def site_statuses(study: Study) -> dict[str, str]:
    return {site_text(s): s.status for s in study.sites}


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    nct_id: str
    change: str
    old: str
    new: str
    date: str
    site: str = ""
    version_date: str = ""
    seen_at: str = ""
    title: str = ""

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StoredStudy:
    study: Study
    reading: Reading


@dataclass(frozen=True)
class SyncState:
    data_as_of: str  # the API's dataTimestamp at the last completed sync ("" if none)
    synced_at: str  # when the last sync completed (UTC, ISO), "" if never
    studies: int

    def age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        if not self.synced_at:
            return None
        when = dt.datetime.strptime(self.synced_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        return (now or dt.datetime.now(dt.timezone.utc)) - when

    def is_fresh(self, now: dt.datetime | None = None) -> bool:
        age = self.age(now)
        return age is not None and age <= FRESH_FOR

    def age_text(self, now: dt.datetime | None = None) -> str:
        """'synced 3 h ago' / 'synced 2 days ago'."""
        age = self.age(now)
        if age is None:
            return "never synced"
        minutes = max(0, int(age.total_seconds() // 60))
        if minutes < 60:
            return f"synced {minutes} min ago"
        if minutes < 48 * 60:
            return f"synced {minutes // 60} h ago"
        return f"synced {minutes // (24 * 60)} days ago"


# Parsed studies by (store url, nct id) and the row revision they were parsed from: a warm search
# in a long-running app reads only ids and revisions from the database.
_parsed: dict[tuple[str, str], tuple[tuple[int, str], StoredStudy]] = {}
_parsed_lock = threading.Lock()


class Store:
    def __init__(self, url: str, engine: sa.Engine):
        self.url = url
        self.engine = engine

    # -- opening --
    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> "Store | None":
        """The store at url (default: TRIALS_DB_URL or the SQLite file in the user's data
        directory), migrated to today's schema; None when there is none and create is False."""
        url = url or default_url()
        path = sqlite_path(url)
        if path is not None and not path.exists():
            if not create:
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = _make_engine(url)
            store = cls(url, engine)
            if not store._ready(create):
                engine.dispose()
                return None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"The study store at {safe_url(url)} can't be used: "
                             f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0][:200]}") from None
        return store

    def _ready(self, create: bool) -> bool:
        with self.engine.begin() as conn:
            if not sa.inspect(conn).has_table("meta"):
                if sa.inspect(conn).has_table("studies"):
                    raise StoreError(f"{safe_url(self.url)} has a studies table but no schema version: "
                                     "not a store written by this tool. Nothing was changed.")
                if not create:
                    return False
                metadata.create_all(conn)
                conn.execute(meta_table.insert(), [{"key": "schema_version", "value": str(SCHEMA_VERSION)}])
                return True
            version = int(self._meta(conn).get("schema_version", "0") or 0)
            if version > SCHEMA_VERSION:
                raise StoreError(f"The study store at {safe_url(self.url)} was written by a newer version of this "
                                 f"tool (schema {version}, this one knows {SCHEMA_VERSION}). Update the tool.")
            while version < SCHEMA_VERSION:
                if version not in MIGRATIONS:
                    raise StoreError(f"The study store at {safe_url(self.url)} has schema {version}, which "
                                     "this tool can't migrate. Nothing was changed.")
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                             .values(value=str(version)))
        return True

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- bookkeeping --
    @staticmethod
    def _meta(conn: sa.Connection) -> dict[str, str]:
        return {k: v for k, v in conn.execute(sa.select(meta_table.c.key, meta_table.c.value))}

    def meta(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return self._meta(conn)

    @staticmethod
    def set_meta(conn: sa.Connection, **values: str) -> None:
        for key, value in values.items():
            done = conn.execute(meta_table.update().where(meta_table.c.key == key).values(value=value))
            if not done.rowcount:
                conn.execute(meta_table.insert().values(key=key, value=value))

    def state(self) -> SyncState:
        with self.engine.connect() as conn:
            m = self._meta(conn)
            count = conn.execute(sa.select(sa.func.count()).select_from(studies_table)
                                 .where(studies_table.c.gone == sa.false())).scalar_one()
        return SyncState(m.get("data_as_of", ""), m.get("synced_at", ""), int(count))

    # -- studies --
    def _candidates(self, query: TrialQuery, include_gone: bool) -> sa.Select:
        """A cheap SQL narrowing that keeps every study `snapshot.matches` could keep."""
        t = studies_table
        sel = sa.select(t.c.nct_id, t.c.rev, t.c.annotator)
        if not include_gone:
            sel = sel.where(t.c.gone == sa.false())
        if query.statuses:
            sel = sel.where(t.c.status.in_(query.statuses))
        if query.nct_ids:
            sel = sel.where(t.c.nct_id.in_(query.nct_ids))
        if query.updated_since:
            sel = sel.where(t.c.version_date >= query.updated_since.isoformat())
        if query.phases:
            sel = sel.where(sa.or_(*(t.c.phases.like(f"%;{p};%") for p in query.phases)))
        return sel.order_by(t.c.nct_id)

    def studies(self, query: TrialQuery, *, include_gone: bool = False) -> list[StoredStudy]:
        """Every stored study matching the query, by the same filter as the bundled snapshot
        (studies gone from the registry's results only when asked: their last known record)."""
        from .snapshot import matches

        with self.engine.connect() as conn:
            wanted = [(nct, (rev, ann)) for nct, rev, ann in conn.execute(self._candidates(query, include_gone))]
            with _parsed_lock:
                missing = [nct for nct, key in wanted if _parsed.get((self.url, nct), (None,))[0] != key]
            for chunk in _chunks(missing, 500):
                rows = conn.execute(sa.select(studies_table.c.nct_id, studies_table.c.rev, studies_table.c.annotator,
                                              studies_table.c.record, studies_table.c.annotation)
                                    .where(studies_table.c.nct_id.in_(chunk)))
                for nct, rev, ann, record, annotation in rows:
                    parsed = _stored_study(record, annotation, ann)
                    with _parsed_lock:
                        _parsed[(self.url, nct)] = ((rev, ann), parsed)
        out = []
        with _parsed_lock:
            for nct, key in wanted:
                cached = _parsed.get((self.url, nct))
                if cached is not None and matches(cached[1].study, query):
                    out.append(cached[1])
        return out

    def iter_records(self, batch: int = 500) -> Iterator[tuple[str, str]]:
        """(nct id, record JSON) of every study not gone, in id order, a batch at a time."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(studies_table.c.nct_id, studies_table.c.record)
                                    .where(studies_table.c.gone == sa.false(), studies_table.c.nct_id > last)
                                    .order_by(studies_table.c.nct_id).limit(batch)).all()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    # -- history --
    def changes(self, since: dt.date | None = None, nct_ids: Iterable[str] | None = None) -> list[Change]:
        """Change events dated on or after `since`, oldest first (then by id)."""
        c, s = changes_table, studies_table
        sel = (sa.select(c.c.nct_id, c.c.change, c.c.old, c.c.new, c.c.date, c.c.site, c.c.version_date,
                         c.c.seen_at, s.c.title)
               .join(s, s.c.nct_id == c.c.nct_id, isouter=True).order_by(c.c.date, c.c.id))
        if since is not None:
            sel = sel.where(c.c.date >= since.isoformat())
        if nct_ids is not None:
            ids = list(nct_ids)
            if not ids:
                return []
            sel = sel.where(c.c.nct_id.in_(ids))
        with self.engine.connect() as conn:
            return [Change(*(v or "" for v in row)) for row in conn.execute(sel)]

    def history(self, nct_id: str) -> list[Change]:
        """One study's recorded changes, oldest first."""
        return self.changes(nct_ids=[nct_id])


def _stored_study(record: str, annotation: str, annotator: str) -> StoredStudy:
    study = Study.from_api(json.loads(record))
    if annotator == annotator_fingerprint():
        try:
            return StoredStudy(study, annotation_from_json(annotation))
        except (TypeError, KeyError, ValueError):
            pass
    from .annotate import read_record  # stored by other code: recompute rather than trust it

    return StoredStudy(study, read_record(study))


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def safe_url(url: str) -> str:
    """The store's address without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unreadable TRIALS_DB_URL)"


def open_store(url: str | None = None) -> Store | None:
    """The configured store if there is one; None when none was ever synced."""
    return Store.open(url)
