"""Exports make whole columns safe at once; a cell must come out exactly as the one-cell rule
(`neutralise`, after dropping what the format can't hold) says, whatever text it holds."""
import csv
import io

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trials.export import _xlsx_cell, needs_neutralising, to_csv_bytes, to_xlsx_bytes

# first characters that matter (quotes, formula starts, every kind of blank Python knows, control
# characters an xlsx drops) and ordinary text
TRICKY = "'=+-@\t\r\n \x0b\x0c\x1c\x1f\x85\xa0\u2003\u3000\x00\x01a1é"
cells = st.text(alphabet=st.sampled_from(TRICKY), max_size=5) | st.text(max_size=12)


def one_cell_csv(value: str) -> str:
    value = value.replace("\x00", "")
    return "'" + value if needs_neutralising(value) else value


@settings(max_examples=80, deadline=None)
@given(st.lists(cells, min_size=1, max_size=6))
def test_csv_columns_match_the_one_cell_rule(values):
    data = to_csv_bytes(pd.DataFrame({"title": values}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    assert [r[0] for r in rows] == [one_cell_csv(v) for v in values]


def xml_read(text: str) -> str:
    """What any XML reader gives back: line ends normalised to LF (XML 1.0, section 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, min_size=1, max_size=6))
def test_xlsx_columns_match_the_one_cell_rule(values):
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(pd.DataFrame({"title": values, "family_ids": "x"}))))["all"]
    got = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [xml_read(_xlsx_cell(v)) or None for v in values]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
