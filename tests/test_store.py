"""The study store and `sync`: against SQLite always, and against a real PostgreSQL server the
tests start (skipped with a reason when Debian's postgresql binaries are absent, unless
REQUIRE_POSTGRES=1, as in CI). The API is the local fake (tests/fake_api.py) serving real records;
the changes made to them (a study closing, a site opening, a new study) are HAND-MADE edits of
real records, each bumping lastUpdatePostDate as the registry does."""
from __future__ import annotations

import collections
import copy
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fake_api import FakeApi, real_studies
from tests.postgres import Server, binaries
from trials import cli, source
from trials.annotate import read_record
from tests.helpers import CHANGED_ON, NEW_SITE_TEXT, bump, client_for, open_site, use_client
from trials.client import Client
from trials.errors import IncompleteList, StoreError, SyncBusy
from trials.model import Study
from trials.query import TrialQuery
from trials.snapshot import matches
from trials.design import DESIGN_COLUMNS, design_columns, design_facts
from trials.export import read_export
from trials.store import SCHEMA_VERSION, Store, annotator_fingerprint, changes_table, meta_table, studies_table
from trials.sync import sync, sync_lock

ROOT = Path(__file__).resolve().parent.parent
@pytest.fixture(scope="session")
def pg_server():
    bindir = binaries()
    if bindir is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        pytest.skip("PostgreSQL not installed (no /usr/lib/postgresql/*/bin/pg_ctl; apt-get install postgresql)")
    server = Server(bindir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture
def api():
    fake = FakeApi(real_studies())  # freshly read records: the tests' edits stay in this test
    fake.url = fake.start()
    yield fake
    fake.stop()


def nct(raw: dict) -> str:
    return raw["protocolSection"]["identificationModule"]["nctId"]


def status_of(raw: dict) -> str:
    return raw["protocolSection"]["statusModule"]["overallStatus"]


def recruiting(api) -> list[dict]:
    return [r for r in api.studies if status_of(r) == "RECRUITING"
            and r["protocolSection"].get("contactsLocationsModule", {}).get("locations")]


def close_study(raw: dict) -> None:
    raw["protocolSection"]["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    bump(raw)


def new_study(api, template: dict, number: int) -> str:
    raw = copy.deepcopy(template)
    raw["protocolSection"]["identificationModule"]["nctId"] = nid = f"NCT9{number:07d}"
    raw["protocolSection"]["statusModule"]["studyFirstPostDateStruct"] = {"date": CHANGED_ON, "type": "ACTUAL"}
    bump(raw)
    api.studies.append(raw)
    return nid


def the_three_changes(api) -> dict[str, str]:
    """A study closes, a site opens in another, a new study appears: {change: nct id}."""
    a, b = recruiting(api)[:2]
    close_study(a)
    open_site(b)
    return {"status_changed": nct(a), "site_opened": nct(b), "new_study": new_study(api, b, 1)}


def events(url: str) -> collections.Counter:
    store = Store.open(url)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(changes_table.c.nct_id, changes_table.c.change, changes_table.c.site,
                                      changes_table.c.old, changes_table.c.new, changes_table.c.date,
                                      changes_table.c.version_date)).all()
    store.close()
    return collections.Counter(map(tuple, rows))


def stored_ids(url: str) -> list[str]:
    store = Store.open(url)
    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(studies_table.c.nct_id).where(studies_table.c.gone == sa.false()))]
    store.close()
    return ids


DESIGN_EXPORTED = ("randomized", "comparator", *DESIGN_COLUMNS)


def exported_design(monkeypatch, tmp_path, store_url) -> dict[str, dict]:
    """The design columns of a per-trial CSV exported from the store by the CLI, by NCT id."""
    monkeypatch.setenv("TRIALS_DB_URL", store_url)
    target = tmp_path / "trials.csv"
    assert cli.main(["export", "--status", "all", "--per", "trial", "-o", str(target)]) == 0
    trials = read_export(target.read_bytes()).trials
    assert set(trials["source"]) == {"store"}
    return {row["nct_id"]: {c: row[c] for c in DESIGN_EXPORTED} for _, row in trials.iterrows()}


