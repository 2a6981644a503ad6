"""A damaged HTTP cache never breaks a search: it is set aside (renamed, with a warning) or bypassed,
the search goes on live, and it still falls back to the snapshot when the API is down."""
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from tests.fake_api import FakeApi, real_studies
from tests.helpers import closed_port_url, use_client
from trials.client import Client
from trials.query import TrialQuery
from trials.source import fetch_study, search


@pytest.fixture
def api():
    fake = FakeApi(real_studies())
    fake.url = fake.start()
    yield fake
    fake.stop()


def client_at(url, cache_path):
    return Client(base_url=url, cache_path=cache_path, min_interval=0, sleep=lambda s: None)


def a_saved_cache(api, folder):
    """A real cache file holding one search, as an earlier run leaves it."""
    search(TrialQuery(), client=client_at(api.url, folder / "cache"))
    db = folder / "cache.sqlite"
    assert db.stat().st_size > 0
    return db


def corrupt(db):
    db.write_bytes(b"this is not an SQLite file" * 100)


def truncate(db):
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [corrupt, truncate])
def test_a_damaged_cache_is_set_aside_and_the_search_goes_on_live(api, tmp_path, damage, caplog):
    db = a_saved_cache(api, tmp_path)
    damage(db)
    with caplog.at_level(logging.WARNING, logger="trials.client"):
        result = search(TrialQuery(), client=client_at(api.url, tmp_path / "cache"))
    assert result.source == "live" and len(result.studies) > 0
    aside = [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and "set aside" not in aside[0]
    assert any("was damaged" in r.getMessage() and aside[0] in r.getMessage() for r in caplog.records)
    # a fresh cache replaced it and works: the next search is answered from it
    assert search(TrialQuery(), client=client_at(api.url, tmp_path / "cache")).source == "cache"


@pytest.mark.parametrize("damage", [corrupt, truncate])
def test_a_damaged_cache_with_the_api_down_still_falls_back_to_the_snapshot(tmp_path, damage, api):
    db = a_saved_cache(api, tmp_path)
    damage(db)
    result = search(TrialQuery(), client=client_at(closed_port_url(), tmp_path / "cache"))
    assert result.source == "snapshot" and result.studies


def test_a_file_where_the_cache_folder_should_be_is_bypassed(api, tmp_path, caplog):
    blocker = tmp_path / "folder"
    blocker.write_text("someone's file")
    with caplog.at_level(logging.WARNING, logger="trials.client"):
        result = search(TrialQuery(), client=client_at(api.url, blocker / "cache"))
    assert result.source == "live" and result.studies
    assert blocker.read_text() == "someone's file"  # never touched
    assert any("searching without it" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_cache_folder_nobody_can_create_is_bypassed(api):
    result = search(TrialQuery(), client=client_at(api.url, Path("/proc/self/no-such-folder/cache")))
    assert result.source == "live" and result.studies


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_cache_folder_is_bypassed(api, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = search(TrialQuery(), client=client_at(api.url, folder / "cache"))
    finally:
        folder.chmod(0o700)
    assert result.source == "live" and result.studies


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only files")
def test_a_read_only_cache_file_is_bypassed(api, tmp_path):
    db = a_saved_cache(api, tmp_path)
    db.chmod(0o400)
    try:
        client = client_at(api.url, tmp_path / "cache")
        result = search(TrialQuery(statuses=("COMPLETED",)), client=client)  # not saved: must be written
    finally:
        db.chmod(0o600)
    assert result.source == "live"


def test_a_cache_locked_by_another_program_is_bypassed(api, tmp_path, monkeypatch):
    from trials import client as client_module

    monkeypatch.setattr(client_module, "LOCK_WAIT", 0)  # give up on the lock at once
    db = a_saved_cache(api, tmp_path)
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    try:
        result = search(TrialQuery(statuses=("COMPLETED",)), client=client_at(api.url, tmp_path / "cache"))
    finally:
        holder.rollback()
        holder.close()
    assert result.source == "live" and result.studies


def test_a_cache_that_breaks_mid_run_is_dropped_and_the_search_goes_on(api, tmp_path, monkeypatch, caplog):
    client = client_at(api.url, tmp_path / "cache")

    def disk_full(*args, **kwargs):  # what SQLite raises when the disk fills up during a write
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(client.session.cache, "save_response", disk_full)
    with caplog.at_level(logging.WARNING, logger="trials.client"):
        result = search(TrialQuery(), client=client)
    assert result.source == "live" and result.studies
    assert not hasattr(client.session, "cache")
    assert any("stopped working" in r.getMessage() for r in caplog.records)


def test_a_study_opened_in_the_app_is_not_kept_on_disk(api, tmp_path):
    client = client_at(api.url, tmp_path / "cache")
    study, source = fetch_study("NCT07772024", client=client)
    assert source == "live" and study.nct_id == "NCT07772024"
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        urls = b" ".join(bytes(row[0]) for row in db.execute("select value from responses"))
    assert b"NCT07772024" not in urls


def test_answers_stale_for_over_a_month_are_deleted_when_the_cache_opens(api, tmp_path):
    import time

    db = a_saved_cache(api, tmp_path)
    search(TrialQuery(statuses=("COMPLETED",)), client=client_at(api.url, tmp_path / "cache"))
    with sqlite3.connect(db) as con:  # the first answers as if saved 31 days ago
        (oldest,) = con.execute("select min(rowid) from responses").fetchone()
        month_ago = int(time.time()) - 31 * 86400
        con.execute("update responses set expires = ? where rowid <= ?", (month_ago, oldest + 1))
        before = con.execute("select count(*) from responses").fetchone()[0]
    client = client_at(api.url, tmp_path / "cache")
    assert len(client.session.cache.responses) == before - 2 > 0


def test_the_cli_answers_through_a_corrupt_cache(api, tmp_path, monkeypatch, capsys, caplog):
    from trials.cli import main

    monkeypatch.setenv("CTGOV_API_URL", api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)
    db = tmp_path / "myeloma-trial-finder" / "ctgov-http-cache.sqlite"
    db.parent.mkdir(parents=True)
    corrupt(db)
    with caplog.at_level(logging.WARNING, logger="trials.client"):
        assert main(["search", "--json", "--status", "all"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == len(real_studies())
    assert "unexpected problem" not in err
    assert any("was damaged" in r.getMessage() for r in caplog.records)
