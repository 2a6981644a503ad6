"""trials.patient: the app's decisions as pure functions, on the real snapshot records."""
from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from hypothesis import given, strategies as st

from tests.conftest import EXCLUDES_CAR_T_ID, excludes_car_t_record
from trials import patient as P
from trials.annotate import annotate_all
from trials.classify import FAMILIES
from trials.errors import BadInput
from trials.geo import locate
from trials.model import Study
from trials.snapshot import load_snapshot

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def items():
    return annotate_all(load_snapshot().studies)


@pytest.fixture(scope="module")
def items_with_excluder(items):
    return items + annotate_all([Study.from_api(excludes_car_t_record())])


# --- relapse timing ----------------------------------------------------------------------------

@pytest.mark.parametrize("months, timing", [(0, "early"), (11.5, "early"), (23.9, "early"), (24, "late"),
                                            (60, "late"), (None, "unknown"), (-3, "unknown"),
                                            (float("nan"), "unknown"), ("x", "unknown")])
def test_timing_from_months_follows_the_two_year_line(months, timing):
    assert P.timing_from_months(months) == timing


def test_timing_from_two_dates():
    assert P.relapse_timing(remission_start=dt.date(2022, 1, 1), relapse=dt.date(2023, 12, 1), today=TODAY) == "early"
    assert P.relapse_timing(remission_start=dt.date(2022, 1, 1), relapse=dt.date(2024, 1, 2), today=TODAY) == "late"
    assert P.relapse_timing(remission_start=None, relapse=dt.date(2024, 1, 2), today=TODAY) == "unknown"
    assert P.relapse_timing(months=30, remission_start=dt.date(2022, 1, 1), relapse=dt.date(2022, 2, 1)) == "late"


@pytest.mark.parametrize("start, relapse, message", [
    (dt.date(2024, 1, 1), dt.date(2023, 1, 1), "before the remission started"),
    (dt.date(2024, 1, 1), dt.date(2027, 1, 1), "in the future"),
])
def test_impossible_dates_say_what_is_wrong(start, relapse, message):
    with pytest.raises(BadInput, match=message):
        P.relapse_timing(remission_start=start, relapse=relapse, today=TODAY)
    timing, problem = P.timing_of(P.Filters(remission_start=start, relapse=relapse), today=TODAY)
    assert timing == "unknown" and message in problem


# --- guidance ----------------------------------------------------------------------------------

def test_guidance_differs_by_timing_and_never_instructs():
    early, late, unknown = P.guidance("early"), P.guidance("late"), P.guidance("unknown")
    assert early.families[:3] == ("car_t", "bispecific", "anti_cd38")
    assert late.families[0] == "immunomodulatory"
    assert any("pomalidomide" in p for p in late.points)
    assert any("CAR T" in p for p in early.points) and any("bispecific" in p for p in early.points)
    assert unknown.families == ()
    for g in (early, late, unknown):
        words = " ".join((g.title, g.intro, *g.points, g.disclaimer)).lower()
        assert not re.search(r"\byou (should|must|need to)\b|\bwe recommend\b", words)
        assert "not medical advice" in g.disclaimer
        assert g.source == "Source: the patient article on early vs late relapse this tool follows."


@pytest.mark.parametrize("timing", P.TIMINGS)
def test_family_order_orders_but_never_drops_a_family(timing):
    order = P.family_order(timing)
    assert sorted(order) == sorted(FAMILIES)
    assert order[: len(P.guidance(timing).families)] == list(P.guidance(timing).families)
    assert order[-1] == "unclassified"


# --- plain words -------------------------------------------------------------------------------

