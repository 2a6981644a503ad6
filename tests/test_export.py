"""CSV and xlsx bytes: spreadsheet-safe (OWASP CSV injection), UTF-8 with BOM, numbers as numbers,
and read back to the very rows they were written from."""
import csv
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trials.annotate import annotate_all
from trials.errors import BadInput
from trials.export import (neutralise, read_export, sheet_name, to_csv_bytes, to_xlsx_bytes,
                           unneutralise)
from trials.geo import locate
from trials.snapshot import load_snapshot
from trials.table import FLOAT_COLUMNS, INT_COLUMNS, BOOL_COLUMNS, TRIAL_COLUMNS, sites_frame, trials_frame

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",        # blank before '=': some programs trim it, so it is neutralised too
    "\n@SUM(A1)",
    "'=1+1",         # already quoted once: quoted again so that reading back is exact
]
HARMLESS = [
    "Up to - 3 prior lines",     # a dash inside a sentence
    "Prior lines: - 3 allowed",
    "a=b",
    "'Tis a title",              # a quote that protects nothing stays as it is
    "Liège",
    "",
]


@pytest.fixture(scope="module")
def frames():
    snap = load_snapshot()
    place = locate("02115")
    annotated = annotate_all(snap.studies, place)
    meta = dict(data_as_of=snap.data_as_of, source="snapshot", place=place)
    return trials_frame(annotated, today=dt.date(2026, 11, 26), **meta), sites_frame(annotated, **meta)