def record_design(raws: list[dict]) -> dict[str, dict]:
    """The same columns computed from the records themselves (the non-store path)."""
    from trials.table import trials_frame
    from trials.annotate import annotate_all

    frame = trials_frame(annotate_all(Study.from_api(r) for r in raws), data_as_of="", source="")
    return {row["nct_id"]: {c: row[c] for c in DESIGN_EXPORTED} for _, row in frame.iterrows()}


# --- sync and search ---------------------------------------------------------------------------

def test_first_sync_stores_every_study_once_and_answers_like_the_snapshot_filter(store_url, api):
    store = Store.open(store_url, create=True)
    report = sync(store, client_for(api), page_size=20)
    assert report.kind == "full" and report.pages == 5
    assert sorted(stored_ids(store_url)) == sorted(nct(r) for r in api.studies)
    query = TrialQuery(phases=("PHASE2", "PHASE3"))
    expected = [Study.from_api(r) for r in api.studies if matches(Study.from_api(r), query)]
    found = store.studies(query)
    assert sorted(s.study.nct_id for s in found) == sorted(s.nct_id for s in expected)
    for s in found:  # the reading computed at sync is the one computed now
        assert s.reading == read_record(s.study)


def test_an_export_from_the_store_has_the_design_read_from_each_record(store_url, api, monkeypatch, tmp_path):
    sync(Store.open(store_url, create=True), client_for(api))
    exported = exported_design(monkeypatch, tmp_path, store_url)
    expected = record_design(api.studies)
    assert any(row["dose_escalation"] for row in exported.values())  # the real records do state some
    assert any(row["comparator"] for row in exported.values())
    assert exported == {nct_id: expected[nct_id] for nct_id in exported}


