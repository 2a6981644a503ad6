"""The app's decisions (trials.filters, guidance, view, cards, words) as pure functions, on the real snapshot records."""
from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from hypothesis import given, strategies as st

from tests.helpers import EXCLUDES_CAR_T_ID, excludes_car_t_record
from trials import cards as C
from trials import filters as F
from trials import guidance as G
from trials import model as M
from trials import source as S
from trials import view as V
from trials import words as W
from trials.annotate import annotate_all
from trials.vocabulary import FAMILIES
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
    assert G.timing_from_months(months) == timing


def test_timing_from_two_dates():
    assert G.relapse_timing(remission_start=dt.date(2022, 1, 1), relapse=dt.date(2023, 12, 1), today=TODAY) == "early"
    assert G.relapse_timing(remission_start=dt.date(2022, 1, 1), relapse=dt.date(2024, 1, 2), today=TODAY) == "late"
    assert G.relapse_timing(remission_start=None, relapse=dt.date(2024, 1, 2), today=TODAY) == "unknown"
    assert G.relapse_timing(months=30, remission_start=dt.date(2022, 1, 1), relapse=dt.date(2022, 2, 1)) == "late"


@pytest.mark.parametrize("start, end, months", [
    (dt.date(2022, 1, 1), dt.date(2024, 1, 1), 24),  # exactly two years: 730 days, "23.98 months" of 30.44 days
    (dt.date(2021, 3, 1), dt.date(2023, 3, 1), 24),  # 730 days again
    (dt.date(2022, 1, 1), dt.date(2023, 12, 31), 23),
    (dt.date(2019, 12, 31), dt.date(2021, 12, 31), 24),  # across 2020-02-29
    (dt.date(2023, 3, 1), dt.date(2025, 3, 1), 24),  # across 2024-02-29
    (dt.date(2023, 3, 1), dt.date(2025, 2, 28), 23),
    (dt.date(2020, 2, 29), dt.date(2022, 2, 28), 23),  # a month counts once its day is reached
    (dt.date(2020, 2, 29), dt.date(2022, 3, 1), 24),
    (dt.date(2024, 2, 29), dt.date(2026, 2, 28), 23),
    (dt.date(2022, 1, 31), dt.date(2024, 1, 30), 23),
    (dt.date(2022, 1, 31), dt.date(2024, 1, 31), 24),
    (dt.date(2024, 1, 31), dt.date(2024, 2, 29), 0),
    (dt.date(2024, 5, 10), dt.date(2024, 5, 10), 0),
])
def test_remission_length_counts_calendar_months(start, end, months):
    assert G.months_between(start, end) == months
    timing = "early" if months < 24 else "late"
    assert G.relapse_timing(remission_start=start, relapse=end, today=TODAY) == timing


@pytest.mark.parametrize("start, relapse, message", [
    (dt.date(2024, 1, 1), dt.date(2023, 1, 1), "before the remission started"),
    (dt.date(2024, 1, 1), dt.date(2027, 1, 1), "in the future"),
])
def test_impossible_dates_say_what_is_wrong(start, relapse, message):
    with pytest.raises(BadInput, match=message):
        G.relapse_timing(remission_start=start, relapse=relapse, today=TODAY)
    timing, problem = F.timing_of(F.Filters(remission_start=start, relapse=relapse), today=TODAY)
    assert timing == "unknown" and message in problem


# --- guidance ----------------------------------------------------------------------------------

def test_guidance_differs_by_timing_and_never_instructs():
    early, late, unknown = G.guidance("early"), G.guidance("late"), G.guidance("unknown")
    assert early.families[:3] == ("car_t", "bispecific", "anti_cd38")
    assert late.families[0] == "immunomodulatory"
    assert any("pomalidomide" in p for p in late.points)
    assert any("CAR T" in p for p in early.points) and any("bispecific" in p for p in early.points)
    assert unknown.families == ()
    for g in (early, late, unknown):
        words = " ".join((g.title, g.intro, *g.points, g.disclaimer)).lower()
        assert not re.search(r"\byou (should|must|need to)\b|\bwe recommend\b", words)
        assert "not medical advice" in g.disclaimer
        assert g.source.startswith("Source: the patient article “What to Do When Multiple Myeloma Relapses: "
                                   "Understanding Treatment Options and Strategies”")


