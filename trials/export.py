"""Export frames as bytes a spreadsheet opens safely, and read those exports back.

Spreadsheet safety (OWASP "CSV injection"): a TEXT cell is *neutralised* by putting one single
quote ``'`` in front of it when, after any single quotes it already starts with, it

* begins with ``=``, ``+``, ``-``, ``@``, a tab (``\\t``) or a carriage return (``\\r``), or
* begins with other whitespace (spaces, line feeds, no-break spaces ...) followed by ``=``, ``+``,
  ``-`` or ``@`` (some spreadsheet programs trim leading blanks before deciding a cell is a formula).

Nothing else is touched: only the start of a cell matters ("up to - 3 prior lines" is unchanged),
and number/boolean columns are written as real numbers and TRUE/FALSE, never prefixed. The rule is
the same in CSV and xlsx (openpyxl would otherwise store "=..." text as a live formula). A cell
that already starts with quotes before a dangerous character gets one more quote, so reading back
(``unneutralise``: drop one leading quote exactly where ``neutralise`` added one) gives back the
original text for every string. International phone numbers ("+44 ...") therefore show as
"'+44 ..." in a spreadsheet: the price of never letting a cell be read as a formula.

CSV bytes are UTF-8 with a byte-order mark (Excel then keeps accents such as "Liège"), comma
separated, CRLF line ends, every field that needs it quoted (RFC 4180).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .vocabulary import FAMILIES
from .errors import BadInput
from .search_record import SearchRecord
from .table import SITE_COLUMNS, TRIAL_COLUMNS, coerce
from .xlsx import only_text, text_array

CSV_ENCODING = "utf-8-sig"
DANGEROUS_FIRST = frozenset("=+-@\t\r")
_FORMULA_START = frozenset("=+-@")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_ALL, SHEET_SITES, SHEET_SEARCH = "all", "sites", "search"
XLSX_MAX_CHARS = 32_767  # Excel's limit per cell
ROWS_PER_SLICE = 2000  # xlsx rows made at once
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to store

# What identifies each kind of export when it is read back (a subset, so that later versions
# adding columns still read).
_TRIAL_KEYS = {"nct_id", "title", "status", "last_update_posted", "family_ids"}
_SITE_KEYS = {"nct_id", "title", "status", "facility", "city", "country", "site_status"}


# --- neutralising ----------------------------------------------------------------------------

def needs_neutralising(text: str) -> bool:
    """True when a spreadsheet could read this text (after its leading quotes) as a formula."""
    rest = text.lstrip("'")
    if not rest:
        return False
    if rest[0] in DANGEROUS_FIRST:
        return True
    return rest[0].isspace() and rest.lstrip()[:1] in _FORMULA_START


def neutralise(value):
    """Prefix a dangerous text cell with one single quote; anything else is returned unchanged."""
    if isinstance(value, str) and needs_neutralising(value):
        return "'" + value
    return value


def unneutralise(value):
    """Undo `neutralise`: drop the one quote it added (and only where it would have added it)."""
    if isinstance(value, str) and value.startswith("'") and needs_neutralising(value[1:]):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell neutralised; numeric and boolean columns untouched."""
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(neutralise, na_action="ignore")
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def unneutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if _is_text(values) and not _unquoted_text(values):
            out[col] = values.map(unneutralise, na_action="ignore")
    return out


def _unquoted_text(values: pd.Series) -> bool:
    """A text column (pandas' string dtype, no missing value: as read from a file) without a cell
    starting with a quote: unneutralise leaves it as it is, so it need not go through Python cell by
    cell. (Other columns always do: map may change their dtype.)"""
    return (isinstance(values.dtype, pd.StringDtype) and not values.hasnans
            and not pc.any(pc.starts_with(text_array(values), "'")).as_py())


# --- writing ---------------------------------------------------------------------------------

