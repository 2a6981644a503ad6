"""`python -m trials export` and `diff` end to end: offline, against the local fake API, with no network.

The CLI's main runs in-process (tests/test_cli.py runs the entry point itself in a subprocess), with a
client that does not pause between requests; stdout is read as bytes, as a pipe would carry it."""
from collections import namedtuple

import openpyxl
import pytest

from tests.helpers import closed_port_url, use_client
from tests.fake_api import FakeApi, real_studies
from tests.helpers import BUMPED, DROPPED, NEW_STUDY, STATUS, modified_copy
from trials.cli import main
from trials.export import read_export
from trials.table import SITE_COLUMNS, TRIAL_COLUMNS

Run = namedtuple("Run", "returncode stdout stderr")


@pytest.fixture
def run(monkeypatch, capsysbinary):
    """`python -m trials ARGS` in-process: the exit code, stdout as bytes and stderr as bytes. `api_url`
    and `cache_dir` say where the CLI asks and keeps its HTTP cache for this run (else as before)."""
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)

    def run_(*args, api_url=None, cache_dir=None):
        if api_url is not None:
            monkeypatch.setenv("CTGOV_API_URL", api_url)
        if cache_dir is not None:
            monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
        capsysbinary.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # --help and argparse's own errors
            code = exc.code
        out, err = capsysbinary.readouterr()
        return Run(code, out, err)
    return run_


@pytest.fixture
def dead_api(tmp_path):
    return {"api_url": closed_port_url(), "cache_dir": tmp_path / "cache"}


@pytest.fixture
def api(tmp_path):
    fake = FakeApi(real_studies())
    fake.url = fake.start()
    yield fake
    fake.stop()


def api_env(api, tmp_path, name):
    # a fresh private HTTP cache per run, so each run asks the fake API
    return {"api_url": api.url, "cache_dir": tmp_path / f"cache-{name}"}


def test_help_names_the_filters_and_the_export_options(run):
    proc = run("export", "--help")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    for flag in ("--status", "--phase", "--near", "--radius", "--term", "--updated-since", "--id", "--offline",
                 "--no-fallback", "--per", "--output"):
        assert flag in out
    out = run("diff", "--help").stdout.decode()
    for flag in ("OLD", "NEW", "--status", "--offline", "--output", "--save"):
        assert flag in out


