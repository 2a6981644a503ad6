"""The real app.py driven through streamlit.testing.v1.AppTest, offline (closed port -> snapshot)
or live against the local FakeApi. What is asserted is what a person sees on the page."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import EXCLUDES_CAR_T_ID, HOSTILE_ID, closed_port_url

APP = str(Path(__file__).resolve().parent.parent / "app.py")
OFFLINE_BANNER = "offline — bundled snapshot, data as of 2026-09-18"
APOLOGY = "Sorry, something went wrong on our side. Please try again later."


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No cached data between tests, an empty HTTP cache, and no network unless a test says so."""
    st.cache_data.clear()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CTGOV_API_URL", closed_port_url())
    yield
    st.cache_data.clear()


def unescape(text: str) -> str:
    """What a Markdown renderer shows for backslash-escaped text."""
    return re.sub(r"\\(.)", r"\1", text)


def run(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        out += [unescape(str(e.value)) for e in getattr(at, kind)]
    return out


def page_text(at: AppTest) -> str:
    return "\n".join(texts(at))


def sections(at: AppTest) -> list[str]:
    return [e.label for e in at.expander if " — " in e.label]


def section(at: AppTest, starts: str):
    return next(e for e in at.expander if e.label.lstrip("★ ").startswith(starts))


def ids_in(block) -> list[str]:
    """NCT ids of the study cards in a block, in page order."""
    return [m.group(0) for c in block.caption if (m := re.match(r"NCT\d{8}", unescape(c.value)))]


# --- data source --------------------------------------------------------------------------------

def test_api_failure_shows_the_offline_banner_and_the_snapshot_not_a_traceback():
    at = run()
    assert any(OFFLINE_BANNER in unescape(w.value) for w in at.warning)
    assert "Could not connect to ClinicalTrials.gov" in page_text(at)
    assert not at.error
    assert sections(at)  # the snapshot's studies are there


def test_families_with_counts_from_the_snapshot():
    at = run()
    assert sections(at) == [
        "CAR T-cell therapy — 1 study", "Proteasome inhibitor — 1 study", "Anti-CD38 antibody — 1 study",
        "Immunomodulatory drug (IMiD or CELMoD) — 1 study", "Antibody-drug conjugate — 1 study",
        "Targeted drug — 2 studies", "Other antibody — 1 study", "Not classified — 1 study"]
    # the family's plain sentence is in its section
    assert "changed in a lab" in section(at, "CAR T").caption[0].value


def test_live_against_the_fake_api_says_live_and_counts_families(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run()
    assert any("live from ClinicalTrials.gov" in unescape(s.value) for s in at.success)
    labels = sections(at)
    assert "Anti-CD38 antibody — 3 studies" in labels
    assert "Targeted drug — 4 studies" in labels
    assert "CAR T-cell therapy — 1 study" in labels
    assert labels[-1] == "Not classified — 1 study"
    assert all(path.startswith("/api/v2") for path, _ in fake_api.log)


def test_other_patient_groups_are_counted_and_one_click_away():
    at = run()
    note = next(i.value for i in at.info if "for other groups of patients" in i.value)
    assert note.startswith("9 studies for other groups of patients not shown")
    assert "Newly diagnosed myeloma (3)" in note
    at.button(key="all_settings").click().run()
    assert not at.exception
    assert not any("for other groups of patients" in i.value for i in at.info)
    assert "Tests and imaging — 1 study" in sections(at)  # a diagnostic study, hidden before


# --- relapse timing and guidance ---------------------------------------------------------------

def test_changing_relapse_timing_changes_the_guidance_and_the_order():
    at = run()
    assert "Early or late relapse?" in page_text(at)
    at.number_input(key="months").set_value(10).run()
    text = page_text(at)
    assert "Early relapse (the last remission lasted under two years)" in text
    assert "CAR T-cell therapy" in text and "bispecific antibodies" in text
    assert sections(at)[0] == "★ CAR T-cell therapy — 1 study"
    assert "not medical advice" in text
    assert "Source: the patient article on early vs late relapse this tool follows." in text

    at.number_input(key="months").set_value(30).run()
    text = page_text(at)
    assert "Late relapse (the last remission lasted two years or more)" in text
    assert "pomalidomide" in text
    assert sections(at)[0] == "★ Immunomodulatory drug (IMiD or CELMoD) — 1 study"
    # ordering only: the same studies are all still there
    assert len(sections(at)) == 8
    assert at.query_params["months"] == "30"


def test_two_dates_give_the_timing_and_impossible_dates_say_why():
    at = run()
    at.radio(key="how").set_value("dates").run()
    at.date_input(key="remission").set_value(dt.date(2021, 1, 10)).run()
    at.date_input(key="relapse").set_value(dt.date(2022, 3, 1)).run()
    assert not at.exception
    assert "Early relapse" in page_text(at)
    at.date_input(key="relapse").set_value(dt.date(2020, 3, 1)).run()
    assert any("before the remission started" in w.value for w in at.warning)
    assert "Early or late relapse?" in page_text(at)


# --- distance ----------------------------------------------------------------------------------

def test_a_zip_code_orders_by_distance_and_a_radius_filters(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run({"place": "02115", "setting": ""})  # every patient group
    assert "Distances from 02115" in page_text(at)
    # nearest recruiting site first: La Crosse (~1,019 mi), Miami (~1,256), Liverpool (~3,121),
    # Fitzroy (~10,519); a study whose sites have no coordinates comes last
    assert ids_in(section(at, "Anti-CD38"))[:5] == ["NCT07285239", "NCT07772024", EXCLUDES_CAR_T_ID, HOSTILE_ID,
                                                   "NCT07649525"]
    assert ids_in(section(at, "Anti-CD38"))[-1] == "NCT06636552"
    assert "about 1,019 miles" in page_text(at)

    at.selectbox(key="radius").set_value("500").run()
    assert not at.exception
    assert sections(at) == ["Supportive care — 1 study"]  # Bethesda, ~391 miles
    note = next(i.value for i in at.info if "no open site within 500 miles" in i.value)
    assert "have no recruiting site with map coordinates" in note
    assert at.query_params["radius"] == "500"

    at.radio(key="unit").set_value("km").run()
    assert "no open site within 500 km" in page_text(at)


def test_an_unknown_place_gets_a_clear_message_and_results_stay():
    at = run({"place": "Qwxzzy"})
    assert any("Try a 5-digit US ZIP code" in unescape(w.value) for w in at.warning)
    assert len(sections(at)) == 8


# --- "my previous treatments" ------------------------------------------------------------------

def test_previous_treatments_hide_excluding_studies_with_a_count_and_can_show_them_marked(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run()
    assert EXCLUDES_CAR_T_ID in ids_in(section(at, "Anti-CD38"))
    assert "🎯 Made for people who already had an anti-CD38 antibody (such as daratumumab)" in page_text(at)

    at.checkbox(key="prior_car_t").check().run()
    assert not at.exception
    assert any(i.value == "1 study hidden because it excludes people who had CAR T-cell therapy." for i in at.info)
    assert EXCLUDES_CAR_T_ID not in ids_in(section(at, "Anti-CD38"))
    assert section(at, "Anti-CD38").label == "Anti-CD38 antibody — 2 studies"
    assert at.query_params["prior"] == "car_t"

    at.toggle(key="show_excluded").set_value(True).run()
    assert EXCLUDES_CAR_T_ID in ids_in(section(at, "Anti-CD38"))
    assert "🚫 Excludes people who had CAR T-cell therapy" in page_text(at)


# --- shareable link ----------------------------------------------------------------------------

def test_query_params_restore_the_filters():
    at = run({"months": "30", "place": "02115", "radius": "250", "unit": "km", "prior": "car_t,bcma",
              "status": "RECRUITING,NOT_YET_RECRUITING", "phase": "PHASE2", "age": "67", "sex": "female",
              "family": "car_t", "setting": "relapsed_refractory"})
    assert at.number_input(key="months").value == 30
    assert at.text_input(key="place").value == "02115"
    assert at.selectbox(key="radius").value == "250"
    assert at.radio(key="unit").value == "km"
    assert at.checkbox(key="prior_car_t").value and at.checkbox(key="prior_bcma").value
    assert at.multiselect(key="statuses").value == ["RECRUITING", "NOT_YET_RECRUITING"]
    assert at.multiselect(key="phases").value == ["PHASE2"]
    assert at.number_input(key="age").value == 67
    assert at.selectbox(key="sex").value == "FEMALE"
    assert at.multiselect(key="families").value == ["car_t"]
    assert at.multiselect(key="settings").value == ["relapsed_refractory"]
    assert "Late relapse" in page_text(at)
    assert at.query_params["unit"] == "km" and at.query_params["family"] == "car_t"


def test_bad_query_params_are_ignored_with_a_notice_never_a_crash():
    at = run({"months": "soon", "radius": "9999", "status": "OPEN", "family": "magic", "age": "-4",
              "study": "javascript:alert(1)", "remission": "2030-01-01", "relapse": "2031-01-01"})
    notes = [unescape(i.value) for i in at.info if i.value.startswith("Ignored")]
    assert len(notes) == 7
    assert any('"months=soon"' in n for n in notes)
    assert any("more than 500 miles" in n for n in notes)
    assert any("future" in n for n in notes)
    assert len(sections(at)) == 8  # defaults kept
    assert "study" not in at.query_params


def test_a_study_in_the_link_opens_its_details():
    at = run({"study": "NCT07772024"})
    assert [t.label for t in at.tabs] == ["Summary", "Treatments", "Who can join", "Sites and map", "Contacts and dates"]
    assert section(at, "Proteasome").proto.expanded


# --- study detail and safety -------------------------------------------------------------------

def test_study_detail_shows_criteria_flags_sites_and_a_map_without_tiles():
    at = run()
    at.button(key="detail_anti_cd38_NCT07772024").click().run()
    assert not at.exception and not at.error
    text = page_text(at)
    assert "Inclusion criteria (who can join)" in text and "Exclusion criteria (who cannot join)" in text
    flags = next(d.value for d in at.dataframe if "Previous treatment" in d.value.columns)
    row = flags[flags["Previous treatment"] == "An anti-CD38 antibody (such as daratumumab)"].iloc[0]
    assert row["What the criteria say"].startswith("Required")
    assert "daratumumab" in row["Deciding sentence"]
    sites = next(d.value for d in at.dataframe if "Site" in d.value.columns)
    assert sites.iloc[0]["Status"] == "✅ Recruiting" and "Miami" in sites.iloc[0]["City"]
    all_types = {node.type for node in _walk(at._tree)}
    assert "vega_lite_chart" in all_types  # sites drawn as points, no basemap
    assert not {"deck_gl_json_chart", "map"} & all_types  # st.map / pydeck would load map tiles
    assert at.query_params["study"] == "NCT07772024"
    at.button(key="detail_anti_cd38_NCT07772024").click().run()
    assert not at.tabs


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_record_text_is_shown_escaped_never_as_links_images_or_html(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run({"study": HOSTILE_ID})
    raw = [str(e.value) for e in at.markdown] + [str(e.value) for e in at.caption]
    hostile = [t for t in raw if "third" in t]
    assert hostile, "the hostile title and summary should be on the page"
    for t in hostile:
        body = t.removeprefix("**").removesuffix("**")
        assert not re.search(r"(?<!\\)[\[\]()<>!:.]", body), body  # every mark escaped: renders as text
    assert any("Hostile ![x](http://third-party.example/title.png)" in unescape(t) for t in hostile)


def test_an_unexpected_error_shows_an_apology_not_a_traceback(monkeypatch):
    import trials.patient

    def boom(*a, **k):
        raise RuntimeError("internal detail that must not be shown")

    monkeypatch.setattr(trials.patient, "build_view", boom)
    at = run()
    assert [e.value for e in at.error] == [APOLOGY]
    assert "internal detail" not in page_text(at)


def test_coordinators_can_download_the_list_shown_and_compare_it():
    at = run()
    (tools,) = [e for e in at.expander if e.label.startswith("For care coordinators")]
    shown = int(re.search(r"Matching studies: (\d+)", "\n".join(h.value for h in at.subheader)).group(1))
    assert any(f"{shown} studies as shown above" in c.value for c in tools.caption)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["CSV, one row per study", "CSV, one row per site", "Excel (.xlsx)"]