def test_changes_reports_exactly_a_closure_a_site_opening_and_a_new_study(store_url, api, monkeypatch, capsys):
    monkeypatch.setenv("TRIALS_DB_URL", store_url)
    store = Store.open(store_url, create=True)
    sync(store, client_for(api))
    made = the_three_changes(api)
    api.log.clear()
    report = sync(store, client_for(api))
    assert report.kind == "incremental"
    assert [path for path, _ in api.log] == ["/api/v2/version", "/api/v2/studies"]  # ceil(changed/1000) + 1
    capsys.readouterr()
    assert cli.main(["changes", "--since", CHANGED_ON, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert sorted((c["change"], c["nct_id"], c["old"], c["new"], c["date"]) for c in got) == sorted([
        ("new_study", made["new_study"], "", "RECRUITING", CHANGED_ON),
        ("site_opened", made["site_opened"], "", "RECRUITING", CHANGED_ON),
        ("status_changed", made["status_changed"], "RECRUITING", "ACTIVE_NOT_RECRUITING", CHANGED_ON),
    ])
    assert next(c for c in got if c["change"] == "site_opened")["site"] == NEW_SITE_TEXT


def test_changes_table_csv_and_filters(tmp_path, api, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    monkeypatch.setenv("TRIALS_DB_URL", url)
    sync(Store.open(url, create=True), client_for(api))
    made = the_three_changes(api)
    sync(Store.open(url), client_for(api))
    capsys.readouterr()
    assert cli.main(["changes", "--since", CHANGED_ON, "--id", made["status_changed"]]) == 0
    out = capsys.readouterr().out
    assert "RECRUITING -> ACTIVE_NOT_RECRUITING" in out and made["site_opened"] not in out
    assert "1 overall status changes" in out and "synced" in out
    target = tmp_path / "changes.csv"
    assert cli.main(["changes", "--since", CHANGED_ON, "-o", str(target)]) == 0
    from trials.export import read_export  # noqa: F401  (same CSV conventions as exports)
    text = target.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "date,nct_id,change,site,old,new,version_date,seen_at,title"
    assert len(text.strip().splitlines()) == 4
    assert cli.main(["changes", "--since", "2026-13-01"]) == 2


def test_changes_without_a_store_says_how_to_make_one(capsys):
    assert cli.main(["changes", "--since", "2026-01-01"]) == 2
    assert "run `python -m trials sync` first" in capsys.readouterr().err


def test_a_study_gone_from_the_results_is_noticed_by_a_full_read(store_url, api):
    store = Store.open(store_url, create=True)
    sync(store, client_for(api))
    gone = api.studies.pop(0)
    assert sync(store, client_for(api)).gone == 0  # an incremental read can't tell
    report = sync(store, client_for(api), full=True)
    assert report.gone == 1
    history = store.history(nct(gone))
    assert [c.change for c in history][-1] == "study_gone" and history[-1].old == status_of(gone)
    assert nct(gone) not in {s.study.nct_id for s in store.studies(TrialQuery(statuses=()))}


def test_search_answers_from_a_fresh_store_without_asking_the_api(tmp_path, api):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store.open(url, create=True)
    sync(store, client_for(api))
    api.log.clear()
    result = source.search(TrialQuery(), client=client_for(api), store=store)
    assert api.log == []
    assert result.source == "store" and "synced 0 min ago" in result.banner
    assert sorted(s.nct_id for s in result.studies) == sorted(
        nct(r) for r in api.studies if matches(Study.from_api(r), TrialQuery()))
    assert set(result.annotations) == {s.nct_id for s in result.studies}


def test_a_stale_store_gives_way_to_the_live_api_and_answers_when_the_api_is_down(tmp_path, api):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store.open(url, create=True)
    sync(store, client_for(api))
    with store.engine.begin() as conn:
        Store.set_meta(conn, synced_at="2026-01-01T00:00:00Z")
    assert source.search(TrialQuery(), client=client_for(api), store=store).source == "live"
    api.always = "503"
    result = source.search(TrialQuery(), client=Client(base_url=api.url, min_interval=0, sleep=lambda s: None,
                                                       retry_budget=0), store=store)
    assert result.source == "store" and "days ago" in result.banner
    assert "HTTP 503" in result.notice and "store" in result.notice


def test_nothing_a_person_types_is_stored(tmp_path, api, monkeypatch):
    path = tmp_path / "s.sqlite"
    monkeypatch.setenv("TRIALS_DB_URL", f"sqlite:///{path}")
    sync(Store.open(f"sqlite:///{path}", create=True), client_for(api))
    monkeypatch.setenv("CTGOV_API_URL", api.url)
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)
    assert cli.main(["search", "--near", "Lyon, France", "--term", "zqxvelocity", "--status", "all"]) == 0
    assert cli.main(["changes", "--since", "2026-01-01", "--term", "zqxvelocity"]) == 0
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.sqlite"))
    assert b"zqxvelocity" not in data and b"Lyon, France" not in data


# --- schema versions ---------------------------------------------------------------------------

def test_an_older_store_is_migrated_and_keeps_its_data(store_url, api):
    store = Store.open(store_url, create=True)
    sync(store, client_for(api))
    before = events(store_url)
    with store.engine.begin() as conn:  # back to the version 1 layout
        conn.execute(sa.text("ALTER TABLE studies DROP COLUMN annotator"))
        conn.execute(sa.text("ALTER TABLE changes DROP COLUMN version_date"))
        conn.execute(meta_table.update().where(meta_table.c.key == "schema_version").values(value="1"))
    store.close()
    migrated = Store.open(store_url)
    assert migrated.meta()["schema_version"] == str(SCHEMA_VERSION)
    assert len(stored_ids(store_url)) == len(api.studies)
    assert sum(events(store_url).values()) == sum(before.values())
    found = migrated.studies(TrialQuery(statuses=()))  # annotations recomputed, not trusted
    assert all(s.reading == read_record(s.study) for s in found)


def test_a_version_2_store_is_migrated_and_its_exports_keep_the_design_columns(store_url, api, monkeypatch,
                                                                                tmp_path):
    store = Store.open(store_url, create=True)
    sync(store, client_for(api))
    with store.engine.begin() as conn:  # back to version 2: annotations held no design facts
        for nct_id, annotation in conn.execute(sa.select(studies_table.c.nct_id, studies_table.c.annotation)).all():
            old = {k: v for k, v in json.loads(annotation).items() if k != "design"}
            conn.execute(studies_table.update().where(studies_table.c.nct_id == nct_id)
                         .values(annotation=json.dumps(old)))
        conn.execute(meta_table.update().where(meta_table.c.key == "schema_version").values(value="2"))
    store.close()
    migrated = Store.open(store_url)
    assert migrated.meta()["schema_version"] == str(SCHEMA_VERSION)
    assert len(stored_ids(store_url)) == len(api.studies)
    exported, expected = exported_design(monkeypatch, tmp_path, store_url), record_design(api.studies)
    assert any(row["dose_escalation"] for row in exported.values())
    assert exported == {nct_id: expected[nct_id] for nct_id in exported}
    before = events(store_url)
    assert sync(migrated, client_for(api)).reread > 0  # the next sync stores them again, changed or not
    with migrated.engine.connect() as conn:
        stored = conn.execute(sa.select(studies_table.c.annotator, studies_table.c.annotation)).all()
    assert {annotator for annotator, _ in stored} == {annotator_fingerprint()}
    assert all("design" in json.loads(annotation) for _, annotation in stored)
    assert events(store_url) == before  # the records did not change: nothing to report
    assert exported_design(monkeypatch, tmp_path, store_url) == exported


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store.open(url, create=True)
    with store.engine.begin() as conn:
        conn.execute(meta_table.update().where(meta_table.c.key == "schema_version").values(value="99"))
    with pytest.raises(StoreError, match="newer version of this tool .schema 99"):
        Store.open(url)


# --- faults ------------------------------------------------------------------------------------

KILLER = """
import sys
from trials.client import Client
from trials.store import Store
from trials.sync import sync
sync(Store.open(sys.argv[1], create=True), Client(base_url=sys.argv[2], min_interval=0), page_size=10)
"""


def _killed_sync(url: str, api, at_request: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLER, url, api.url], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = len(api.log)

    def kill(number: int) -> None:
        if number - start == at_request:
            os.kill(proc.pid, signal.SIGKILL)
    api.on_request = kill
    try:
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        api.on_request = None


@pytest.mark.parametrize("when", ["first sync", "later sync"])
def test_a_sync_killed_mid_run_then_rerun_records_everything_exactly_once(store_url, tmp_path, api, when):
    reference = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    if when == "later sync":
        for url in (store_url, reference):
            sync(Store.open(url, create=True), client_for(api), page_size=10)
        for raw in recruiting(api)[:12]:
            close_study(raw)
        for raw in recruiting(api)[:6]:
            open_site(raw)
        for i in range(15):
            new_study(api, api.studies[i], i + 1)
    sync(Store.open(reference, create=True), client_for(api), page_size=10)
    _killed_sync(store_url, api, at_request=4)  # /version, then pages 1 and 2 written, killed asking page 3
    assert 0 < len(stored_ids(store_url)) or when == "later sync"
    sync(Store.open(store_url), client_for(api), page_size=10)
    ids = stored_ids(store_url)
    assert sorted(ids) == sorted(nct(r) for r in api.studies)
    assert events(store_url) == events(reference)
    assert max(events(store_url).values()) == 1


@pytest.mark.parametrize("fault", ["429", "503", "html", "truncated", "cutoff"])
def test_bad_answers_mid_sync_are_retried_like_every_request(tmp_path, api, fault):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    api.faults = {3: fault, 5: fault}  # on the second and fourth page requests
    report = sync(store, client_for(api), page_size=20)
    assert report.pages == 5
    assert sorted(stored_ids(store.url)) == sorted(nct(r) for r in api.studies)
    assert sum(events(store.url).values()) == len(api.studies)


def test_a_sync_that_cannot_finish_keeps_its_pages_and_the_next_one_completes(tmp_path, api):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    api.faults = {4: "503", 5: "503"}
    from trials.errors import ApiUnreachable
    with pytest.raises(ApiUnreachable):
        sync(store, Client(base_url=api.url, min_interval=0, sleep=lambda s: None, retry_budget=0), page_size=20)
    assert len(stored_ids(store.url)) == 40 and store.state().synced_at == ""
    sync(store, client_for(api), page_size=20)
    assert sorted(stored_ids(store.url)) == sorted(nct(r) for r in api.studies)
    assert sum(events(store.url).values()) == len(api.studies)


def test_a_second_sync_exits_with_a_message_while_one_runs(store_url, api, monkeypatch, capsys):
    monkeypatch.setenv("TRIALS_DB_URL", store_url)
    monkeypatch.setenv("CTGOV_API_URL", api.url)
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)
    store = Store.open(store_url, create=True)
    with sync_lock(store):
        with pytest.raises(SyncBusy):
            sync(store, client_for(api))
        assert cli.main(["sync"]) == 0
        assert "another sync is already running" in capsys.readouterr().err
        assert api.log == []
    assert cli.main(["sync"]) == 0  # the lock is free again
    assert len(stored_ids(store_url)) == len(api.studies)


def test_reads_during_a_sync_never_see_half_a_page(store_url, api):
    store = Store.open(store_url, create=True)
    sync(store, client_for(api), page_size=10)
    before = {nct(r): status_of(r) for r in api.studies}
    closed = [nct(r) for r in recruiting(api)]
    for raw in recruiting(api):
        close_study(raw)
    done = threading.Event()
    failures: list[BaseException] = []

    def run():
        try:
            sync(Store.open(store_url), client_for(api), page_size=2)
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            done.set()
    worker = threading.Thread(target=run)
    worker.start()
    reads = 0
    while not done.is_set() or reads == 0:
        # the events first, then the rows: a row must show every change already recorded for it
        recorded = {c.nct_id: c.new for c in store.changes() if c.change == "status_changed"}
        rows = {s.study.nct_id: s.study.overall_status
                for s in store.studies(TrialQuery(statuses=(), conditions=()))}
        assert set(rows) == set(before)
        for study_id, status in rows.items():
            assert status == recorded.get(study_id, before[study_id]) or study_id not in recorded
        reads += 1
    worker.join()
    assert not failures
    assert {c.nct_id for c in store.changes() if c.change == "status_changed"} == set(closed)


def test_a_store_that_cannot_be_reached_does_not_stop_a_search(api, monkeypatch, caplog):
    from tests.helpers import closed_port

    monkeypatch.setenv("TRIALS_DB_URL", f"postgresql+psycopg://trials@127.0.0.1:{closed_port()}/trials")
    result = source.search(TrialQuery(), client=client_for(api))
    assert result.source == "live" and result.studies
    assert "study store" in caplog.text and "can't be used" in caplog.text


def test_a_sync_whose_pages_go_round_in_circles_stops_loudly_and_keeps_no_cursor(tmp_path, api):
    # issue 12 for sync: a repeated page token must not end the sync as if the list were whole
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store.open(url, create=True)
    api.repeat_token_on_page = 1  # the first page's token leads back to itself
    with pytest.raises(IncompleteList):
        sync(store, client_for(api), page_size=20)
    assert not store.meta().get("synced_at")  # the next sync starts over instead of from a false cursor
