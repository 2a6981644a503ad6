"""Every export records the search that made it, and still opens cleanly in pandas and Excel."""
import csv
import io

import openpyxl
import pandas as pd
import pytest

from trials.cli import main
from trials.export import read_export

SEARCH = ["--offline", "--status", "RECRUITING,ACTIVE_NOT_RECRUITING", "--near", "02115", "--radius", "100mi"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    where = tmp_path_factory.mktemp("exports")
    out = {}
    for name, extra in (("trials.csv", []), ("sites.csv", ["--per", "site"]), ("sites.xlsx", ["--per", "site"])):
        assert main(["export", *SEARCH, *extra, "-o", str(where / name)]) == 0
        out[name] = where / name
    return out


@pytest.mark.parametrize("name", ["trials.csv", "sites.csv"])
def test_plain_pandas_reads_the_csv_with_the_search_in_one_cell(files, name):
    frame = pd.read_csv(files[name])  # no skiprows, no comment=, no sidecar file
    assert frame["nct_id"].str.match(r"NCT\d{8}$").all()
    assert frame["search"].notna().sum() == 1 and pd.notna(frame["search"].iloc[0])
    rows = list(csv.reader(io.StringIO(files[name].read_text(encoding="utf-8-sig"), newline="")))
    assert len({len(r) for r in rows}) == 1  # a rectangle: every line has every column


def test_the_recorded_search_says_what_was_searched(files):
    record = read_export(files["trials.csv"].read_bytes()).search
    assert record.parameters == {"status": "RECRUITING,ACTIVE_NOT_RECRUITING", "near": "02115", "radius": "100mi"}
    assert record.api_query.startswith("https://clinicaltrials.gov/api/v2/studies?")
    assert "filter.overallStatus=RECRUITING%2CACTIVE_NOT_RECRUITING" in record.api_query
    assert "02115" not in record.api_query and "filter.geo" not in record.api_query  # the place is never sent


def test_xlsx_has_a_search_sheet_people_can_read(files):
    wb = openpyxl.load_workbook(files["sites.xlsx"])
    assert wb.sheetnames[0] == "all" and wb.sheetnames[-1] == "search"
    rows = dict(wb["search"].iter_rows(min_row=2, values_only=True))
    assert rows["near"] == "02115" and rows["radius"] == "100mi"
    assert rows["ClinicalTrials.gov API query"].startswith("https://clinicaltrials.gov/api/v2/studies?")
    assert rows["data as of"] and rows["source"] == "snapshot"
    for ws in wb.worksheets:
        assert all(cell.data_type != "f" for r in ws.iter_rows() for cell in r)
    back = read_export(files["sites.xlsx"].read_bytes())
    assert back.search.parameters["near"] == "02115" and back.sites is not None


def test_an_empty_list_still_names_its_search_and_typed_text_stays_inert(tmp_path):
    out = tmp_path / "x.xlsx"
    assert main(["export", "--offline", "--near", "02115", "--term", "=1+1", "-o", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb["all"].max_row == 1  # nothing matched
    assert all(cell.data_type != "f" for ws in wb.worksheets for r in ws.iter_rows() for cell in r)
    assert dict(wb["search"].iter_rows(min_row=2, values_only=True))["term"] == "'=1+1"
