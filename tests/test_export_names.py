"""Export file names carry the day and the search, and are safe on Windows and macOS."""
import datetime as dt
import re

import pytest

from trials.cli import main
from trials.query import GeoFilter, TrialQuery
from trials.search_record import file_name, from_query

DAY = dt.date(2026, 12, 3)
SAFE = re.compile(r"^[a-z0-9-]+\.(csv|xlsx)$")  # nothing Windows, macOS or a mail client could choke on


def test_the_name_of_a_search_near_a_zip():
    record = from_query(TrialQuery(near=GeoFilter(42.34, -71.1, 100)), "02115")
    assert file_name("trials", record, DAY, "csv") == "myeloma-trials-2026-12-03-recruiting-02115-100mi.csv"
    assert file_name("sites", record, DAY, "xlsx") == "myeloma-sites-2026-12-03-recruiting-02115-100mi.xlsx"


@pytest.mark.parametrize("place, words", [
    ("Liège, Belgium", "liege-belgium"),
    ('a/b\\c:d*e?f"g<h>i|j', "a-b-c-d-e-f-g-h-i-j"),  # every character Windows refuses in a name
    ("..", ""),
    ("CON", "con"),  # reserved on Windows alone, harmless inside a longer name
    ("東京", ""),
])
def test_a_typed_place_is_slugged(place, words):
    name = file_name("trials", from_query(TrialQuery(near=GeoFilter(0, 0, 50)), place), DAY, "csv")
    assert SAFE.match(name), name
    assert name == "-".join(p for p in ("myeloma-trials-2026-12-03-recruiting", words, "50mi") if p) + ".csv"


def test_every_filter_shows_and_long_searches_are_cut_at_a_dash():
    query = TrialQuery(statuses=(), phases=("PHASE2", "PHASE3"), terms=("teclistamab",),
                       updated_since=dt.date(2026, 1, 1), nct_ids=tuple(f"NCT{i:08d}" for i in range(40)))
    name = file_name("trials", from_query(query), DAY, "csv")
    assert name == "myeloma-trials-2026-12-03-all-phase-2-3-teclistamab-since-2026-01-01-40-studies.csv"
    long = file_name("trials", from_query(TrialQuery(terms=("word " * 30, "other " * 30))), DAY, "csv")
    assert SAFE.match(long) and len(long) <= 125 and not long.endswith("-.csv")


def test_export_into_a_directory_gets_the_default_name(tmp_path, capsys):
    assert main(["export", "--offline", "--near", "02115", "--radius", "100mi", "-o", str(tmp_path)]) == 0
    [written] = tmp_path.iterdir()
    assert written.name == f"myeloma-trials-{dt.date.today().isoformat()}-recruiting-02115-100mi.csv"
    assert str(written) in capsys.readouterr().err


def test_only_an_extension_picks_the_format_and_keeps_the_default_name(tmp_path):
    assert main(["export", "--offline", "--per", "site", "-o", str(tmp_path / ".xlsx")]) == 0
    [written] = tmp_path.iterdir()
    assert written.name == f"myeloma-sites-{dt.date.today().isoformat()}-recruiting.xlsx"
    assert written.read_bytes()[:2] == b"PK"


def test_without_o_a_piped_export_still_goes_to_stdout(tmp_path, monkeypatch, capsysbinary):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--offline"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"\xef\xbb\xbfnct_id,")
    assert not list(tmp_path.iterdir())


def test_without_o_on_a_terminal_the_file_gets_the_default_name_here(tmp_path, monkeypatch):
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # a person at a terminal, not a pipe
    assert main(["export", "--offline", "--phase", "2"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"myeloma-trials-{dt.date.today().isoformat()}-recruiting-phase-2.csv"]
