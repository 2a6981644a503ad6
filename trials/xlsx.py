"""A small streaming .xlsx writer: rows go into the zip as SpreadsheetML (ECMA-376), one sheet
after another, so memory does not grow with the number of cells (openpyxl builds a cell object
per value, even in write-only mode).

A frame is turned into rows a whole column at a time (Arrow string functions, not a Python call
per cell), each row with a mark where its number goes (`ROW`): the same rows can then fill several
sheets (a study on its family's sheet and on "all") at one string replacement per row.

Cells: str as inline strings (never formulas: no cell is written with a formula element), bool as
booleans, int/float as numbers, None, NA, NaN and "" as empty. The caller cleans and neutralises
text (a NUL, which XML can't hold anyway, must not reach this module: it marks the row number).
"""
from __future__ import annotations

import math
import zipfile
from typing import IO, Iterable, Sequence
from xml.sax.saxutils import escape

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
    'state="frozen"/></sheetView></sheetViews><sheetData>')
_SHEET_TAIL = '</sheetData></worksheet>'


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


ROW = "\x00"  # stands for the row number in a row made by `rows_of`


def _cell(ref: str, value) -> str:
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if value is None or value is pd.NA or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        return ""  # an empty cell is no cell; the next one carries its own reference
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def only_text(values: pd.Series) -> bool:
    """Only strings (and missing values): a column Arrow string functions can work on."""
    if pd.api.types.is_object_dtype(values.dtype):
        return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    return pd.api.types.is_string_dtype(values.dtype)


def text_array(values: pd.Series) -> pa.Array:
    """A text column as an Arrow array, missing values as "" (pandas keeps its text in Arrow)."""
    return pc.fill_null(pa.array(values, type=pa.large_string(), from_pandas=True), "")


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _column_cells(letter: str, values: pd.Series) -> pa.Array:
    """The <c> element of every cell of one column ("" for an empty cell), ROW for the row number."""
    if only_text(values):
        text = text_array(values)
        escaped = text
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):  # as xml.sax.saxutils.escape
            escaped = pc.replace_substring(escaped, char, entity)
        cells = pc.binary_join_element_wise(
            _text(f'<c r="{letter}{ROW}" t="inlineStr"><is><t xml:space="preserve">'), escaped,
            _text("</t></is></c>"), _text(""))
        return pc.if_else(pc.equal(text, ""), _text(""), cells)
    return pa.array([_cell(letter + ROW, v) for v in values.astype(object).tolist()], type=pa.large_string())


def rows_of(frame: pd.DataFrame) -> list[str]:
    """Each row of the frame as a <row> element, ROW where its number goes, in order."""
    cells = [_column_cells(_column(i), values) for i, (_, values) in enumerate(frame.items())]
    if not cells:
        return [f'<row r="{ROW}"></row>'] * len(frame)
    return pc.binary_join_element_wise(_text(f'<row r="{ROW}">'), *cells, _text("</row>"), _text("")).to_pylist()


def _write_sheet(out: IO[bytes], header: Sequence[str], rows: Iterable[str]) -> None:
    out.write(_SHEET_HEAD.encode())
    head = "".join(_cell(_column(i) + "1", v) for i, v in enumerate(header))
    buffer = [f'<row r="1">{head}</row>']
    for number, row in enumerate(rows, start=2):
        buffer.append(row.replace(ROW, str(number)))
        if len(buffer) >= 500:
            out.write("".join(buffer).encode("utf-8"))
            buffer.clear()
    out.write(("".join(buffer) + _SHEET_TAIL).encode("utf-8"))


def write_workbook(target: IO[bytes], sheets: Iterable[tuple[str, Sequence[str], Iterable[str]]]) -> None:
    """sheets: (name, header, rows) in order, rows made by `rows_of` (any iterable, consumed once)."""
    names: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, header, rows in sheets:
            names.append(name)
            with zf.open(f"xl/worksheets/sheet{len(names)}.xml", "w", force_zip64=True) as out:
                _write_sheet(out, header, rows)
        sheet_list = "".join(f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                             for i, n in enumerate(names, 1))
        zf.writestr("xl/workbook.xml",
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                    f'<sheets>{sheet_list}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
        styles_id = len(names) + 1
        zf.writestr("xl/_rels/workbook.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    f'{rels}<Relationship Id="rId{styles_id}" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>')
        zf.writestr("xl/styles.xml", _STYLES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("[Content_Types].xml",
                    _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=i) for i in range(1, len(names) + 1))))
