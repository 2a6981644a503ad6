"""Changes between two exports built from real records, with changes the TEST makes to a copy:
one study dropped, one added, one status changed, one record's update date bumped, one site opened
and one closed. Everything else is the snapshot as recorded."""
import io
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import BUMPED, DROPPED, NEW_STUDY, OPENED, STATUS, _ident, modified_copy
from trials.annotate import annotate_all
from trials.diff import CHANGE_COLUMNS, SITES_NOT_COMPARED, compare
from trials.errors import BadInput
from trials.export import read_export, to_csv_bytes, to_xlsx_bytes
from trials.model import Study
from trials.snapshot import load_snapshot
from trials.table import sites_frame, trials_frame

FIXTURES = Path(__file__).parent / "fixtures"
def frames(raws, as_of, source="snapshot"):
    annotated = annotate_all([Study.from_api(r) for r in raws])
    return (trials_frame(annotated, data_as_of=as_of, source=source),
            sites_frame(annotated, data_as_of=as_of, source=source))


@pytest.fixture(scope="module")
def pair():
    raws = list(load_snapshot().raw)
    assert {DROPPED, STATUS, BUMPED, OPENED} <= {_ident(r) for r in raws}
    return frames(raws, "2026-09-18"), frames(modified_copy(raws), "2026-11-20 09:00", "live")


EXPECTED = {
    ("new_study", NEW_STUDY, "", "status", "", "RECRUITING"),
    ("study_left", DROPPED, "", "status", "RECRUITING", ""),
    ("status_changed", STATUS, "", "status", "RECRUITING", "ACTIVE_NOT_RECRUITING"),
    ("updated", BUMPED, "", "last_update_posted", "2026-08-17", "2026-11-20"),
    ("site_recruiting", OPENED, "Montefiore Medical Center PRIME, The Bronx, New York, United States",
     "site_status", "NOT_YET_RECRUITING", "RECRUITING"),
    ("site_closed", BUMPED, "Gundersen Lutheran, La Crosse, Wisconsin, United States",
     "site_status", "RECRUITING", "ACTIVE_NOT_RECRUITING"),
}


def as_set(changes):
    return {(r["change"], r["nct_id"], r["site"], r["field"], r["old"], r["new"]) for r in changes.frame.to_dict("records")}


def test_per_site_csv_exports_show_exactly_the_changes_made(pair):
    (old_t, old_s), (new_t, new_s) = pair
    changes = compare(to_csv_bytes(old_s), to_csv_bytes(new_s), old_name="last-week.csv", new_name="this-week.csv")
    assert changes.sites_compared
    assert as_set(changes) == EXPECTED
    assert tuple(changes.frame.columns) == CHANGE_COLUMNS
    assert list(changes.frame["change"]) == ["new_study", "study_left", "status_changed", "updated",
                                             "site_recruiting", "site_closed"]


def test_the_summary_reads_like_a_report(pair):
    (_, old_s), (_, new_s) = pair
    text = compare(old_s, new_s, old_name="last-week.csv", new_name="this-week.csv").summary()
    assert text.splitlines()[0] == ("Changes from last-week.csv (data as of 2026-09-18, snapshot) to "
                                    "this-week.csv (data as of 2026-11-20 09:00, live):")
    assert "  1 new studies:" in text and f"    {NEW_STUDY} (RECRUITING)" in text
    assert f"    {STATUS}: RECRUITING -> ACTIVE_NOT_RECRUITING" in text
    assert f"    {BUMPED}: 2026-08-17 -> 2026-11-20" in text
    assert "Montefiore Medical Center PRIME, The Bronx, New York, United States: NOT_YET_RECRUITING -> RECRUITING" in text
    assert "bundled offline snapshot" in text  # the two sides came from different sources
    assert SITES_NOT_COMPARED not in text


def test_the_whole_summary_line_by_line(pair):
    """Every section in its order, each line as a coordinator reads it (default names for the sides)."""
    (_, old_s), (_, new_s) = pair
    titles = dict(zip(new_s["nct_id"], new_s["title"])) | dict(zip(old_s["nct_id"], old_s["title"]))
    assert compare(old_s, new_s).summary().splitlines() == [
        "Changes from old export (data as of 2026-09-18, snapshot) to new export (data as of 2026-11-20 09:00, live):",
        "  Note: neither list records the search that made it; if the two lists come from different searches, "
        "differences may come from the search, not the registry.",
        "  1 new studies:",
        f"    {NEW_STUDY} (RECRUITING)  {titles[NEW_STUDY]}",
        "  1 studies no longer in the results (closed, or no longer matching the filters):",
        f"    {DROPPED} (RECRUITING)  {titles[DROPPED]}",
        "  1 status changes:",
        f"    {STATUS}: RECRUITING -> ACTIVE_NOT_RECRUITING  {titles[STATUS]}",
        "  1 studies updated since (last update posted changed):",
        f"    {BUMPED}: 2026-08-17 -> 2026-11-20  {titles[BUMPED]}",
        "  1 newly recruiting sites:",
        f"    {OPENED}: Montefiore Medical Center PRIME, The Bronx, New York, United States: "
        "NOT_YET_RECRUITING -> RECRUITING",
        "  1 sites no longer recruiting:",
        f"    {BUMPED}: Gundersen Lutheran, La Crosse, Wisconsin, United States: RECRUITING -> ACTIVE_NOT_RECRUITING",
        "  Note: one side came from the bundled offline snapshot, the other from ClinicalTrials.gov: "
        "some differences may only reflect the snapshot's age.",
    ]


