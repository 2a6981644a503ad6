"""Studies are never lost quietly: a fake API that repeats a page token, or whose totalCount is
wrong, either delivers every study or makes the run exit non-zero saying how many are missing."""
import re

import pytest

from tests.fake_api import FakeApi, real_studies, replicate
from tests.helpers import use_client
from trials.cli import main
from trials.snapshot import load_snapshot

N = 11  # two pages: 10 and 1 (the fake API caps pages at 10 here; the client follows tokens whatever the page size)


@pytest.fixture
def big_api(monkeypatch, tmp_path):
    api = FakeApi(replicate(real_studies(), N), max_page_size=10)
    monkeypatch.setenv("CTGOV_API_URL", api.start())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    use_client(monkeypatch, min_interval=0)  # no polite pause between the fake's pages
    yield api
    api.stop()


def _listed(out: str) -> int:
    """How many studies the table lists, from its rows (one per NCT id) and its closing count."""
    rows = {line.split()[0] for line in out.splitlines() if re.match(r"NCT\d{8}\s", line)}
    (count,) = re.findall(r"^(\d+) studies \(", out, re.M)
    assert int(count) == len(rows)
    return len(rows)


def test_a_repeated_page_token_exits_3_saying_how_many_are_missing(big_api, capsys):
    big_api.repeat_token_on_page = 1  # its token leads back to itself
    assert main(["search", "--status", "all"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "got 10 of 11 studies" in err and "--accept-partial" in err


def test_accept_partial_keeps_the_studies_received_with_a_warning(big_api, capsys):
    big_api.repeat_token_on_page = 1  # its token leads back to itself
    assert main(["search", "--status", "all", "--accept-partial"]) == 0
    out, err = capsys.readouterr()
    assert _listed(out) == 10
    assert "warning: incomplete list: got 10 of 11 studies" in err


def test_a_total_count_lower_than_the_truth_still_brings_every_study(big_api, capsys):
    big_api.reported_total = 10
    assert main(["search", "--status", "all"]) == 0
    assert _listed(capsys.readouterr().out) == N


def test_export_with_pages_ending_early_writes_nothing(big_api, tmp_path, capsys):
    big_api.reported_total = 5000
    target = tmp_path / "list.csv"
    assert main(["export", "--status", "all", "-o", str(target)]) == 3
    assert not target.exists()
    assert "got 11 of 5000 studies" in capsys.readouterr().err


def test_snapshot_refuses_to_write_a_partial_list(big_api, tmp_path, capsys):
    big_api.repeat_token_on_page = 1  # its token leads back to itself
    target = tmp_path / "snapshot.json.gz"
    assert main(["snapshot", "--output", str(target), "--no-cache"]) == 3
    assert not target.exists()
    assert "got 10 of 11 studies" in capsys.readouterr().err
    assert main(["snapshot", "--output", str(target), "--no-cache", "--accept-partial"]) == 0
    assert len(load_snapshot(target).raw) == 10
