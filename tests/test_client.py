"""The API client against mocked HTTP (responses): paging, retries, errors, parameters sent."""
import json
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from trials.client import Client
from trials.errors import ApiUnreachable, BadResponse, QueryRefused, StudyNotFound
from trials.query import LIST_FIELDS, TrialQuery, build_params

BASE = "https://ctgov.test/api/v2"
FIXTURES = Path(__file__).parent / "fixtures"
PAGE = json.loads((FIXTURES / "pages" / "rayyanshuda__ctgov-viz-agent__myeloma_page.json").read_text())
REAL = PAGE["studies"]  # 81 real projected records
VERSION = {"apiVersion": "2.0.5", "dataTimestamp": "2026-11-20T09:00:05"}


class FakeTime:
    """Injected clock and sleep: tests run instantly yet see every wait the client makes."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def client(fake_time):
    return Client(base_url=BASE, sleep=fake_time.sleep, clock=fake_time.clock)


def ids(studies):
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def add_version(rsps):
    rsps.get(f"{BASE}/version", json=VERSION)


@responses.activate
def test_three_pages_with_empty_final_page_get_every_study_once(client):
    add_version(responses)
    first = build_params(TrialQuery()) | {"countTotal": "true"}
    later = build_params(TrialQuery())
    responses.get(f"{BASE}/studies", json={"studies": REAL[:40], "nextPageToken": "t1"},
                  match=[matchers.query_param_matcher(first)])
    responses.get(f"{BASE}/studies", json={"studies": REAL[40:81], "nextPageToken": "t2"},
                  match=[matchers.query_param_matcher(later | {"pageToken": "t1"})])
    responses.get(f"{BASE}/studies", json={"studies": [], "nextPageToken": "t3"},
                  match=[matchers.query_param_matcher(later | {"pageToken": "t2"})])
    seen = []
    result = client.search(TrialQuery(), progress=lambda *a: seen.append(a))
    assert ids(result.studies) == ids(REAL)
    assert result.pages == 3 and result.data_as_of == VERSION["dataTimestamp"]
    assert seen == [(1, 40, None), (2, 81, None), (3, 81, None)]


@responses.activate
def test_a_total_count_lower_than_the_truth_does_not_stop_paging(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:30], "nextPageToken": "t1", "totalCount": 30})
    responses.get(f"{BASE}/studies", json={"studies": REAL[30:60], "nextPageToken": "t2"})
    responses.get(f"{BASE}/studies", json={"studies": REAL[60:81]})
    result = client.search(TrialQuery())
    assert ids(result.studies) == ids(REAL[:81]) and result.pages == 3
    assert result.shortfall == ""  # every page arrived: more than announced is not a loss


@responses.activate
def test_a_total_count_of_zero_does_not_stop_paging(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:30], "nextPageToken": "t1", "totalCount": 0})
    responses.get(f"{BASE}/studies", json={"studies": REAL[30:45]})
    assert ids(client.search(TrialQuery()).studies) == ids(REAL[:45])


@responses.activate
def test_a_repeated_page_token_stops_paging_and_says_how_many_are_missing(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:30], "nextPageToken": "t1", "totalCount": 81})
    responses.get(f"{BASE}/studies", json={"studies": REAL[30:60], "nextPageToken": "t1"})
    result = client.search(TrialQuery())
    assert len(result.studies) == 60 and len(responses.calls) == 3  # no endless loop
    assert result.shortfall.startswith("got 60 of 81 studies: ")
    assert "page token it had already sent" in result.shortfall


@responses.activate
def test_pages_ending_before_the_total_count_are_reported(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:30], "nextPageToken": "t1", "totalCount": 81})
    responses.get(f"{BASE}/studies", json={"studies": REAL[30:50]})
    assert client.search(TrialQuery()).shortfall == "got 50 of 81 studies: ClinicalTrials.gov's pages ended before its own count"


@responses.activate
def test_a_whole_list_has_no_shortfall(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:30], "nextPageToken": "t1", "totalCount": 40})
    responses.get(f"{BASE}/studies", json={"studies": REAL[30:40]})
    assert client.search(TrialQuery()).shortfall == ""


@responses.activate
def test_duplicates_across_pages_are_dropped(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:10], "nextPageToken": "t1"})
    responses.get(f"{BASE}/studies", json={"studies": REAL[5:15]})
    result = client.search(TrialQuery())
    assert ids(result.studies) == ids(REAL[:15])


@responses.activate
def test_parameters_and_fields_sent_are_exactly_the_documented_ones(client):
    add_version(responses)
    query = TrialQuery(statuses=("RECRUITING", "NOT_YET_RECRUITING"), phases=("PHASE2", "PHASE3"),
                       terms=("teclistamab",))
    expected = {
        "format": "json", "pageSize": "1000", "countTotal": "true",
        "query.cond": '"multiple myeloma" OR "plasma cell myeloma"',
        "query.term": '"teclistamab"',
        "filter.overallStatus": "RECRUITING,NOT_YET_RECRUITING",
        "filter.advanced": "(AREA[Phase]PHASE2 OR AREA[Phase]PHASE3)",
        "fields": ",".join(LIST_FIELDS),
    }
    responses.get(f"{BASE}/studies", json={"studies": REAL[:3]}, match=[matchers.query_param_matcher(expected)])
    assert len(client.search(query).studies) == 3
    sent = responses.calls[1].request
    assert "filter.phase" not in sent.url
    assert "myeloma-trial-finder" in sent.headers["User-Agent"]


@responses.activate(registry=OrderedRegistry)
def test_429_with_retry_after_is_waited_then_succeeds(client, fake_time):
    responses.get(f"{BASE}/studies/NCT03412565", status=429, body="Too Many Requests", headers={"Retry-After": "7"})
    record = json.loads((FIXTURES / "complete" / "NCT03412565.json").read_text())
    responses.get(f"{BASE}/studies/NCT03412565", json=record)
    assert client.fetch_study("NCT03412565")["protocolSection"]["identificationModule"]["nctId"] == "NCT03412565"
    assert 7 in fake_time.sleeps


@responses.activate
def test_503_until_retries_run_out_says_it_cannot_reach(client, fake_time):
    responses.get(f"{BASE}/studies/NCT03412565", status=503, body="Service Unavailable")
    with pytest.raises(ApiUnreachable, match=r"kept failing: it answered HTTP 503 after 6 tries"):
        client.fetch_study("NCT03412565")
    assert len(responses.calls) == 6
    assert fake_time.sleeps == [1, 2, 4, 8, 16]  # exponential backoff, bounded


@responses.activate
def test_long_retry_after_beyond_the_budget_gives_up_instead_of_hanging(client, fake_time):
    responses.get(f"{BASE}/version", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ApiUnreachable, match="too many requests"):
        client.data_timestamp()
    assert len(responses.calls) == 1 and fake_time.sleeps == []  # an hour's wait is not worth trying


@responses.activate
def test_400_carries_the_apis_own_text(client):
    add_version(responses)
    responses.get(f"{BASE}/studies", status=400, body="`filter.phase` is unknown parameter",
                  content_type="text/plain")
    with pytest.raises(QueryRefused) as err:
        client.search(TrialQuery())
    assert "`filter.phase` is unknown parameter" in str(err.value)
    assert len(responses.calls) == 2  # a refused query is not retried


@responses.activate
def test_404_names_the_missing_study(client):
    responses.get(f"{BASE}/studies/NCT09999999", status=404, body="not found")
    with pytest.raises(StudyNotFound, match="no study NCT09999999"):
        client.fetch_study("NCT09999999")


@responses.activate
def test_alias_301_is_followed_to_the_canonical_study(client):
    record = json.loads((FIXTURES / "complete" / "NCT03412565.json").read_text())
    responses.get(f"{BASE}/studies/NCT01111111", status=301, headers={"Location": f"{BASE}/studies/NCT03412565"})
    responses.get(f"{BASE}/studies/NCT03412565", json=record)
    assert client.fetch_study("NCT01111111")["protocolSection"]["identificationModule"]["nctId"] == "NCT03412565"


@pytest.mark.parametrize("body, content_type, words", [
    ("<!DOCTYPE html><html><body>Down for maintenance</body></html>", "application/json", "web page"),
    ('{"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT0', "application/json", "cut off"),
    ('{"unexpected": true}', "application/json", "shape"),
])
@responses.activate
def test_bad_200_bodies_are_retried_then_reported(client, body, content_type, words):
    responses.get(f"{BASE}/studies/NCT03412565", body=body, content_type=content_type)
    with pytest.raises(BadResponse, match=words):
        client.fetch_study("NCT03412565")
    assert len(responses.calls) == 6


@pytest.mark.parametrize("failure", [
    requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=45.0)"),
    "html",
    "truncated",
])
@responses.activate(registry=OrderedRegistry)
def test_a_page_that_fails_once_is_fetched_again_with_the_same_token(client, failure):
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": REAL[:40], "nextPageToken": "t1"})
    if failure == "html":
        responses.get(f"{BASE}/studies", body="<html>oops</html>", content_type="text/html")
    elif failure == "truncated":
        responses.get(f"{BASE}/studies", body=json.dumps({"studies": REAL[40:]})[:500])
    else:
        responses.get(f"{BASE}/studies", body=failure)
    responses.get(f"{BASE}/studies", json={"studies": REAL[40:]},
                  match=[matchers.query_param_matcher({"pageToken": "t1"}, strict_match=False)])
    result = client.search(TrialQuery())
    assert ids(result.studies) == ids(REAL)
    assert result.pages == 2


@responses.activate
def test_a_server_that_keeps_timing_out_is_given_up_after_two_tries(client):
    responses.get(f"{BASE}/studies/NCT03412565", body=requests.exceptions.ReadTimeout("timed out"))
    with pytest.raises(ApiUnreachable, match="did not answer: no answer within 45 seconds, 2 times") as err:
        client.fetch_study("NCT03412565")
    assert len(responses.calls) == 2 and err.value.unresponsive


@responses.activate
def test_a_version_timeout_skips_the_list_request(client):
    responses.get(f"{BASE}/version", body=requests.exceptions.ReadTimeout("timed out"))
    with pytest.raises(ApiUnreachable, match="did not answer"):
        client.search(TrialQuery())
    assert [c.request.path_url for c in responses.calls] == ["/api/v2/version"] * 2


@responses.activate
def test_the_retry_budget_counts_time_spent_waiting_for_slow_answers(client, fake_time):
    starts = []

    def slow_503(request):
        starts.append(fake_time.now)
        fake_time.now += 40  # the server took 40 s to say it is unavailable
        return 503, {}, "Service Unavailable"

    responses.add_callback(responses.GET, f"{BASE}/studies/NCT03412565", callback=slow_503)
    with pytest.raises(ApiUnreachable, match="HTTP 503 after 3 tries over 123 s"):
        client.fetch_study("NCT03412565")
    # with waits alone (1 + 2 + 4 ... s) there would be six tries; no try starts after the budget
    assert len(starts) == 3 and max(starts) <= client.retry_budget


@pytest.mark.parametrize("cut", [
    requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(100 bytes read, 900 more expected)"),
    requests.exceptions.ContentDecodingError("Received response with content-encoding: gzip, but failed to decode it."),
])
@responses.activate(registry=OrderedRegistry)
def test_a_body_cut_off_mid_transfer_is_fetched_again(client, cut):
    record = json.loads((FIXTURES / "complete" / "NCT03412565.json").read_text())
    responses.get(f"{BASE}/studies/NCT03412565", body=cut)
    responses.get(f"{BASE}/studies/NCT03412565", json=record)
    assert client.fetch_study("NCT03412565")["protocolSection"]["identificationModule"]["nctId"] == "NCT03412565"


@pytest.mark.parametrize("base", ["ftp://example.test/api/v2", "clinicaltrials.gov/api/v2"])
def test_a_bad_api_address_says_to_check_it_without_retrying(base, fake_time):
    client = Client(base_url=base, sleep=fake_time.sleep, clock=fake_time.clock)
    with pytest.raises(ApiUnreachable, match="Check CTGOV_API_URL"):
        client.fetch_study("NCT03412565")
    assert fake_time.sleeps == []


@responses.activate
def test_failed_dns_lookup_gives_up_at_once(client, fake_time):
    error = requests.exceptions.ConnectionError("HTTPSConnectionPool(host='ctgov.invalid', port=443): Max retries "
                                                "exceeded (Caused by NameResolutionError(\"Failed to resolve "
                                                "'ctgov.invalid' ([Errno -2] Name or service not known)\"))")
    responses.get(f"{BASE}/version", body=error)
    with pytest.raises(ApiUnreachable, match="Could not connect.*name or service not known") as err:
        client.search(TrialQuery())
    assert err.value.unresponsive
    assert len(responses.calls) == 1 and fake_time.sleeps == []  # no retry: DNS won't heal in a second


@responses.activate
def test_refused_connection_gives_up_fast(client, fake_time):
    error = requests.exceptions.ConnectionError("HTTPSConnectionPool: Max retries exceeded (Caused by "
                                                "NewConnectionError('Failed to establish a new connection: "
                                                "[Errno 111] Connection refused'))")
    responses.get(f"{BASE}/version", body=error)
    with pytest.raises(ApiUnreachable, match="Could not connect.*connection refused") as err:
        client.search(TrialQuery())
    assert err.value.unresponsive
    assert len(responses.calls) == 2 and fake_time.sleeps == [0.1]  # one quick retry, then fall back


@responses.activate
def test_sustained_rate_is_at_most_one_request_per_second(client, fake_time):
    add_version(responses)
    for i in range(4):
        responses.get(f"{BASE}/studies", json={"studies": REAL[i * 20:(i + 1) * 20], "nextPageToken": f"t{i}"})
    responses.get(f"{BASE}/studies", json={"studies": REAL[80:]})
    client.search(TrialQuery())
    calls = len(responses.calls)
    assert calls == 6
    assert fake_time.now >= calls - 1  # n requests need at least n-1 seconds


@responses.activate
def test_missing_version_endpoint_does_not_stop_the_search(client):
    responses.get(f"{BASE}/version", status=404, body="no")
    responses.get(f"{BASE}/studies", json={"studies": REAL[:5]})
    result = client.search(TrialQuery())
    assert len(result.studies) == 5 and result.data_as_of == ""


@responses.activate(registry=OrderedRegistry)
def test_a_saved_answer_of_the_wrong_shape_is_forgotten_and_fetched_again(tmp_path, fake_time):
    client = Client(base_url=BASE, cache_path=tmp_path / "cache", sleep=fake_time.sleep, clock=fake_time.clock)
    add_version(responses)
    responses.get(f"{BASE}/studies", json={"studies": "not a list"})  # JSON, so it is saved
    responses.get(f"{BASE}/studies", json={"studies": REAL[:3]})
    result = client.search(TrialQuery())
    assert ids(result.studies) == ids(REAL[:3]) and not result.from_cache


@responses.activate
def test_a_connect_timeout_gives_up_after_one_quick_retry(client, fake_time):
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

    # as requests raises it: the cause is only named by its type, not in a phrase of the message
    cause = MaxRetryError(None, "/api/v2/version", reason=ConnectTimeoutError(None, "(connect timeout=4.0)"))
    responses.get(f"{BASE}/version", body=requests.exceptions.ConnectionError(cause))
    with pytest.raises(ApiUnreachable, match="Could not connect") as err:
        client.search(TrialQuery())
    assert err.value.unresponsive
    assert len(responses.calls) == 2 and fake_time.sleeps == [0.1]