@pytest.mark.parametrize("timing", G.TIMINGS)
def test_family_order_orders_but_never_drops_a_family(timing):
    order = G.family_order(timing)
    assert sorted(order) == sorted(FAMILIES)
    assert order[: len(G.guidance(timing).families)] == list(G.guidance(timing).families)
    assert order[-1] == "unclassified"


# --- plain words -------------------------------------------------------------------------------

def test_phase_and_status_words():
    assert W.phase_words(("PHASE1", "PHASE2")) == "Phase 1 and Phase 2"
    assert W.phase_words(()) == "Phase not given"
    assert W.phase_words(("NA",)) == "No phase (not a drug study)"
    assert W.status_words("RECRUITING") == "✅ Recruiting — open to new participants"
    assert W.status_words("NOT_YET_RECRUITING").startswith("⏳ Not yet recruiting")
    assert W.status_words("") == "❔ Status not given"
    assert set(W.PHASE_EXPLAINED) == {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"}


def test_stale_badge_after_twelve_months(items):
    s = next(a.study for a in items if a.study.nct_id == "NCT07772024")
    assert W.stale_badge(s, today=dt.date(2026, 11, 26)) == ""
    assert W.stale_badge(s, today=dt.date(2030, 1, 1)).startswith("⚠️ Status not verified for over 12 months")


# --- escaping ----------------------------------------------------------------------------------

def test_md_escape_neutralises_images_links_and_html():
    out = W.md_escape("![x](http://third-party/p.png) [a](b) <img src=x> www.x.org a@b.org $x$\n# h")
    assert "](" not in out and "<img" not in out.replace("\\<img", "")
    shown = re.sub(r"\\(.)", r"\1", out)
    assert shown.replace(W.WORD_JOINER, "") == "![x](http://third-party/p.png) [a](b) <img src=x> www.x.org a@b.org $x$ # h"
    # GFM autolinks bare URLs, www. and e-mail addresses in the unescaped text unless they follow a
    # space or a punctuation mark: each has the (invisible) word joiner right before it
    assert f"{W.WORD_JOINER}http://" in shown and f"{W.WORD_JOINER}www." in shown and f"a{W.WORD_JOINER}@b" in shown


@given(st.text())
def test_md_escape_escapes_every_ascii_punctuation_mark(text):
    out = W.md_escape(text)
    i = 0
    while i < len(out):
        if out[i] == "\\":
            assert out[i + 1] in string.punctuation
            i += 2
            continue
        assert out[i] not in string.punctuation and out[i] not in "\n\r\t"
        i += 1


def test_safe_url_only_for_real_nct_ids():
    assert W.safe_url(Study(nct_id="NCT07772024")) == "https://clinicaltrials.gov/study/NCT07772024"
    assert W.safe_url(Study(nct_id="NCT0777)x")) == ""


# --- filters, hidden counts, grouping ----------------------------------------------------------

def test_default_view_is_recruiting_relapsed_and_counts_the_other_groups(items):
    view = V.build_view(items, F.Filters())
    assert {r.study.overall_status for r in view.shown} == {"RECRUITING"}
    assert {r.item.setting for r in view.rows} <= {"relapsed_refractory", "mixed"}
    assert len(view.shown) + sum(view.hidden_setting.values()) == view.total
    notes = V.hidden_notes(view, F.Filters())
    assert any(n.startswith(f"{sum(view.hidden_setting.values())} studies for other groups of patients") for n in notes)


def test_a_conflict_with_the_persons_treatment_is_listed_last_never_hidden(items_with_excluder):
    f = F.Filters(prior=("car_t",))
    view = V.build_view(items_with_excluder, f)
    assert EXCLUDES_CAR_T_ID not in {r.study.nct_id for r in view.rows}
    row = next(r for r in view.conflicts if r.study.nct_id == EXCLUDES_CAR_T_ID)
    assert row.fit.verdict == "conflict"
    assert any(r.criterion == "prior_car_t" and r.sentence for r in row.fit.reasons)
    assert "1 study has a criterion that conflicts with your answers" in " ".join(V.hidden_notes(view, f))
    assert V.groups(view, "unknown")[-1].id == V.CONFLICTS
    assert C.fit_lines(row.fit)[0].startswith("⚠️")
    assert C.made_for_badge(row.made_for).startswith("🎯 Made for people who already had an anti-CD38 antibody")
    # a treatment the study does not exclude moves nothing
    assert not V.build_view(items_with_excluder, F.Filters(prior=("bcma",))).conflicts
    # without answers there is no verdict at all
    assert all(r.fit is None for r in V.build_view(items_with_excluder, F.Filters()).shown)


def test_answers_travel_in_the_link_only_when_asked():
    f = F.Filters(lines=2, had=("teclistamab",), ecog=1, cns="no", transplant="auto")
    assert not {"lines", "had", "ecog", "cns", "transplant", "answers"} & set(F.filters_to_params(f))
    shared = F.filters_to_params(f.with_(share_answers=True))
    assert shared["answers"] == "1" and shared["had"] == "teclistamab" and shared["lines"] == "2"
    back, notes = F.filters_from_params(shared)
    assert back == f.with_(share_answers=True) and notes == []
    # answers in a link without answers=1 are not read
    assert F.filters_from_params({k: v for k, v in shared.items() if k != "answers"})[0].lines is None
    _, notes = F.filters_from_params({"answers": "1", "had": "daratumab", "ecog": "9"})
    assert any("daratumumab" in n for n in notes) and any("ecog" in n for n in notes)


def test_radius_uses_recruiting_sites_and_orders_by_distance(items):
    boston = locate("02115")
    everyone = F.Filters(settings=())
    near = V.build_view(items, everyone, boston, 500)
    assert [r.study.nct_id for r in near.rows] == ["NCT07648264"]
    # recruiting studies whose records (projected copies) name no recruiting site can't be measured:
    # listed under "distance unknown", never hidden
    assert near.distance_unknown and all(not r.study.recruiting_sites for r in near.distance_unknown)
    assert near.hidden_distance == near.total - 1 - len(near.distance_unknown)
    assert "no open site within 500 miles" in " ".join(V.hidden_notes(near, everyone.with_(radius="500")))
    anywhere = V.build_view(items, everyone, boston, None)
    miles = [r.miles for r in anywhere.rows]
    known = [m for m in miles if m is not None]
    assert known == sorted(known) and miles[: len(known)] == known  # nearest first, unknown last
    assert C.nearest_words(anywhere.rows[0], boston).endswith("about 391 miles")


def test_one_card_per_study_starred_families_first_then_the_groups_the_filters_cant_place(items):
    view = V.build_view(items, F.Filters())
    groups = V.groups(view, "early")
    ids = [r.study.nct_id for g in groups for r in g.rows]
    assert sorted(ids) == sorted(r.study.nct_id for r in view.shown) and len(ids) == len(set(ids))  # each once
    main = groups[0]
    assert main.id == V.MATCHING and main.heading == f"Matching studies — {len(view.rows)} studies"
    starred = [bool(V.starred_families(r.item, "early")) for r in main.rows]
    assert starred == sorted(starred, reverse=True) and True in starred
    # a study's chips: its ★ families first, in the guidance's order
    multi = next(r for r in view.rows if len(r.item.families) > 1 and V.starred_families(r.item, "early"))
    chips = V.chips(multi.item, "early")
    assert sorted(f for f, _ in chips) == sorted(multi.item.families)
    flags = [star for _, star in chips]
    assert flags == sorted(flags, reverse=True) and flags[0]
    # the card explains a family whose treatment the study tests, before one it only compares against
    compared = next(r.item for r in view.shown if any(r.item.classification.comparator_only(f) for f in r.item.families)
                    and not all(r.item.classification.comparator_only(f) for f in r.item.families))
    assert not compared.classification.comparator_only(V.explained_family(compared, "early"))
    # then the group of studies whose records don't say which patients, once each, never hidden
    assert [g.id for g in groups[1:]] == [V.MAYBE]
    assert groups[-1].heading == f"May be for you: the record doesn't say which patients — {len(view.maybe)} studies"
    assert {r.item.setting for r in view.maybe} == {"unknown"}


def test_age_sex_phase_and_family_filters_count_what_they_hide(items):
    base = F.Filters(settings=())
    for f, attr in ((base.with_(age=10), "hidden_age"), (base.with_(phases=("PHASE3",)), "hidden_phase"),
                    (base.with_(families=("car_t",)), "hidden_family")):
        view = V.build_view(items, f)
        assert getattr(view, attr) > 0
        assert len(view.shown) + getattr(view, attr) == view.total


# --- shareable link ----------------------------------------------------------------------------

def test_filters_round_trip_through_query_params():
    f = F.Filters(months=30, place="Lyon, France", radius="100", unit="km", statuses=("RECRUITING", "NOT_YET_RECRUITING"),
                  phases=("PHASE2",), age=67, sex="FEMALE", families=("car_t",), settings=(), prior=("car_t", "bcma"),
                  study="NCT07772024")
    back, notes = F.filters_from_params(F.filters_to_params(f), today=TODAY)
    assert back == f and notes == []
    assert F.filters_to_params(F.Filters()) == {}


@pytest.mark.parametrize("f", [
    F.Filters(months=30, place="Lyon, France", radius="100", unit="km", statuses=("RECRUITING", "NOT_YET_RECRUITING"),
              phases=("PHASE2",), age=67, sex="FEMALE", families=("car_t",), settings=(), prior=("car_t", "bcma"),
              lines=2, had=("teclistamab",), transplant="auto", crcl=45, ecog=1, cns="no", share_answers=True,
              study="NCT07772024"),
    F.Filters(remission_start=dt.date(2021, 1, 1), relapse=dt.date(2024, 5, 1)),
    F.Filters(),
])
def test_the_page_widgets_show_the_filters_and_give_them_back(f):
    """One codec for link and page: the widgets' values from a filter set give the same set back."""
    assert F.from_state(F.to_state(f)) == f
    assert F.filters_from_params(F.filters_to_params(F.from_state(F.to_state(f))), today=TODAY)[0] == f


def test_dates_round_trip():
    f = F.Filters(remission_start=dt.date(2021, 1, 1), relapse=dt.date(2024, 5, 1))
    assert F.filters_from_params(F.filters_to_params(f), today=TODAY)[0] == f
    old = F.Filters(remission_start=G.EARLIEST_DATE, relapse=dt.date(1975, 6, 1))  # long histories too
    assert F.filters_from_params(F.filters_to_params(old), today=TODAY) == (old, [])


@pytest.mark.parametrize("params, fragment", [
    ({"months": "abc"}, '"months=abc"'),
    ({"radius": "600"}, "more than 500 miles"),
    ({"unit": "furlong"}, 'use "mi" or "km"'),
    ({"status": "OPEN"}, '"status=OPEN"'),
    ({"age": "200"}, "between 0 and 120"),
    ({"age": "inf"}, "between 0 and 120"),
    ({"age": "1e400"}, "between 0 and 120"),
    ({"age": "nan"}, "between 0 and 120"),
    ({"months": "-inf"}, "between 0 and 600"),
    ({"sex": "x"}, 'use "female" or "male"'),
    ({"study": "<script>"}, "not an NCT number"),
    ({"relapse": "2024-13-01"}, "YYYY-MM-DD"),
    ({"remission": "1949-12-31"}, "before 1950-01-01"),  # the date inputs could not show it
    ({"relapse": "2026-11-27"}, "future"),
])
def test_bad_params_keep_defaults_and_say_so(params, fragment):
    f, notes = F.filters_from_params(params, today=TODAY)
    assert f == F.Filters()
    assert len(notes) == 1 and fragment in notes[0]


LINK_KEYS = ["months", "remission", "relapse", "place", "radius", "unit", "status", "phase", "age", "sex",
             "family", "setting", "prior", "study", "answers", "lines", "had", "refractory", "transplant",
             "transplant_months", "crcl", "ecog", "cns", "pcl", "amyloidosis"]
# arbitrary text, and the number spellings float() takes that are not ordinary numbers
LINK_VALUES = st.one_of(st.text(max_size=60), st.floats().map(str), st.integers().map(str),
                        st.sampled_from(["inf", "-inf", "Infinity", "nan", "1e400", "-1e400", "1_000", " 5 ",
                                         "0x10", "٣", "2024-02-30", "9999-12-31", "0001-01-01"]))


@given(st.dictionaries(st.one_of(st.sampled_from(LINK_KEYS), st.text(max_size=10)),
                       st.one_of(LINK_VALUES, st.lists(LINK_VALUES, max_size=3))))
def test_filters_from_params_never_raises(params):
    f, notes = F.filters_from_params(params, today=TODAY)
    assert all(n.startswith("Ignored") for n in notes)
    f.radius_miles()  # a radius that got through is always usable
    assert f.age is None or 0 <= f.age <= 120
    assert f.months is None or 0 <= f.months <= 600


# --- detail helpers ----------------------------------------------------------------------------

def test_site_rows_keep_sites_without_coordinates(items):
    study = next(a.study for a in items if a.study.nct_id == "NCT07648264")
    entries = C.site_entries(study, locate("02115"))
    assert len(entries) == len(study.sites)
    assert entries[-1].distance == "distance unknown"  # "Ostrova, Czechia" (sic): no such city is listed
    assert entries[0].distance.startswith("about ")
    assert len(C.map_points(study)) == sum(s.has_coordinates for s in study.sites)


def test_flag_rows_give_the_deciding_sentence(items):
    item = next(a for a in items if a.study.nct_id == "NCT07772024")
    rows = {r["Criterion"]: r for r in C.flag_rows(item.flags)}
    row = rows["An anti-CD38 antibody (such as daratumumab)"]
    assert row["What the criteria say"].startswith("Required") and "daratumumab" in row["Deciding sentence"]
    assert rows["CAR T-cell therapy"]["What the criteria say"] == "Not mentioned in the criteria"
    # as the details show them: whole sentences for what the criteria say, the rest named once
    mentioned, silent = C.readings(item.flags)
    reading = next(r for r in mentioned if r.label == "An anti-CD38 antibody (such as daratumumab)")
    assert reading.says == "Required: the study is for people who already had this." and "daratumumab" in reading.sentence
    assert "CAR T-cell therapy" in silent and "CAR T-cell therapy" not in [r.label for r in mentioned]


# --- the export --------------------------------------------------------------------------------

def _not_yet_recruiting(items):
    """HAND-MADE: NCT07772024 as if it were not recruiting yet (its Miami site listed, not open)."""
    from dataclasses import replace

    from trials.annotate import Annotated

    a = next(a for a in items if a.study.nct_id == "NCT07772024")
    s = a.study
    study = replace(s, overall_status="NOT_YET_RECRUITING",
                    sites=tuple(replace(x, status="NOT_YET_RECRUITING") for x in s.sites))
    assert isinstance(a, Annotated) and not study.recruiting_sites and study.sites[0].has_coordinates
    return replace(a, study=study)


def test_the_export_nearest_site_is_a_recruiting_one_also_for_studies_not_recruiting_yet(items):
    from trials.table import trials_frame

    boston = locate("02115")
    not_yet, recruiting = _not_yet_recruiting(items), next(a for a in items if a.study.nct_id == "NCT07285239")
    view = V.build_view([not_yet, recruiting], F.Filters(statuses=("RECRUITING", "NOT_YET_RECRUITING"), settings=()),
                        boston)
    rows = {r.study.nct_id: r for r in view.rows}
    assert "Miami" in rows["NCT07772024"].nearest.site.city  # the card: nearest LISTED site
    exported = {a.study.nct_id: a for a in V.export_items(view.rows, boston)}
    assert exported["NCT07772024"].nearest is None  # the export: nearest RECRUITING site (none)
    assert exported["NCT07285239"].nearest == rows["NCT07285239"].nearest  # recruiting: the same site
    frame = trials_frame(list(exported.values()), data_as_of="2026-11-20", source="live", place=boston)
    by_id = frame.set_index("nct_id")
    assert by_id.at["NCT07772024", "nearest_site"] == ""
    assert by_id.at["NCT07285239", "nearest_site"] != ""


# --- answers kept between page loads -------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_live_answer_is_kept_an_hour_and_a_fallback_two_minutes():
    clock, calls = FakeClock(), []
    store = S.AnswerStore(clock=clock)

    def load(source):
        def f():
            calls.append(source)
            return {"source": source}
        return f

    is_live = lambda d: d["source"] == "live"  # noqa: E731
    assert store.get("k", load("snapshot"), is_live) == {"source": "snapshot"}
    clock.now += S.FALLBACK_KEEP_SECONDS - 1
    assert store.get("k", load("live"), is_live) == {"source": "snapshot"}  # still kept: pages stay fast
    clock.now += 2
    assert store.get("k", load("live"), is_live) == {"source": "live"}  # asked again
    clock.now += S.LIVE_KEEP_SECONDS - 1
    assert store.get("k", load("snapshot"), is_live) == {"source": "live"}
    assert calls == ["snapshot", "live"]
    store.clear()
    assert store.get("k", load("cache"), is_live) == {"source": "cache"}  # "try again": asked at once
    assert calls == ["snapshot", "live", "cache"]


def test_a_failed_load_is_not_kept_and_old_entries_make_room():
    clock = FakeClock()
    store = S.AnswerStore(clock=clock, max_entries=2)

    def boom():
        raise BadInput("down")

    with pytest.raises(BadInput):
        store.get("a", boom, bool)
    assert store.get("a", lambda: 1, bool) == 1
    store.get("b", lambda: 2, bool)
    store.get("c", lambda: 3, bool)
    assert store.get("a", lambda: "again", bool) == "again"  # the oldest made room


def test_a_record_without_dates_is_not_called_stale_but_says_it_is_undated():
    from trials.model import Study

    badge = W.stale_badge(Study(nct_id="NCT06940297"), today=dt.date(2026, 11, 26))
    assert "does not say when its status was last checked" in badge and "12 months" not in badge


def test_a_closed_study_names_its_listed_site_without_saying_it_will_open():
    from trials.annotate import annotate
    from trials.model import Site

    # HAND-MADE: a study that stopped recruiting, one listed site without a status
    s = M.Study(nct_id="NCT00000009", overall_status="ACTIVE_NOT_RECRUITING",
                sites=(Site(facility="Clinic", city="Boston", country="United States", lat=42.36, lon=-71.06),))
    row = V.build_view([annotate(s)], F.Filters(statuses=("ACTIVE_NOT_RECRUITING",), settings=())).shown[0]
    words = C.nearest_words(row, None)
    assert words.startswith("Listed site (the study is not recruiting): Clinic") and "yet" not in words


# --- sites without coordinates, and studies outside the view --------------------------------------

def test_a_distance_search_finds_a_site_by_its_zip_or_city_and_says_so():
    from tests.helpers import without_coordinates

    # hand-made variants of NCT07772024 (relapsed, one recruiting site in Miami): no geoPoint; no ZIP
    for raw, words in ((without_coordinates("NCT07772024"), "(from the site's ZIP code)"),
                       (without_coordinates("NCT07772024", keep_zip=False), "(from the site's city centre)")):
        miami = locate("33125")
        view = V.build_view(annotate_all([Study.from_api(raw)]), F.Filters(), miami, 25)
        assert [r.study.nct_id for r in view.rows] == ["NCT07772024"]
        assert C.nearest_words(view.rows[0], miami).endswith(words)
        assert C.site_entries(view.rows[0].study, miami)[0].distance.endswith(words)


def test_open_sites_that_cant_be_placed_are_listed_as_distance_unknown_never_hidden():
    from tests.helpers import without_coordinates

    # hand-made: NCT07772024's only recruiting site without coordinates or ZIP, in a city no list knows
    raw = without_coordinates("NCT07772024", keep_zip=False, city="Ostrova")
    f = F.Filters(radius="25")
    view = V.build_view(annotate_all([Study.from_api(raw)]), f, locate("02115"), 25)
    assert not view.rows and view.hidden_distance == 0
    assert [r.study.nct_id for r in view.distance_unknown] == ["NCT07772024"]
    assert C.nearest_words(view.distance_unknown[0], locate("02115")).startswith(
        "Nearest recruiting site: Regis Clinical Research, Ostrova, United States — distance unknown")
    assert [g.heading for g in V.groups(view, "unknown")] == ["Distance unknown — call to ask — 1 study"]
    assert not C.map_points(view.distance_unknown[0].study)


def test_a_linked_study_outside_the_view_says_which_filters_leave_it_out_and_relaxing_them_shows_it(
        items_with_excluder):
    boston = locate("02115")
    f = F.Filters(statuses=("RECRUITING",), phases=("PHASE3",), age=10, families=("car_t",), radius="10",
                  prior=("car_t",))
    view = V.build_view(items_with_excluder, f, boston, 10)
    shown = {r.study.nct_id for r in view.shown}
    left_out = [a for a in items_with_excluder if a.study.nct_id not in shown]
    assert len(left_out) > 20
    for a in left_out:
        sentence, relax = V.why_left_out(a, f, boston, 10)
        assert sentence.startswith("It is not in the list shown: ") and relax, a.study.nct_id
        relaxed = f.with_(**relax)
        after = V.build_view(items_with_excluder, relaxed, boston, relaxed.radius_miles())
        assert a.study.nct_id in {r.study.nct_id for r in after.shown}, (a.study.nct_id, sentence)
    # a study whose criteria conflict with the answers is listed (last), so no filter leaves it out
    excluder = next(a for a in items_with_excluder if a.study.nct_id == EXCLUDES_CAR_T_ID)
    assert excluder.study.nct_id in {r.study.nct_id for r in V.build_view(items_with_excluder,
                                                                         F.Filters(prior=("car_t",))).shown}
    closed = next(a for a in items_with_excluder if a.study.overall_status == "COMPLETED"
                  and a.setting == "relapsed_refractory")
    sentence, relax = V.why_left_out(closed, F.Filters())
    assert sentence == ("It is not in the list shown: its status is Completed, and the list shows Recruiting "
                        "studies.")
    assert relax == {"statuses": ("RECRUITING", "COMPLETED")}
    assert V.why_left_out(None, F.Filters())[1] == {}


# --- plain words, contacts and the printable list ----------------------------------------------

@pytest.mark.parametrize("minimum, maximum, words", [
    ("18 Years", "75 Years", "18 Years to 75 Years"), ("18 Years", "", "18 Years and older"),
    ("", "75 Years", "up to 75 Years"), ("", "", "not given")])
def test_ages_missing_from_a_record_read_not_given(minimum, maximum, words):
    assert W.age_words(minimum, maximum) == words


def test_an_email_is_a_tappable_link_only_when_it_is_a_plain_address():
    assert W.email_link("trials@hospital.org") == r"[trials\@hospital\.org](mailto:trials@hospital.org)"
    hostile = W.email_link("<mailto:x@third-party.example>")
    assert "](" not in hostile and hostile.startswith(r"\<mailto\:")


def test_the_offline_source_is_said_in_plain_words_with_the_snapshot_size():
    words = W.source_words("snapshot", "offline — bundled snapshot, data as of 2026-09-18", 86)
    assert words.startswith("ClinicalTrials.gov can't be reached right now")
    assert words.endswith("(offline — bundled snapshot, data as of 2026-09-18; 86 studies in all)")
    assert "api/v2" not in words


def test_the_printable_list_has_the_starred_studies_with_reasons_site_and_contact(items):
    view = V.build_view(items, F.Filters(prior=("car_t",)))
    starred = [view.shown[0].study.nct_id, view.shown[-1].study.nct_id]
    printed = C.print_studies(view.shown, starred, locate("02115"))
    assert [p.nct_id for p in printed] == starred  # in the list's order, nothing else
    first = printed[0]
    assert first.url == f"https://clinicaltrials.gov/study/{first.nct_id}"
    assert first.why and all(": " in w for w in first.why)
    assert first.fit[0] in C.VERDICT_WORDS.values()
    assert first.nearest.startswith(("Nearest", "No ", "Distance"))
    assert first.contact
    assert C.print_studies(view.shown, [], None) == []


def test_the_nearest_sites_phone_is_the_one_to_call(items):
    item = next(a for a in items if a.study.nct_id == "NCT07772024")
    row = V.build_view([item], F.Filters(), locate("33125"), None).rows[0]
    contact = C.reach_contact(row)
    assert contact is not None and contact.phone_text
    site_phones = [c for c in row.nearest.site.contacts if c.phone_text]
    assert contact == (site_phones[0] if site_phones else next(c for c in item.study.central_contacts if c.phone_text))


def test_months_in_a_link_are_whole_and_keep_their_timing():
    assert F.filters_from_params({"months": "23.9"})[0].months == 23  # still under two years: early
    assert F.filters_from_params({"months": "24"})[0].months == 24


def test_base_view_counts_do_not_depend_on_the_answers_about_treatment(items):
    with_answers = F.Filters(lines=2, had=("daratumumab",), prior=("car_t",))
    full = V.build_view(items, with_answers)
    counts = V.build_view(items, with_answers.without_answers())
    assert F.profile_of(with_answers.without_answers()) is None
    assert counts.family_counts() == full.family_counts() and counts.setting_counts == full.setting_counts


def test_a_record_without_its_status_is_shown_not_dropped(items):
    from trials.annotate import annotate_all
    from trials.model import Study

    raw = {"protocolSection": {"identificationModule": {"nctId": "NCT09999999", "briefTitle": "A study"},
                               "conditionsModule": {"conditions": ["Multiple Myeloma"]}}}
    view = V.build_view(annotate_all([Study.from_api(raw)]), F.Filters(statuses=("RECRUITING",)))
    assert [r.study.nct_id for r in view.shown] == ["NCT09999999"] and view.total == 1