def formula_like(cell: str) -> bool:
    """What a spreadsheet could take for a formula: the OWASP first characters, or blanks then one."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") or (cell[:1].isspace() and cell.lstrip()[:1] in ("=", "+", "-", "@"))


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def one_row_frame(**cells):
    trials, _ = FRAMES_CACHE
    frame = trials.head(1).copy()
    for k, v in cells.items():
        frame[k] = [v]
    return frame


@pytest.fixture(autouse=True, scope="module")
def _cache(frames):
    global FRAMES_CACHE
    FRAMES_CACHE = frames


# --- neutralising ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_cells_get_one_leading_quote_in_csv(value):
    data = to_csv_bytes(one_row_frame(title=value, central_contact_name=value))
    header, row = csv_cells(data)
    assert row[header.index("title")] == "'" + value
    assert row[header.index("central_contact_name")] == "'" + value


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_cells_are_text_not_formulas_in_xlsx(value):
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(one_row_frame(title=value))))
    ws = wb["all"]
    col = [c.value for c in ws[1]].index("title")
    cell = ws.cell(row=2, column=col + 1)
    # (a carriage return may come back as a line feed, depending on the XML writer openpyxl uses)
    assert cell.data_type == "s" and cell.value.replace("\r", "\n") == ("'" + value).replace("\r", "\n")


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_text_is_unchanged(value):
    header, row = csv_cells(to_csv_bytes(one_row_frame(title=value)))
    assert row[header.index("title")] == value


def test_negative_numbers_in_numeric_columns_stay_numbers():
    frame = one_row_frame(distance_mi=-2.5, min_age_years=-1.0)
    header, row = csv_cells(to_csv_bytes(frame))
    assert row[header.index("distance_mi")] == "-2.5" and row[header.index("min_age_years")] == "-1.0"
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame)))["all"]
    col = [c.value for c in ws[1]].index("distance_mi") + 1
    assert ws.cell(row=2, column=col).value == -2.5 and ws.cell(row=2, column=col).data_type == "n"


def test_international_phone_numbers_are_neutralised_in_files_only(frames):
    trials, _ = frames
    header, *rows = csv_cells(to_csv_bytes(trials))
    phones = {r[0]: r[header.index("central_contact_phone")] for r in rows}
    assert phones["NCT07772024"] == "'+44 1799 531130"
    assert trials.set_index("nct_id").at["NCT07772024", "central_contact_phone"] == "+44 1799 531130"


@given(st.text(alphabet=st.sampled_from("=+-@'\t\r\n a1"), max_size=6) | st.text(max_size=20))
def test_unneutralise_undoes_neutralise_for_every_string(text):
    assert unneutralise(neutralise(text)) == text
    assert not formula_like(neutralise(text))
    assert neutralise(text) == text or neutralise(text) == "'" + text


# --- CSV bytes -------------------------------------------------------------------------------

def test_csv_is_utf8_with_bom_and_keeps_accents():
    data = to_csv_bytes(one_row_frame(title="Hôpital de la Citadelle, Liège", nearest_site_city="Liège"))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Hôpital de la Citadelle, Liège".encode("utf-8") in data
    assert b"\r\n" in data


def test_real_accents_from_the_snapshot_survive(frames):
    _, sites = frames
    accented = sites[sites["city"].str.contains("[^\x00-\x7f]", regex=True)]
    assert len(accented)
    data = to_csv_bytes(sites)
    for city in set(accented["city"]):
        assert city.encode("utf-8") in data


def test_numbers_and_dates_are_written_plainly(frames):
    trials, _ = frames
    header, *rows = csv_cells(to_csv_bytes(trials))
    r = next(r for r in rows if r[0] == "NCT07772024")
    cell = dict(zip(header, r))
    assert cell["distance_mi"] == "1255.9" and cell["min_age_years"] == "18.0" and cell["max_age_years"] == ""
    assert cell["min_prior_lines"] == "1" and cell["site_count"] == "1"
    assert cell["randomized"] == "TRUE" and cell["stale"] == "FALSE"
    assert cell["first_posted"] == "2026-08-19" and cell["status_verified"] == "2026-08"


@pytest.mark.parametrize("which", ["trials", "sites"])
def test_real_csv_reads_back_to_the_same_rows(frames, which):
    frame = frames[0] if which == "trials" else frames[1]
    back = read_export(to_csv_bytes(frame))
    pd.testing.assert_frame_equal(back.trials if which == "trials" else back.sites, frame)
    assert (back.sites if which == "trials" else back.trials) is None


def test_plain_pandas_read_csv_gives_the_same_rows(frames):
    trials, _ = frames
    back = pd.read_csv(io.BytesIO(to_csv_bytes(trials)), encoding="utf-8-sig", dtype={"nct_id": str})
    assert list(back.columns) == list(TRIAL_COLUMNS)
    assert list(back["nct_id"]) == list(trials["nct_id"])
    pd.testing.assert_series_equal(back["distance_mi"], trials["distance_mi"])
    assert back["site_count"].tolist() == trials["site_count"].tolist()


TEXT_COLUMNS = [c for c in TRIAL_COLUMNS if c not in FLOAT_COLUMNS | INT_COLUMNS | BOOL_COLUMNS and c != "nct_id"]
hostile_text = st.one_of(st.sampled_from(HOSTILE + HARMLESS),
                         st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
                         st.builds(lambda a, b: a + b, st.sampled_from(["=", "+", "-", "@", "\t", "\r", " =", "'="]),
                                   st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                           max_size=10)))  # (NUL is dropped on write: tested above)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)


@st.composite
def export_rows(draw):
    n = draw(st.integers(min_value=0, max_value=3))
    rows = []
    for i in range(n):
        row = {c: draw(hostile_text) for c in TEXT_COLUMNS}
        row["nct_id"] = f"NCT{draw(st.integers(0, 99_999_999)):08d}"
        row |= {c: draw(st.none() | finite) for c in FLOAT_COLUMNS}
        row |= {c: draw(st.none() | st.integers(-5, 10_000)) for c in INT_COLUMNS}
        row |= {c: draw(st.none() | st.booleans()) for c in BOOL_COLUMNS}
        rows.append(row)
    return trials_frame_from(rows)


def trials_frame_from(rows):
    from trials.table import _typed
    return _typed(rows, TRIAL_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(export_rows())
def test_any_rows_with_hostile_text_round_trip_through_csv(frame):
    data = to_csv_bytes(frame)
    header, *lines = csv_cells(data)
    text_at = [i for i, c in enumerate(header) if c not in FLOAT_COLUMNS | INT_COLUMNS]  # "-2.5" is a number
    for line in lines:
        assert not any(formula_like(line[i]) for i in text_at)
    pd.testing.assert_frame_equal(read_export(data).trials, frame)


# --- xlsx ------------------------------------------------------------------------------------

def test_xlsx_has_all_family_and_sites_sheets(frames):
    trials, sites = frames
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(trials, sites)))
    names = wb.sheetnames
    assert names[0] == "all" and names[-1] == "sites"
    assert "CAR T-cell therapy" in names and "Bispecific antibody" in names and "Immunomodulatory drug" in names
    for name in names:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert wb["all"].max_row == len(trials) + 1 and wb["sites"].max_row == len(sites) + 1
    car_t = wb["CAR T-cell therapy"]
    ids_col = [c.value for c in car_t[1]].index("family_ids")
    ids = [r[ids_col] for r in car_t.iter_rows(min_row=2, values_only=True)]
    assert ids and all("car_t" in i.split("; ") for i in ids)
    assert len(ids) == trials["family_ids"].str.split("; ").map(lambda x: "car_t" in x).sum()
    for ws in wb.worksheets:
        assert all(cell.data_type != "f" for r in ws.iter_rows() for cell in r)


def test_xlsx_without_sites_has_no_sites_sheet_and_reads_back(frames):
    trials, _ = frames
    data = to_xlsx_bytes(trials)
    assert "sites" not in openpyxl.load_workbook(io.BytesIO(data)).sheetnames
    back = read_export(data)
    pd.testing.assert_frame_equal(back.trials, trials)
    assert back.sites is None


def test_xlsx_reads_back_both_levels(frames):
    trials, sites = frames
    back = read_export(to_xlsx_bytes(trials, sites))
    pd.testing.assert_frame_equal(back.trials, trials)
    pd.testing.assert_frame_equal(back.sites, sites)


def test_csv_drops_nul_characters_that_csv_readers_refuse():
    header, row = csv_cells(to_csv_bytes(one_row_frame(title="a\x00b", sponsor="\x00=1+1")))
    assert row[header.index("title")] == "ab" and row[header.index("sponsor")] == "'=1+1"


def test_xlsx_drops_control_characters_before_neutralising():
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(one_row_frame(title="\x01=1+1", sponsor="a\x0bb"))))
    ws = wb["all"]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("title") + 1).value == "'=1+1"
    assert ws.cell(row=2, column=header.index("sponsor") + 1).value == "ab"


@pytest.mark.parametrize("label, taken, expected", [
    ("Immunomodulatory drug (IMiD or CELMoD)", set(), "Immunomodulatory drug"),
    ("a/b:c*d?e[f]g\\h", set(), "a-b-c-d-e-f-g-h"),
    ("x" * 40, set(), "x" * 31),
    ("all", {"all", "sites"}, "all 2"),
    ("'quoted'", set(), "quoted"),
])
def test_sheet_names_are_valid(label, taken, expected):
    assert sheet_name(label, taken) == expected


# --- reading foreign or broken files ----------------------------------------------------------

@pytest.mark.parametrize("data, words", [
    (b"", "the file is empty"),
    (b"name,age\nAnn,3\n", "not a Myeloma Trial Finder export (no columns family_ids, last_update_posted, nct_id, status, title)"),
    ("NCT Number,Study Title,Study Status\nNCT01,x,RECRUITING\n".encode(), "not a Myeloma Trial Finder export"),
    (b"\x00\x01\x02binary", "a binary file"),
    (b"PK\x03\x04not really a zip", "not a readable .xlsx file"),
    (b'nct_id,title\n"unterminated', "not a"),
])
def test_foreign_or_broken_files_are_refused_with_a_message(data, words):
    with pytest.raises(BadInput, match=None) as info:
        read_export(data, "old.csv")
    assert words in str(info.value) and str(info.value).startswith("old.csv")


def test_a_damaged_number_is_named(frames):
    trials, _ = frames
    damaged = trials.head(2).copy().astype({"distance_mi": object})
    damaged["distance_mi"] = ["12.0 mi", "3"]
    with pytest.raises(BadInput, match='old.csv: column distance_mi: "12.0 mi" is not a number'):
        read_export(to_csv_bytes(damaged), "old.csv")


def test_an_xlsx_that_is_not_ours_is_refused():
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1]}).to_excel(buffer, sheet_name="Sheet1", index=False)
    with pytest.raises(BadInput, match='no sheet named "all"'):
        read_export(buffer.getvalue(), "x.xlsx")


def test_excel_resaved_semicolon_csv_still_reads(frames):
    trials, _ = frames
    original = trials.head(3)
    text = to_csv_bytes(original).decode("utf-8-sig")
    resaved = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).to_csv(index=False, sep=";")
    back = read_export(resaved.encode("cp1252", errors="replace"), "resaved.csv")
    assert list(back.trials["nct_id"]) == list(original["nct_id"])
    assert list(back.trials["status"]) == list(original["status"])


@pytest.mark.parametrize("cells", [[1, 2], [True, None], [None, None], ["a", None, 3], ["=x", 5, None]])
def test_object_columns_of_any_mix_write_and_stay_inert(cells):
    # hand-made: object columns that hold numbers, booleans or nothing next to text (a merged frame can)
    data = to_csv_bytes(pd.DataFrame({"c": pd.Series(cells, dtype=object)})).decode("utf-8-sig")
    assert "\n=" not in data and not data.startswith("=")
