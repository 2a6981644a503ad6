"""`python -m trials search` end to end: offline, against a local fake API that misbehaves, and with no network.

One test runs the real entry point in a subprocess; the others call the CLI's main in-process (the
same code, without a new interpreter per test), with a client that does not pause between requests."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import responses

from tests.helpers import closed_port_url, use_client
from tests.fake_api import FakeApi, real_studies, replicate
from trials.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None, timeout=120):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "trials", *args], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=timeout)


def quick_client(monkeypatch, api_url, cache_dir):
    """The CLI asks `api_url`, keeps its HTTP cache in `cache_dir`, and never pauses between tries."""
    monkeypatch.setenv("CTGOV_API_URL", api_url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    # a dead API address and a private cache directory, so nothing real is touched
    quick_client(monkeypatch, closed_port_url(), tmp_path)


def test_help_names_every_filter(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["search", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--status", "--phase", "--near", "--radius", "--term", "--updated-since", "--id", "--offline", "--json"):
        assert flag in out


def test_offline_table_ends_with_the_source_line():
    # the real entry point, `python -m trials`, in its own process
    proc = run("search", "--offline")
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["NCT", "id", "Status"]
    assert "Source: offline — bundled snapshot, data as of 2026-09-18." in lines[-1]
    assert any(line.startswith("NCT07772024") for line in lines)


def test_json_lines_carry_the_documented_keys(capsys):
    assert main(["search", "--offline", "--json", "--status", "all"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in out]
    assert len(rows) == len({r["nct_id"] for r in rows}) > 50
    for key in ("nct_id", "title", "status", "phases", "conditions", "url", "last_update_posted"):
        assert key in rows[0]


@pytest.mark.parametrize("args, words", [
    (["--status", "open"], 'Unknown status "open"'),
    (["--phase", "7"], 'Unknown phase "7"'),
    (["--id", "NCT1234"], '"NCT1234" is not an NCT number'),
    (["--updated-since", "last week"], '"last week" is not a date'),
    (["--near", "00000"], "00000"),
    (["--near", "Springfeld Qwxz"], "Springfeld Qwxz"),
    (["--near", "02115", "--radius=-5mi"], "-5mi"),
    (["--near", "02115", "--radius", "-5mi"], 'The distance "-5mi"'),
    (["--near", ""], "--near was given an empty value"),
    (["--status", ""], "--status was given an empty value"),
    (["--phase", " "], "--phase was given an empty value"),
    (["--id", ""], "--id was given an empty value"),
    (["--term", "myeloma " * 30], "the most is 200"),
    (["--near", "02115", "--radius", "0.5km"], "less than 1 mile"),
    (["--term", "\\"], "empty once odd characters are removed"),
    (["--condition", ""], "empty once odd characters are removed"),
])
def test_bad_input_exits_2_with_a_message_naming_it(args, words, capsys):
    assert main(["search", "--offline", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and "usage:" not in err


def test_no_network_answers_from_the_snapshot(offline, capsys):
    assert main(["search"]) == 0
    out, err = capsys.readouterr()
    assert "bundled snapshot" in err and "Could not connect" in err
    assert "Source: offline — bundled snapshot" in out


def test_no_network_with_no_fallback_allowed_exits_3(offline, capsys):
    assert main(["search", "--no-fallback"]) == 3
    assert "Could not connect" in capsys.readouterr().err


PAGE = 10  # the fake API's page cap in the paging tests: the client follows tokens whatever the page size


@pytest.fixture
def big_api():
    api = FakeApi(replicate(real_studies(), 25), max_page_size=PAGE)
    api.url = api.start()
    yield api
    api.stop()


def test_all_studies_arrive_once_through_429_reset_html_truncated_and_503(big_api, tmp_path, monkeypatch, capsys):
    # request numbers: 1 /version, 2 page 1 (429), 3 page 1, 4 page 2 (reset), 5 page 2 (HTML),
    # 6 page 2, 7 page 3 (truncated), 8 page 3 (503), 9 page 3 (connection closed mid-body), 10 page 3
    big_api.faults = {2: "429", 4: "reset", 5: "html", 7: "truncated", 8: "503", 9: "cutoff"}
    quick_client(monkeypatch, big_api.url, tmp_path)
    assert main(["search", "--json", "--status", "all"]) == 0
    out, err = capsys.readouterr()
    ids = [json.loads(line)["nct_id"] for line in out.splitlines()]
    assert len(ids) == 25 == len(set(ids))
    lists = [params for path, params in big_api.log if path.endswith("/studies")]
    versions = [p for p, _ in big_api.log if p.endswith("/version")]
    assert len(lists) - 6 == math.ceil(25 / PAGE)  # six failed tries, three successful pages
    assert len(versions) <= 1
    assert "source: live from ClinicalTrials.gov" in err


def test_an_exact_multiple_of_the_page_size_ends_on_the_empty_page(tmp_path, monkeypatch, capsys):
    # the API sends a token after every full page (no look-ahead); the empty page it leads to ends the list
    api = FakeApi(replicate(real_studies(), 2 * PAGE), max_page_size=PAGE)
    quick_client(monkeypatch, api.start(), tmp_path)
    try:
        assert main(["search", "--json", "--status", "all"]) == 0
    finally:
        api.stop()
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 * PAGE and "incomplete" not in err
    assert sum(1 for path, _ in api.log if path.endswith("/studies")) == 3


@responses.activate
def test_a_refused_query_shows_the_apis_own_text_and_exits_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CTGOV_API_URL", raising=False)
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)
    responses.get("https://clinicaltrials.gov/api/v2/version", json={"apiVersion": "2.0.5"})
    responses.get("https://clinicaltrials.gov/api/v2/studies", status=400,
                  body="Error parsing query in Other terms: no viable alternative at input", content_type="text/plain")
    assert main(["search", "--term", "anything"]) == 2
    err = capsys.readouterr().err
    assert "refused the search: Error parsing query in Other terms" in err


def test_snapshot_command_rebuilds_from_the_api_and_search_can_read_it(tmp_path, monkeypatch, capsys):
    api = FakeApi(replicate(real_studies(), 1200))
    quick_client(monkeypatch, api.start(), tmp_path / "cache")
    out = tmp_path / "snap.json.gz"
    try:
        assert main(["snapshot", "--output", str(out), "--no-cache"]) == 0
    finally:
        api.stop()
    assert "1200 studies in 2 requests" in capsys.readouterr().out
    from trials.snapshot import load_snapshot

    snap = load_snapshot(out)
    assert len(snap.studies) == 1200 and snap.data_as_of == "2026-11-20 09:00"
    assert all(path.endswith(("/studies", "/version")) for path, _ in api.log)
    assert "filter.overallStatus" not in api.log[1][1]  # every status goes into the snapshot


def test_no_fallback_failure_message_does_not_claim_a_fallback(offline, capsys):
    assert main(["search", "--no-fallback"]) == 3
    assert "bundled snapshot" not in capsys.readouterr().err


def test_near_lists_only_studies_with_an_open_site_in_the_circle(capsys):
    # NCT07764978 has a site in Gilbert, AZ that is not yet recruiting; its only recruiting
    # site is in Australia, so it is not "within 25 miles" of Gilbert for a patient
    assert main(["search", "--offline", "--json", "--near", "Gilbert, AZ", "--radius", "25mi"]) == 0
    out, err = capsys.readouterr()
    assert "NCT07764978" not in out
    assert "5 studies left out: no open (recruiting) site within 25 miles" in err
    # NCT07648264's Bethesda site is recruiting
    assert main(["search", "--offline", "--json", "--near", "Bethesda, MD", "--radius", "25mi"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["nct_id"], r["distance_basis"]) for r in rows if r["distance_mi"] is not None] == [
        ("NCT07648264", "site coordinates")]
    # recruiting studies whose records name no recruiting site are listed too, as "distance unknown"
    unknown = [r for r in rows if r["distance_mi"] is None]
    assert unknown and {r["distance_basis"] for r in unknown} == {"distance unknown"}
    assert f'{len(unknown)} studies listed under "distance unknown — call to ask"' in err


def test_no_fallback_refuses_a_stale_saved_answer_too(monkeypatch, tmp_path, capsys):
    import datetime as dt

    api = FakeApi(real_studies())
    url = api.start()
    monkeypatch.setenv("CTGOV_API_URL", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # saved answers are stale at once and a failure is final at once: no waiting in the test
    use_client(monkeypatch, cache_expiry=dt.timedelta(0), max_attempts=1, min_interval=0)
    try:
        assert main(["search", "--json"]) == 0  # saves an answer
        api.always = "503"
        capsys.readouterr()
        assert main(["search", "--json"]) == 0  # a person gets the saved answer, with a warning
        assert "last saved answer" in capsys.readouterr().err
        assert main(["search", "--json", "--no-fallback"]) == 3  # a cron job learns the API is down
        captured = capsys.readouterr()
        assert captured.out == "" and "HTTP 503" in captured.err
    finally:
        api.stop()


def test_record_text_cannot_send_escape_sequences_to_the_terminal(capsys):
    from trials.cli import print_table

    print_table([("NCT00000001", "Recruiting", "-", "Title\x1b[2J\x1b]0;pwned\x07 end")], ("NCT id", "Status", "Phase", "Title"))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "Title[2J]0;pwned end" in out


def test_near_finds_sites_by_zip_or_city_and_lists_unplaceable_ones_as_distance_unknown(monkeypatch, capsys,
                                                                                         tmp_path):
    from tests.helpers import without_coordinates

    # hand-made variants of the real NCT07772024 (one recruiting site in Miami, FL 33126): no geoPoint;
    # no geoPoint nor ZIP; and a site in a city no list knows
    by_zip = without_coordinates("NCT07772024")
    by_city = without_coordinates("NCT07772024", keep_zip=False)
    by_city["protocolSection"]["identificationModule"]["nctId"] = "NCT99000011"
    lost = without_coordinates("NCT07772024", keep_zip=False, city="Ostrova")
    lost["protocolSection"]["identificationModule"]["nctId"] = "NCT99000012"
    api = FakeApi([by_zip, by_city, lost])
    quick_client(monkeypatch, api.start(), tmp_path)
    try:
        assert main(["search", "--json", "--near", "33125", "--radius", "25mi"]) == 0
        out, err = capsys.readouterr()
        rows = {r["nct_id"]: r for r in map(json.loads, out.splitlines())}
        assert {k: r["distance_basis"] for k, r in rows.items()} == {
            "NCT07772024": "site ZIP", "NCT99000011": "site city", "NCT99000012": "distance unknown"}
        assert rows["NCT07772024"]["distance_mi"] < 10 and rows["NCT99000012"]["distance_mi"] is None
        assert list(rows)[-1] == "NCT99000012"  # the unplaced study comes after the ones in the circle
        # the place is matched here: ClinicalTrials.gov's filter.geo would only see sites with coordinates
        assert all("filter.geo" not in params for _, params in api.log)
        assert main(["search", "--near", "02115", "--radius", "25mi"]) == 0
        out, err = capsys.readouterr()
        assert "Distance unknown — call to ask (1 studies: their open sites can't be placed):" in out
        assert "NCT99000012" in out.split("Distance unknown")[1] and "NCT07772024" not in out
        assert "2 studies left out: no open (recruiting) site within 25 miles" in err
    finally:
        api.stop()
