"""The source chain live -> HTTP cache -> bundled snapshot, and what each result says about itself."""
import datetime as dt

import pytest

from tests.helpers import closed_port
from tests.fake_api import FakeApi, real_studies
from trials import client as client_module
from trials.client import Client
from trials.query import TrialQuery
from trials.snapshot import load_snapshot, search_snapshot
from trials.source import fetch_study, search


@pytest.fixture
def api():
    fake = FakeApi(real_studies())
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


def quick_client(url, cache_path=None, **settings):
    return Client(base_url=url, cache_path=cache_path, min_interval=0, sleep=lambda s: None, **settings)


def test_offline_answers_from_the_snapshot_and_says_so():
    result = search(TrialQuery(), offline=True)
    assert result.source == "snapshot"
    assert result.banner == "offline — bundled snapshot, data as of 2026-09-18"
    assert result.studies and all(s.overall_status == "RECRUITING" for s in result.studies)


def test_no_network_falls_back_to_the_snapshot_without_waiting(tmp_path):
    waits = []
    client = Client(base_url=f"http://127.0.0.1:{closed_port()}/api/v2", cache_path=tmp_path / "c",
                    sleep=waits.append)
    result = search(TrialQuery(), client=client)
    assert sum(waits) <= 2 * client_module.CONNECT_RETRY_DELAY  # one quick retry per source tried, no backoff
    assert result.source == "snapshot"
    assert "Could not connect" in result.notice and "bundled snapshot" in result.notice


def test_live_answer_carries_the_apis_data_timestamp(api):
    result = search(TrialQuery(statuses=()), client=quick_client(api.url))
    assert result.source == "live" and result.data_as_of == "2026-11-20 09:00"
    assert len(result.studies) == len(real_studies())


def test_saved_answer_is_served_stale_when_the_api_fails(api, tmp_path):
    expired_at_once = dt.timedelta(0)  # saved, but never fresh: the next search must ask the API
    first = search(TrialQuery(), client=quick_client(api.url, tmp_path / "cache", cache_expiry=expired_at_once))
    assert first.source == "live"
    api.always = "503"
    again = search(TrialQuery(), client=quick_client(api.url, tmp_path / "cache"))
    assert again.source == "cache"
    assert [s.nct_id for s in again.studies] == [s.nct_id for s in first.studies]
    assert "HTTP 503" in again.notice and "last saved answer" in again.notice


def test_snapshot_filters_like_the_api():
    snapshot = load_snapshot()
    recruiting_phase3 = search_snapshot(TrialQuery(phases=("PHASE3",)), snapshot)
    assert recruiting_phase3 and all("PHASE3" in s.phases and s.overall_status == "RECRUITING"
                                     for s in recruiting_phase3)
    by_term = search_snapshot(TrialQuery(statuses=(), terms=("daratumumab",)), snapshot)
    assert "NCT03412565" in {s.nct_id for s in by_term}
    since = search_snapshot(TrialQuery(statuses=(), updated_since=dt.date(2026, 8, 1)), snapshot)
    assert since and all(s.last_update_posted >= "2026-08-01" for s in since)


def test_one_study_comes_from_the_snapshot_when_offline():
    study, source = fetch_study("NCT07772024", offline=True)
    assert source == "snapshot" and study.title.startswith("Inobrodib")


def test_searches_by_place_or_free_text_are_not_written_to_the_cache(api, tmp_path):
    import sqlite3

    from trials.query import GeoFilter

    client = quick_client(api.url, tmp_path / "cache")
    search(TrialQuery(near=GeoFilter(42.36, -71.06, 50), terms=("my own words",)), client=client)
    search(TrialQuery(), client=client)
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        keys = [row[0] for row in db.execute("select key from responses")]
        blobs = b"".join(row[0] for row in db.execute("select value from responses"))
    assert len(keys) == 2  # /version and the plain search
    assert b"42.36" not in blobs and b"my+own+words" not in blobs and b"my own words" not in blobs