def test_per_trial_exports_find_study_changes_and_say_sites_were_not_compared(pair):
    (old_t, _), (new_t, _) = pair
    changes = compare(to_csv_bytes(old_t), to_csv_bytes(new_t))
    assert not changes.sites_compared
    assert as_set(changes) == {c for c in EXPECTED if not c[0].startswith("site_")}
    assert SITES_NOT_COMPARED in changes.summary()


def test_per_trial_against_per_site_compares_studies_only(pair):
    (old_t, _), (_, new_s) = pair
    changes = compare(to_csv_bytes(old_t), to_csv_bytes(new_s))
    assert not changes.sites_compared and changes.count("status_changed") == 1 and changes.count("new_study") == 1


def test_an_xlsx_with_a_sites_sheet_compares_sites_too(pair):
    (old_t, old_s), (new_t, new_s) = pair
    changes = compare(to_xlsx_bytes(old_t, old_s), to_csv_bytes(new_s))
    assert as_set(changes) == EXPECTED


def test_identical_exports_have_no_changes(pair):
    (old_t, old_s), _ = pair
    changes = compare(to_csv_bytes(old_s), old_s)
    assert len(changes) == 0 and "No changes." in changes.summary()


def test_neutralised_cells_compare_by_their_real_value(pair):
    # The test gives one study a title a spreadsheet would run, on both sides: read back, the
    # quote is removed, so nothing differs; and the changes CSV is itself neutralised.
    (old_t, _), (new_t, _) = pair
    old_t, new_t = old_t.copy(), new_t.copy()
    for f in (old_t, new_t):
        f.loc[f["nct_id"] == STATUS, "title"] = '=HYPERLINK("http://x","y")'
    old_bytes = to_csv_bytes(old_t)
    assert b"'=HYPERLINK" in old_bytes
    assert read_export(old_bytes).trials.set_index("nct_id").at[STATUS, "title"] == '=HYPERLINK("http://x","y")'
    changes = compare(old_bytes, to_csv_bytes(new_t))
    assert as_set(changes) == {c for c in EXPECTED if not c[0].startswith("site_")}
    assert changes.frame.set_index("nct_id").at[STATUS, "title"] == '=HYPERLINK("http://x","y")'
    out = pd.read_csv(io.BytesIO(changes.to_csv_bytes()), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(out.columns) == list(CHANGE_COLUMNS)
    assert out.set_index("nct_id").at[STATUS, "title"] == "'=HYPERLINK(\"http://x\",\"y\")"


def test_a_recruiting_site_that_disappears_is_reported_as_not_listed(pair):
    # The test removes the only site of BUMPED from a copy: the study keeps one row with empty site cells.
    (_, old_s), _ = pair
    raws = modified_copy(list(load_snapshot().raw))
    for raw in raws:
        if _ident(raw) == BUMPED:
            raw["protocolSection"]["contactsLocationsModule"]["locations"] = []
    _, new_s = frames(raws, "2026-11-20")
    assert (new_s["nct_id"] == BUMPED).sum() == 1
    changes = compare(old_s, new_s)
    closed = changes.frame[changes.frame["change"] == "site_closed"]
    assert list(closed["site"]) == ["Gundersen Lutheran, La Crosse, Wisconsin, United States"]
    assert list(closed["new"]) == ["(not listed)"] and changes.count("study_left") == 1


@pytest.mark.parametrize("data, words", [
    (b"nct_id,name\nNCT01234567,x\n", "old.csv: not a Myeloma Trial Finder export"),
    (b"", "old.csv: the file is empty"),
    ("Study,Title\n".encode("utf-16"), "old.csv: a binary file"),
])
def test_a_foreign_file_is_a_bad_input_with_a_message(pair, data, words):
    with pytest.raises(BadInput) as info:
        compare(data, pair[1][0], old_name="old.csv")
    assert words in str(info.value)