def test_phase_and_status_words():
    assert P.phase_words(("PHASE1", "PHASE2")) == "Phase 1 and Phase 2"
    assert P.phase_words(()) == "Phase not given"
    assert P.phase_words(("NA",)) == "No phase (not a drug study)"
    assert P.status_words("RECRUITING") == "✅ Recruiting — open to new participants"
    assert P.status_words("NOT_YET_RECRUITING").startswith("⏳ Not yet recruiting")
    assert P.status_words("") == "❔ Status not given"
    assert set(P.PHASE_EXPLAINED) == {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"}


def test_design_words_name_the_comparator(items):
    randomized = next(a.study for a in items if a.study.nct_id == "NCT07772024")
    words = P.design_words(randomized)
    assert words.startswith("Randomized: chance decides")
    assert "Compared with:" in words


def test_stale_badge_after_twelve_months(items):
    s = next(a.study for a in items if a.study.nct_id == "NCT07772024")
    assert P.stale_badge(s, today=dt.date(2026, 11, 26)) == ""
    assert P.stale_badge(s, today=dt.date(2030, 1, 1)).startswith("⚠️ Status not verified for over 12 months")


# --- escaping ----------------------------------------------------------------------------------

def test_md_escape_neutralises_images_links_and_html():
    out = P.md_escape("![x](http://third-party/p.png) [a](b) <img src=x> www.x.org a@b.org $x$\n# h")
    assert "](" not in out and "<img" not in out.replace("\\<img", "")
    assert re.sub(r"\\(.)", r"\1", out) == "![x](http://third-party/p.png) [a](b) <img src=x> www.x.org a@b.org $x$ # h"


@given(st.text())
def test_md_escape_escapes_every_ascii_punctuation_mark(text):
    out = P.md_escape(text)
    i = 0
    while i < len(out):
        if out[i] == "\\":
            assert out[i + 1] in string.punctuation
            i += 2
            continue
        assert out[i] not in string.punctuation and out[i] not in "\n\r\t"
        i += 1


def test_safe_url_only_for_real_nct_ids():
    assert P.safe_url(Study(nct_id="NCT07772024")) == "https://clinicaltrials.gov/study/NCT07772024"
    assert P.safe_url(Study(nct_id="NCT0777)x")) == ""


# --- filters, hidden counts, grouping ----------------------------------------------------------

def test_default_view_is_recruiting_relapsed_and_counts_the_other_groups(items):
    view = P.build_view(items, P.Filters())
    assert {r.study.overall_status for r in view.rows} == {"RECRUITING"}
    assert {r.item.setting for r in view.rows} <= {"relapsed_refractory", "mixed"}
    assert len(view.rows) + sum(view.hidden_setting.values()) == view.total
    notes = P.hidden_notes(view, P.Filters())
    assert any(n.startswith(f"{sum(view.hidden_setting.values())} studies for other groups of patients") for n in notes)


def test_previous_treatments_hide_excluding_studies_with_a_count(items_with_excluder):
    f = P.Filters(prior=("car_t",))
    view = P.build_view(items_with_excluder, f)
    assert EXCLUDES_CAR_T_ID not in {r.study.nct_id for r in view.rows}
    assert view.hidden_prior == {"car_t": 1}
    assert "1 study hidden because it excludes people who had CAR T-cell therapy." in P.hidden_notes(view, f)
    shown = P.build_view(items_with_excluder, f.with_(show_excluded=True))
    row = next(r for r in shown.rows if r.study.nct_id == EXCLUDES_CAR_T_ID)
    assert P.excludes_badge(row.excludes) == "🚫 Excludes people who had CAR T-cell therapy"
    assert P.made_for_badge(row.made_for).startswith("🎯 Made for people who already had an anti-CD38 antibody")
    # a treatment the study does not exclude hides nothing
    assert P.build_view(items_with_excluder, P.Filters(prior=("bcma",))).hidden_prior == {}


def test_radius_uses_recruiting_sites_and_orders_by_distance(items):
    boston = locate("02115")
    everyone = P.Filters(settings=())
    near = P.build_view(items, everyone, boston, 500)
    assert [r.study.nct_id for r in near.rows] == ["NCT07648264"]
    assert near.hidden_distance == near.total - 1
    assert near.hidden_distance_unmapped > 0
    anywhere = P.build_view(items, everyone, boston, None)
    miles = [r.miles for r in anywhere.rows]
    known = [m for m in miles if m is not None]
    assert known == sorted(known) and miles[: len(known)] == known  # nearest first, unknown last
    assert P.nearest_words(anywhere.rows[0], boston).endswith("about 391 miles")


def test_sections_put_guidance_families_first_and_repeat_multi_family_studies(items):
    view = P.build_view(items, P.Filters())
    secs = P.sections(view, "early")
    assert secs[0].family == "car_t" and secs[0].highlighted and secs[0].heading.startswith("★ ")
    ids_by_family = {s.family: [r.study.nct_id for r in s.rows] for s in secs}
    multi = next(r for r in view.rows if len(r.item.families) > 1)
    for fam in multi.item.families:
        assert multi.study.nct_id in ids_by_family[fam]
    assert P.other_families_words(multi.item, multi.item.families[0]).startswith("Also listed under: ")
    assert sum(len(s.rows) for s in secs) == sum(len(r.item.families) for r in view.rows)


def test_age_sex_phase_and_family_filters_count_what_they_hide(items):
    base = P.Filters(settings=())
    for f, attr in ((base.with_(age=10), "hidden_age"), (base.with_(phases=("PHASE3",)), "hidden_phase"),
                    (base.with_(families=("car_t",)), "hidden_family")):
        view = P.build_view(items, f)
        assert getattr(view, attr) > 0
        assert len(view.rows) + getattr(view, attr) == view.total


# --- shareable link ----------------------------------------------------------------------------

def test_filters_round_trip_through_query_params():
    f = P.Filters(months=30, place="Lyon, France", radius="100", unit="km", statuses=("RECRUITING", "NOT_YET_RECRUITING"),
                  phases=("PHASE2",), age=67, sex="FEMALE", families=("car_t",), settings=(), prior=("car_t", "bcma"),
                  show_excluded=True, study="NCT07772024")
    back, notes = P.filters_from_params(P.filters_to_params(f), today=TODAY)
    assert back == f and notes == []
    assert P.filters_to_params(P.Filters()) == {}


def test_dates_round_trip():
    f = P.Filters(remission_start=dt.date(2021, 1, 1), relapse=dt.date(2024, 5, 1))
    assert P.filters_from_params(P.filters_to_params(f), today=TODAY)[0] == f


@pytest.mark.parametrize("params, fragment", [
    ({"months": "abc"}, '"months=abc"'),
    ({"radius": "600"}, "more than 500 miles"),
    ({"unit": "furlong"}, 'use "mi" or "km"'),
    ({"status": "OPEN"}, '"status=OPEN"'),
    ({"age": "200"}, "between 0 and 120"),
    ({"sex": "x"}, 'use "female" or "male"'),
    ({"study": "<script>"}, "not an NCT number"),
    ({"relapse": "2024-13-01"}, "YYYY-MM-DD"),
])
def test_bad_params_keep_defaults_and_say_so(params, fragment):
    f, notes = P.filters_from_params(params, today=TODAY)
    assert f == P.Filters()
    assert len(notes) == 1 and fragment in notes[0]


@given(st.dictionaries(st.sampled_from(["months", "remission", "relapse", "place", "radius", "unit", "status", "phase",
                                        "age", "sex", "family", "setting", "prior", "show_excluded", "study"]),
                       st.text(max_size=30)))
def test_filters_from_params_never_raises(params):
    f, notes = P.filters_from_params(params, today=TODAY)
    assert isinstance(f, P.Filters) and all(isinstance(n, str) for n in notes)
    f.radius_miles()  # a radius that got through is always usable


# --- detail helpers ----------------------------------------------------------------------------

def test_site_rows_keep_sites_without_coordinates(items):
    study = next(a.study for a in items if a.study.nct_id == "NCT07648264")
    rows = P.site_rows(study, locate("02115"))
    assert len(rows) == len(study.sites)
    assert rows[-1]["Distance"] == "no map coordinates"
    assert rows[0]["Distance"].startswith("about ")
    assert len(P.map_points(study)) == sum(s.has_coordinates for s in study.sites)


def test_flag_rows_give_the_deciding_sentence(items):
    item = next(a for a in items if a.study.nct_id == "NCT07772024")
    rows = {r["Previous treatment"]: r for r in P.flag_rows(item.flags)}
    row = rows["An anti-CD38 antibody (such as daratumumab)"]
    assert row["What the criteria say"].startswith("Required") and "daratumumab" in row["Deciding sentence"]
    assert rows["CAR T-cell therapy"]["What the criteria say"] == "Not mentioned in the criteria"