def test_offline_csv_export_has_every_matching_study(tmp_path, capsys):
    out = tmp_path / "trials.csv"
    assert main(["export", "--offline", "--status", "all", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfnct_id,url,title,")
    back = read_export(data).trials
    assert tuple(back.columns) == TRIAL_COLUMNS
    assert main(["search", "--offline", "--status", "all", "--json"]) == 0
    searched = [line.split('"nct_id": "')[1][:11] for line in capsys.readouterr().out.splitlines()]
    assert list(back["nct_id"]) == searched
    assert set(back["source"]) == {"snapshot"} and set(back["data_as_of"]) == {"2026-09-18"}
    assert f"wrote {out}: {len(searched)} studies; source: offline — bundled snapshot" in err


def test_per_site_xlsx_near_a_place(tmp_path, capsys):
    out = tmp_path / "sites.xlsx"
    assert main(["export", "--offline", "--status", "all", "--near", "02115", "--radius", "anywhere",
                 "--per", "site", "-o", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "all" and wb.sheetnames[-2:] == ["sites", "search"] and len(wb.sheetnames) > 5
    back = read_export(out.read_bytes())
    assert tuple(back.sites.columns) == SITE_COLUMNS
    assert back.trials["distance_mi"].notna().sum() > 0 and back.sites["distance_mi"].dtype == "float64"
    assert set(back.trials["searched_place"]) == {"02115 — Boston, MA"}


def test_stdout_carries_only_csv_and_warnings_go_to_stderr(run, dead_api):
    proc = run("export", "--per", "site", "-o", "-", **dead_api)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"\xef\xbb\xbfnct_id,url,title,status,family_ids")
    back = read_export(proc.stdout)
    assert back.sites is not None and len(back.sites) > 10
    err = proc.stderr.decode()
    assert "warning:" in err and "bundled snapshot" in err and "wrote stdout:" in err
    assert b"warning" not in proc.stdout


def test_no_network_and_no_fallback_exits_3_and_writes_nothing(run, dead_api, tmp_path):
    out = tmp_path / "x.csv"
    proc = run("export", "--no-fallback", "-o", str(out), **dead_api)
    assert proc.returncode == 3 and "Could not connect" in proc.stderr.decode()
    assert not out.exists() and proc.stdout == b""


@pytest.mark.parametrize("args, words", [
    (["-o", "trials.txt"], '"trials.txt": the output file name must end in .csv or .xlsx'),
    (["--status", "open", "-o", "-"], 'Unknown status "open"'),
    (["--per", "country"], "invalid choice: 'country'"),
    (["-o", "/nonexistent-dir/x.csv"], "cannot write /nonexistent-dir/x.csv"),
])
def test_bad_export_input_exits_2_with_a_message(args, words, capsys):
    try:
        code = main(["export", "--offline", *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_live_export_then_diff_two_weeks_against_the_fake_api(run, api, tmp_path):
    week1, week2 = tmp_path / "week1.csv", tmp_path / "week2.csv"
    proc = run("export", "--status", "all", "--per", "site", "-o", str(week1), **api_env(api, tmp_path, "1"))
    assert proc.returncode == 0, proc.stderr
    assert "source: live from ClinicalTrials.gov" in proc.stderr.decode()
    first = read_export(week1.read_bytes()).sites
    assert set(first["source"]) == {"live"} and set(first["data_as_of"]) == {"2026-11-20 09:00"}

    api.studies = modified_copy(real_studies())  # the test's changes (see tests/test_diff.py)
    proc = run("export", "--status", "all", "--per", "site", "-o", str(week2), **api_env(api, tmp_path, "2"))
    assert proc.returncode == 0, proc.stderr

    proc = run("diff", str(week1), str(week2), "-o", str(tmp_path / "changes.csv"))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert f"    {STATUS}: RECRUITING -> ACTIVE_NOT_RECRUITING" in text
    assert f"    {NEW_STUDY} (RECRUITING)" in text and f"    {DROPPED} (RECRUITING)" in text
    assert f"    {BUMPED}: 2026-08-17 -> 2026-11-20" in text
    assert "Montefiore Medical Center PRIME, The Bronx, New York, United States: NOT_YET_RECRUITING -> RECRUITING" in text
    changes = (tmp_path / "changes.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert changes[0] == "change,nct_id,title,site,field,old,new" and len(changes) == 7

    # Without NEW: search now (same filters) and compare; --save keeps the fresh export for next time.
    saved = tmp_path / "latest.csv"
    proc = run("diff", str(week1), "--status", "all", "--save", str(saved), **api_env(api, tmp_path, "3"))
    assert proc.returncode == 0, proc.stderr
    assert f"    {STATUS}: RECRUITING -> ACTIVE_NOT_RECRUITING" in proc.stdout.decode()
    assert "to search now (data as of 2026-11-20 09:00, live)" in proc.stdout.decode()
    assert read_export(saved.read_bytes()).sites is not None
    assert run("diff", str(week2), str(saved)).stdout.decode().splitlines()[1] == "  No changes."


def test_diff_against_an_offline_search(run, tmp_path):
    old = tmp_path / "old.csv"
    assert main(["export", "--offline", "-o", str(old)]) == 0
    proc = run("diff", str(old), "--offline", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8-sig").strip() == "change,nct_id,title,site,field,old,new"
    assert "No changes." in proc.stderr.decode() and "Sites were not compared" in proc.stderr.decode()


@pytest.mark.parametrize("make, extra, words", [
    (lambda p: p.write_text("name,age\nAnn,3\n"), [], "not a Myeloma Trial Finder export"),
    (lambda p: None, [], "no such file"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"), [], "a binary file"),
    (lambda p: p.write_text("nct_id,title,status,last_update_posted,family_ids\nNCT01234567,x,RECRUITING,2026-01-01,car_t\n"),
     ["other.csv", "--status", "all"], "give either NEW (a second export) or filters to search now, not both (--status)"),
])
def test_diff_bad_input_exits_2_with_a_message(run, tmp_path, monkeypatch, make, extra, words):
    old = tmp_path / "old.csv"
    make(old)
    monkeypatch.chdir(tmp_path)
    proc = run("diff", str(old), *extra, "--offline")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert words in err and "Traceback" not in err