def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 (with BOM) CSV bytes of the frame, neutralised, no index, TRUE/FALSE for booleans.
    NUL characters, which CSV readers refuse, are dropped."""
    safe = _safe_columns(frame, _csv_cell, lambda text: pc.match_substring(text, "\x00"))
    for i, (_, values) in enumerate(safe.items()):
        if pd.api.types.is_bool_dtype(values.dtype):
            words = np.where(values.fillna(False).to_numpy(dtype=bool), "TRUE", "FALSE").astype(object)
            safe.isetitem(i, pd.Series(words, index=values.index).where(values.notna().to_numpy(), None))
    safe.columns = [neutralise(str(c)) for c in frame.columns]
    text = safe.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return text.encode(CSV_ENCODING)


_PLAIN_START = r"^[A-Za-z0-9]"  # a cell starting so is never neutralised (whatever follows)


def _safe_columns(frame: pd.DataFrame, fix_cell, unfit) -> pd.DataFrame:
    """The frame with every text cell made safe by `fix_cell`; other columns as they are.

    Whole columns are checked at once (Arrow string functions): only cells that could need work go
    through Python, those that start with anything but a letter or a digit (a quote, whitespace, =,
    +, -, @ ...) or that are `unfit` for the format (characters it can't hold). Positional, so
    repeated column names are kept."""
    out = frame.copy(deep=False)  # columns are replaced, never changed in place
    columns = [values for _, values in frame.items()]  # by position (items() is quicker than iloc)
    text_at = [i for i, values in enumerate(columns) if only_text(values)]
    for i, values in enumerate(columns):
        if i not in text_at and pd.api.types.is_object_dtype(values.dtype):  # mixed values: one at a time
            out.isetitem(i, values.map(fix_cell))
    if not text_at or not len(frame):
        return out
    # every text cell of the frame in one array: a handful of Arrow calls for the whole frame
    text = pa.chunked_array([text_array(columns[i]) for i in text_at], type=pa.large_string())
    risky = pc.or_(pc.and_(pc.invert(pc.match_substring_regex(text, _PLAIN_START)), pc.not_equal(text, "")),
                   unfit(text))
    if not pc.any(risky).as_py():
        return out
    marks = risky.to_numpy(zero_copy_only=False).reshape(len(text_at), len(frame))
    for i, at in zip(text_at, marks):
        if at.any():
            values = columns[i].copy()
            values[at] = [fix_cell(v) for v in values[at].tolist()]
            out.isetitem(i, values)
    return out


def _csv_cell(value):
    if not isinstance(value, str):
        return value
    if "\x00" in value:  # dropped before neutralising, so that a dropped NUL can't uncover a '='
        value = value.replace("\x00", "")
    return "'" + value if needs_neutralising(value) else value


def sheet_name(label: str, taken: set[str] = frozenset()) -> str:
    """A valid, unique Excel sheet name (<= 31 chars, none of []:*?/\\, no edge quotes) for a label."""
    name = _SHEET_BAD.sub("-", label).strip().strip("'")
    if len(name) > 31 and " (" in name:  # 'Bispecific antibody (T-cell engager)' -> 'Bispecific antibody'
        name = name[: name.index(" (")]
    name = name[:31].strip().strip("'") or "sheet"
    base, n = name, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" {n}"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    return name


def family_sheets(trials: pd.DataFrame) -> list[tuple[str, str]]:
    """(family id, sheet name) for each family that has at least one study, in taxonomy order."""
    present: set[str] = set()
    for ids in trials.get("family_ids", pd.Series(dtype=str)):
        present.update(i for i in str(ids).split("; ") if i)
    order = [f for f in FAMILIES if f in present] + sorted(present - set(FAMILIES))
    taken = {SHEET_ALL, SHEET_SITES, SHEET_SEARCH}
    out = []
    for fid in order:
        name = sheet_name(FAMILIES[fid].label if fid in FAMILIES else fid, taken)
        taken.add(name)
        out.append((fid, name))
    return out


def _xlsx_cell(value):
    """What an xlsx cell can hold, neutralised: no control characters other than tab/LF/CR, at
    most 32,767 chars. Cleaned BEFORE neutralising, so that dropping a character can't uncover a '='."""
    if not isinstance(value, str):
        return value
    value = _XLSX_ILLEGAL.sub("", value)
    if len(value) > XLSX_MAX_CHARS:
        value = value[: XLSX_MAX_CHARS - 1] + "…"
    return neutralise(value)


def _xlsx_unfit(text: pd.Series) -> pd.Series:
    """Cells an xlsx can't hold as they are: control characters, or more than Excel's limit."""
    return pc.or_(pc.match_substring_regex(text, _XLSX_ILLEGAL.pattern),
                  pc.greater(pc.utf8_length(text), XLSX_MAX_CHARS))



def to_xlsx_bytes(trials: pd.DataFrame, sites: pd.DataFrame | None = None) -> bytes:
    """An .xlsx workbook: sheet "all" (every study), one sheet per therapy family present (a study
    with several families is on each of their sheets), and "sites" when a sites frame is given.
    Cells are neutralised as in CSV; numbers are numbers; the header row is frozen. Control
    characters an xlsx can't hold (other than tab, LF, CR) are dropped, and a text longer than
    Excel's 32,767-character cell limit is cut (CSV keeps both as they are).

    When the frames record their search (the `search` column), a last sheet "search" lists it for
    people: each parameter, the ClinicalTrials.gov request, the data's date and source.

    Rows are streamed into the file (trials.xlsx): memory does not grow with the cells."""
    from .xlsx import rows_of, write_workbook

    def header(frame: pd.DataFrame) -> list[str]:
        return [_xlsx_cell(str(c)) for c in frame.columns]

    def rows(frame: pd.DataFrame):  # a slice at a time: memory stays flat on large frames
        for start in range(0, len(frame), ROWS_PER_SLICE):
            yield from rows_of(_safe_columns(frame.iloc[start:start + ROWS_PER_SLICE], _xlsx_cell, _xlsx_unfit))

    def sheets():
        every = list(rows(trials))  # made once, for every sheet
        yield SHEET_ALL, header(trials), every
        ids = trials["family_ids"].astype(str).str.split("; ") if "family_ids" in trials else None
        for fid, name in family_sheets(trials):
            on_sheet = ids.map(lambda xs, f=fid: f in xs).to_numpy().nonzero()[0] if ids is not None else []
            yield name, header(trials), [every[i] for i in on_sheet]
        if sites is not None:
            yield SHEET_SITES, header(sites), rows(sites)
        record = recorded_search(trials, sites)
        if record is not None:
            sheet = search_sheet(record, _first(trials, "data_as_of"), _first(trials, "source"))
            yield SHEET_SEARCH, ["parameter", "value"], rows(sheet)

    buffer = io.BytesIO()
    write_workbook(buffer, sheets())
    return buffer.getvalue()


def recorded_search(*frames: pd.DataFrame | None) -> SearchRecord | None:
    """The search a frame records (the first non-empty `search` cell, else the one trials.table
    attached to a frame without rows), or None."""
    for frame in frames:
        if frame is not None and "search" in frame.columns:
            cells = frame["search"].astype(str)
            found = cells[cells.str.strip() != ""]
            if len(found):
                return SearchRecord.from_json(found.iloc[0])
    attached = [f.attrs["search"] for f in frames if f is not None and isinstance(f.attrs.get("search"), str)]
    return SearchRecord.from_json(attached[0]) if attached else None


def search_sheet(record: SearchRecord, data_as_of: str, source: str) -> pd.DataFrame:
    rows = [*record.parameters.items(), ("ClinicalTrials.gov API query", record.api_query),
            ("data as of", data_as_of), ("source", source)]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def _first(frame: pd.DataFrame, column: str) -> str:
    return str(frame[column].iloc[0]) if column in frame.columns and len(frame) else ""


# --- reading back ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Export:
    """An export read back: its per-trial rows and/or its per-site rows (None when absent)."""
    trials: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    name: str = ""

    @property
    def data_as_of(self) -> str:
        return self._first("data_as_of")

    @property
    def source(self) -> str:
        return self._first("source")

    @property
    def search(self) -> SearchRecord | None:
        """The search that made the export, when it records one."""
        return recorded_search(self.trials, self.sites)

    def _first(self, column: str) -> str:
        """A per-export value that every row repeats: the first row's."""
        for frame in (self.trials, self.sites):
            if frame is not None and column in frame and len(frame):
                return str(frame[column].iloc[0])
        return ""


def kind_of(frame: pd.DataFrame) -> str | None:
    """'site', 'trial' or None from a frame's columns."""
    cols = set(map(str, frame.columns))
    if _SITE_KEYS <= cols:
        return "site"
    if _TRIAL_KEYS <= cols:
        return "trial"
    return None


# A per-site export of every myeloma study is 1-5 MB; reading a CSV takes about ten times its size
# in memory, so a larger file is refused before it is parsed. The app's upload limit matches
# (.streamlit/config.toml server.maxUploadSize).
MAX_EXPORT_BYTES = 25 * 1024 * 1024


def too_big(name: str) -> str:
    return (f"{name}: larger than {MAX_EXPORT_BYTES // 2**20} MB, far more than any export of this tool; "
            "not read. Compare two exports written by `python -m trials export`.")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # re-saved by Excel as "CSV (Comma delimited)"


def _frame_from_text(text: str, name: str) -> pd.DataFrame:
    first_line = text.split("\n", 1)[0]
    sep = ";" if first_line.count(";") > first_line.count(",") else ","  # Excel in comma-decimal locales
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise BadInput(f"{name}: not a readable CSV file ({str(exc).splitlines()[0][:120]})") from None


def _checked(frame: pd.DataFrame, name: str, want: str | None = None) -> tuple[str, pd.DataFrame]:
    frame = frame.rename(columns=lambda c: unneutralise(str(c)).strip())
    kind = kind_of(frame)
    if kind is None or (want and kind != want):
        expected = _SITE_KEYS if want == "site" else _TRIAL_KEYS
        missing = sorted(expected - set(frame.columns))
        raise BadInput(f"{name}: not a Myeloma Trial Finder export (no column{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)}). Use a file written by `python -m trials export`.")
    frame = unneutralise_frame(frame)
    try:
        frame = coerce(frame)
    except ValueError as exc:
        raise BadInput(f"{name}: {exc}") from None
    frame["nct_id"] = frame["nct_id"].str.strip().str.upper()
    blank = frame["nct_id"] == ""
    if blank.any():
        raise BadInput(f"{name}: row {int(blank.to_numpy().argmax()) + 2} has no nct_id")
    return kind, frame.reset_index(drop=True)


def read_export(data: bytes | str | pd.DataFrame, name: str = "export") -> Export:
    """Read an export back (CSV bytes/text from `to_csv_bytes`, .xlsx bytes from `to_xlsx_bytes`, or
    a frame): undoes the neutralising prefix and restores number/boolean columns, so values compare
    equal to the frames they were written from. BadInput, naming `name`, for anything else."""
    if isinstance(data, pd.DataFrame):
        kind, frame = _checked(data.copy(), name)
        return Export(frame if kind == "trial" else None, frame if kind == "site" else None, name)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise BadInput(f"{name}: expected the bytes of a CSV or .xlsx export")
    data = bytes(data)
    if len(data) > MAX_EXPORT_BYTES:
        raise BadInput(too_big(name))
    if not data.strip():
        raise BadInput(f"{name}: the file is empty")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, name)
    if b"\x00" in data[:1024]:
        raise BadInput(f"{name}: a binary file, not a CSV export")
    kind, frame = _checked(_frame_from_text(_decode(data), name), name)
    return Export(frame if kind == "trial" else None, frame if kind == "site" else None, name)


def _read_xlsx(data: bytes, name: str) -> Export:
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=str, keep_default_na=False,
                               na_filter=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise BadInput(f"{name}: not a readable .xlsx file ({type(exc).__name__})") from None
    if SHEET_ALL not in sheets:
        raise BadInput(f'{name}: no sheet named "{SHEET_ALL}"; not a Myeloma Trial Finder export')
    _, trials = _checked(sheets[SHEET_ALL], f"{name} (sheet {SHEET_ALL})", "trial")
    sites = None
    if SHEET_SITES in sheets:
        _, sites = _checked(sheets[SHEET_SITES], f"{name} (sheet {SHEET_SITES})", "site")
    return Export(trials, sites, name)


__all__ = ["TRIAL_COLUMNS", "SITE_COLUMNS", "MAX_EXPORT_BYTES", "Export", "neutralise", "unneutralise", "needs_neutralising",
           "neutralise_frame", "unneutralise_frame", "to_csv_bytes", "to_xlsx_bytes", "read_export",
           "sheet_name", "family_sheets", "kind_of"]
