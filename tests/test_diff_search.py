"""`diff` warns when the two lists were made by different searches, and says so more softly when a
file doesn't record its search (exports written before files recorded it)."""
import io

import pandas as pd
import pytest

from trials.cli import main
from trials.diff import compare
from trials.export import read_export, to_csv_bytes

WARNING = "these lists come from different searches"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    where = tmp_path_factory.mktemp("diff")
    searches = {"near.csv": ["--near", "02115", "--radius", "100mi"], "near-again.csv": ["--near", "02115"],
                "all.csv": ["--status", "all"]}
    for name, flags in searches.items():
        assert main(["export", "--offline", *flags, "-o", str(where / name)]) == 0
    return where


def test_different_searches_are_named_in_the_warning(exports, capsys):
    assert main(["diff", str(exports / "near.csv"), str(exports / "all.csv")]) == 0
    out = capsys.readouterr().out
    assert WARNING in out
    assert "status=RECRUITING, near=02115, radius=100mi vs status=all" in out
    assert "differences may come from the search, not the registry" in out


def test_the_same_search_gives_no_warning(exports, capsys):
    assert main(["diff", str(exports / "near.csv"), str(exports / "near.csv")]) == 0
    out = capsys.readouterr().out
    assert WARNING not in out and "record the search" not in out


def test_a_radius_is_part_of_the_search(exports, capsys):
    assert main(["diff", str(exports / "near.csv"), str(exports / "near-again.csv")]) == 0
    assert "radius=100mi vs status=RECRUITING, near=02115, radius=50mi" in capsys.readouterr().out


def test_searching_now_with_other_filters_than_the_old_file_warns(exports, capsys):
    assert main(["diff", str(exports / "near.csv"), "--offline", "--near", "02115", "--radius", "100mi"]) == 0
    assert WARNING not in capsys.readouterr().out
    assert main(["diff", str(exports / "near.csv"), "--offline", "--status", "all"]) == 0
    assert WARNING in capsys.readouterr().out


def test_a_file_without_a_recorded_search_gets_a_softer_note(exports):
    recorded = (exports / "near.csv").read_bytes()
    older = pd.read_csv(io.BytesIO(recorded), dtype=str, keep_default_na=False).drop(columns="search")
    old_file = to_csv_bytes(older)  # as files were written before they recorded their search
    changes = compare(old_file, recorded, old_name="last-week.csv", new_name="this-week.csv")
    assert WARNING not in changes.summary()
    assert "last-week.csv doesn't record the search that made it" in changes.search_note
    assert "neither list records the search" in compare(old_file, old_file).search_note
    assert read_export(old_file).search is None
