"""The real app.py driven through streamlit.testing.v1.AppTest, offline (closed port -> snapshot)
or live against the local FakeApi. What is asserted is what a person sees on the page."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import EXCLUDES_CAR_T_ID, HOSTILE_ID, closed_port_url, run_app as run, use_client

APP = str(Path(__file__).resolve().parent.parent / "app.py")
OFFLINE_BANNER = "offline — bundled snapshot, data as of 2026-09-18"
APOLOGY = "Sorry, something went wrong on our side. Please try again later."


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No cached data or kept answers between tests, an empty HTTP cache, no network unless a test
    says so, and no polite pause between requests to the local fake API."""
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CTGOV_API_URL", closed_port_url())
    use_client(monkeypatch, min_interval=0, sleep=lambda s: None)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def unescape(text: str) -> str:
    """What a Markdown renderer shows for backslash-escaped text (less the invisible word joiners
    md_escape puts before URLs and "@")."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def texts(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "text", "header", "subheader"):
        out += [unescape(str(e.value)) for e in getattr(at, kind)]
    return out


def page_text(at: AppTest) -> str:
    return "\n".join(texts(at))


def listing(at: AppTest) -> dict[str, list[str]]:
    """Group heading -> NCT ids of its cards, in page order: "Matching studies: N" first, then the
    groups the filters can't place ("May be for you …", "Distance unknown …", the conflicts)."""
    out: dict[str, list[str]] = {}
    group = None
    for node in _walk(at._tree):
        if node.type == "header" and (node.value.startswith("Matching studies") or " — " in node.value):
            group = unescape(node.value)
            out[group] = []
        elif node.type == "markdown" and group and (m := re.search(r" · (NCT\d{8})$", unescape(node.value), re.M)):
            out[group].append(m.group(1))
    return out


def group(at: AppTest, starts: str) -> list[str]:
    return next(ids for heading, ids in listing(at).items() if heading.startswith(starts))


def card_ids(at: AppTest) -> list[str]:
    return [i for ids in listing(at).values() for i in ids]


def family_chips(at: AppTest) -> list[str]:
    """The therapy-family filter's chips, as shown (with counts)."""
    return at.button_group(key="families").options


# --- data source --------------------------------------------------------------------------------

def test_api_failure_shows_the_offline_banner_and_the_snapshot_not_a_traceback():
    at = run()
    assert any(OFFLINE_BANNER in unescape(w.value) for w in at.warning)
    assert "Could not connect to ClinicalTrials.gov" in page_text(at)
    assert not at.error
    assert card_ids(at)  # the snapshot's studies are there


def test_one_card_per_study_with_family_chips_and_counts_from_the_snapshot():
    at = run()
    assert family_chips(at) == [
        "CAR T-cell therapy (1)", "Proteasome inhibitor (1)", "Anti-CD38 antibody (1)",
        "Immunomodulatory drug (IMiD or CELMoD) (1)", "Antibody-drug conjugate (1)", "Targeted drug (2)",
        "Other antibody (1)", "Tests and imaging (1)", "Not classified (3)"]
    assert list(listing(at)) == ["Matching studies: 7", "May be for you: the record doesn't say which patients — 3 studies"]
    ids = card_ids(at)
    assert len(ids) == len(set(ids)) == 7  # a study in three families is still one card
    # its families are chips on its one card
    assert at.button_group(key="chips_NCT07772024").options == [
        "Proteasome inhibitor", "Anti-CD38 antibody", "Immunomodulatory drug (IMiD or CELMoD)", "Targeted drug",
        "Other antibody"]
    assert "changed in a lab" in page_text(at)  # the families' plain sentences ("What the words mean")


def test_clicking_a_family_chip_on_a_card_shows_that_family_only():
    at = run()
    at.button_group(key="chips_NCT07772024").set_value("anti_cd38").run()
    assert not at.exception
    assert at.button_group(key="families").value == ["anti_cd38"]
    assert at.query_params["family"] == "anti_cd38"
    assert card_ids(at) == ["NCT07772024"]
    assert at.button_group(key="chips_NCT07772024").value is None  # the chip itself is not left selected


def test_studies_whose_record_does_not_say_which_patients_are_a_visible_group_not_filtered_away():
    at = run({"setting": "newly_diagnosed"})  # even a patient group that isn't theirs hides none of them
    assert len(group(at, "May be for you: the record doesn't say which patients — 3 studies")) == 3
    assert "The study team can say whether it is open to you" in page_text(at)
    assert not any("Not stated in the record" in unescape(i.value) for i in at.info)  # not counted as hidden


def test_live_against_the_fake_api_says_live_and_counts_families(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run()
    assert any("live from ClinicalTrials.gov" in unescape(s.value) for s in at.success)
    chips = family_chips(at)
    assert "Anti-CD38 antibody (3)" in chips and "CAR T-cell therapy (1)" in chips
    assert list(listing(at))[-1].startswith("May be for you: the record doesn't say which patients")
    ids = card_ids(at)
    assert len(ids) == len(set(ids))
    assert all(path.startswith("/api/v2") for path, _ in fake_api.log)


def test_a_list_ending_before_the_apis_own_count_is_said_to_be_incomplete(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    fake_api.reported_total = 500
    at = run()
    warning = next(w for w in texts(at) if "incomplete" in w)
    received = fake_api.matching(next(params for path, params in fake_api.log if path.endswith("/studies")))
    assert f"got {len(received)} of 500 studies" in warning
    assert card_ids(at)  # the studies received are still shown


def test_a_file_where_the_cache_folder_should_be_does_not_break_the_page(monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    at = run()
    assert APOLOGY not in page_text(at)
    assert OFFLINE_BANNER in page_text(at) and card_ids(at)


def test_other_patient_groups_are_counted_and_one_click_away():
    at = run()
    note = next(t for t in page_text(at).split("\n") if "for other groups of patients" in t)
    assert note.startswith("- 🙈 6 studies for other groups of patients not shown")
    assert "Newly diagnosed myeloma (3)" in note
    at.button(key="all_settings").click().run()
    assert not at.exception
    assert "for other groups of patients" not in page_text(at)
    assert "Bispecific antibody (T-cell engager) (1)" in family_chips(at)  # a newly diagnosed study, hidden before


# --- relapse timing and guidance ---------------------------------------------------------------

def test_changing_relapse_timing_changes_the_guidance_and_the_order():
    at = run()
    assert "Early or late relapse?" in page_text(at)
    ids_before = card_ids(at)
    at.number_input(key="months").set_value(10).run()
    text = page_text(at)
    assert "Early relapse (the last remission lasted under two years)" in text
    assert "CAR T-cell therapy" in text and "bispecific antibodies" in text
    assert family_chips(at)[0] == "★ CAR T-cell therapy (1)"
    # studies in a ★ family come first, then the others (each once)
    starred = [any(o.startswith("★ ") for o in at.button_group(key=f"chips_{i}").options)
               for i in group(at, "Matching studies")]
    assert starred == sorted(starred, reverse=True) and True in starred and False in starred
    assert "not medical advice" in text
    assert ("Source: the patient article “What to Do When Multiple Myeloma Relapses: Understanding Treatment "
            "Options and Strategies”, paraphrased.") in text

    at.number_input(key="months").set_value(30).run()
    text = page_text(at)
    assert "Late relapse (the last remission lasted two years or more)" in text
    assert "pomalidomide" in text
    assert family_chips(at)[0] == "★ Immunomodulatory drug (IMiD or CELMoD) (1)"
    # ordering only: the same studies are all still there
    assert sorted(card_ids(at)) == sorted(ids_before)
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


def test_exactly_two_years_of_remission_is_a_late_relapse():
    at = run({"remission": "2022-01-01", "relapse": "2024-01-01"})  # 730 days: 23.98 "months" of 30.44 days
    assert "Late relapse (the last remission lasted two years or more)" in page_text(at)
    at.date_input(key="relapse").set_value(dt.date(2023, 12, 31)).run()
    assert "Early relapse (the last remission lasted under two years)" in page_text(at)


def test_dates_from_long_ago_in_a_link_are_kept_or_said_to_be_ignored():
    at = run({"remission": "1970-01-01", "relapse": "1975-06-01"})  # a long history: both kept
    assert at.radio(key="how").value == "dates"
    assert at.date_input(key="remission").value == dt.date(1970, 1, 1)
    assert at.date_input(key="relapse").value == dt.date(1975, 6, 1)
    assert "Late relapse" in page_text(at)
    assert not [i for i in at.info if i.value.startswith("Ignored")]

    at = run({"remission": "1940-01-01", "relapse": "1975-06-01"})  # before the inputs' first date
    notes = [unescape(i.value) for i in at.info if i.value.startswith("Ignored")]
    assert notes == ['Ignored "remission=1940-01-01" in the link: before 1950-01-01, the earliest date this app takes.']


# --- data freshness ----------------------------------------------------------------------------

def test_a_fallback_answer_is_kept_briefly_then_clinicaltrials_gov_is_asked_again(fake_api, monkeypatch):
    import trials.source

    at = run()  # ClinicalTrials.gov unreachable: the snapshot
    assert any(OFFLINE_BANNER in unescape(w.value) for w in at.warning)
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)  # it is back
    at = run()  # within two minutes: the kept fallback answer, no new attempt (pages stay fast)
    assert any(OFFLINE_BANNER in unescape(w.value) for w in at.warning)
    assert not fake_api.log

    later = trials.source._clock() + trials.source.FALLBACK_KEEP_SECONDS + 1
    monkeypatch.setattr(trials.source, "_clock", lambda: later)
    at = run()  # a fallback answer is not kept for an hour: asked again
    assert any("live from ClinicalTrials.gov" in unescape(s.value) for s in at.success)
    asked = len(fake_api.log)
    assert asked

    at = run()  # a live answer is kept: no new request
    assert any("live from ClinicalTrials.gov" in unescape(s.value) for s in at.success)
    assert len(fake_api.log) == asked


def test_try_again_asks_clinicaltrials_gov_again_at_once(fake_api, monkeypatch):
    at = run()
    assert any(OFFLINE_BANNER in unescape(w.value) for w in at.warning)
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at.button(key="retry").click().run()
    assert not at.exception
    assert any("live from ClinicalTrials.gov" in unescape(s.value) for s in at.success)
    assert "retry" not in [b.key for b in at.button]


# --- distance ----------------------------------------------------------------------------------

def test_a_site_without_coordinates_is_measured_by_its_zip_and_the_card_says_so(monkeypatch):
    from tests.helpers import without_coordinates
    from tests.fake_api import FakeApi

    # hand-made variant of the real NCT07772024: its one recruiting site (Miami, FL 33126) without geoPoint
    api = FakeApi([without_coordinates("NCT07772024")])
    monkeypatch.setenv("CTGOV_API_URL", api.start())
    try:
        at = run({"place": "33125", "radius": "25"})
        assert group(at, "Matching studies") == ["NCT07772024"]
        assert re.search(r"Nearest recruiting site: Regis Clinical Research, Miami, Florida, United States — "
                         r"about \d miles \(from the site's ZIP code\)", page_text(at))
        words = page_text(at)
        assert "Distance unknown: a site without a map position" in words  # "What the words mean"
        assert "May be for you: the record doesn't say which patients" in words
    finally:
        api.stop()


def test_a_zip_code_orders_by_distance_and_a_radius_filters(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run({"place": "02115", "setting": ""})  # every patient group
    assert "Distances from 02115" in page_text(at)
    # nearest recruiting site first: La Crosse (~1,019 mi), Miami (~1,256), Liverpool (~3,121),
    # Fitzroy (~10,519); a study whose sites have no coordinates comes last
    at.button_group(key="families").set_value(["anti_cd38"]).run()
    assert group(at, "Matching studies")[:5] == ["NCT07285239", "NCT07772024", EXCLUDES_CAR_T_ID, HOSTILE_ID,
                                                "NCT07649525"]
    assert card_ids(at)[-1] == "NCT06636552"
    assert "about 1,019 miles" in page_text(at)
    at.button_group(key="families").set_value([]).run()

    at.selectbox(key="radius").set_value("500").run()
    assert not at.exception
    # Bethesda, ~391 miles; the recruiting studies whose records name no recruiting site are listed
    # in a group of their own, not hidden
    assert list(listing(at)) == ["Matching studies: 10", "Distance unknown — call to ask — 9 studies"]
    assert "the study's contacts can say where it runs" in page_text(at)
    assert "NCT06636552" in group(at, "Distance unknown")
    assert "no open site within 500 miles" in page_text(at)
    assert at.query_params["radius"] == "500"

    at.radio(key="unit").set_value("km").run()
    assert "no open site within 500 km" in page_text(at)


def test_an_unknown_place_gets_a_clear_message_and_results_stay():
    at = run({"place": "Qwxzzy"})
    assert any("Try a 5-digit US ZIP code" in unescape(w.value) for w in at.warning)
    assert len(card_ids(at)) == 7


# --- "my previous treatments" ------------------------------------------------------------------

def test_answers_about_treatment_list_conflicting_studies_last_with_their_reasons(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run()
    assert EXCLUDES_CAR_T_ID in group(at, "Matching studies")
    assert "🎯 Made for people who already had an anti-CD38 antibody (such as daratumumab)" in page_text(at)

    at.checkbox(key="prior_car_t").check().run()
    assert not at.exception
    assert "1 study has a criterion that conflicts with your answers" in page_text(at)
    assert EXCLUDES_CAR_T_ID not in group(at, "Matching studies")
    assert group(at, "Studies whose criteria conflict") == [EXCLUDES_CAR_T_ID]
    assert "Something you told us conflicts with a criterion of this study" in page_text(at)
    assert at.query_params["prior"] == "car_t"
    # the answers themselves stay out of the link unless the person ticks the box
    at.number_input(key="lines").set_value(2).run()
    assert "lines" not in at.query_params and "answers" not in at.query_params
    at.checkbox(key="share_answers").check().run()
    assert at.query_params["lines"] == "2" and at.query_params["answers"] == "1"


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
    assert at.button_group(key="families").value == ["car_t"]
    assert at.multiselect(key="settings").value == ["relapsed_refractory"]
    assert "Late relapse" in page_text(at)
    assert at.query_params["unit"] == "km" and at.query_params["family"] == "car_t"


def test_a_link_with_class_words_and_regimens_keeps_them_in_the_drug_pickers():
    """A link (or the CLI's words) may name a kind of treatment or a regimen the picker's drug list
    doesn't hold; it is shown as chosen, not dropped at the next click."""
    at = run({"had": "CAR T,Darzalex,VRd", "refractory": "lenalidomide,IMiD", "answers": "1"})
    assert at.multiselect(key="had").value == ["CAR T", "daratumumab", "VRd"]
    assert at.multiselect(key="refractory").value == ["lenalidomide", "IMiD"]
    at.number_input(key="lines").set_value(2).run()
    assert at.query_params["had"] == "CAR T,daratumumab,VRd"
    assert at.query_params["refractory"] == "lenalidomide,IMiD"


def test_bad_query_params_are_ignored_with_a_notice_never_a_crash():
    today = dt.date.today()  # "future" must stay future whenever the tests run
    remission, relapse = today + dt.timedelta(days=400), today + dt.timedelta(days=800)
    at = run({"months": "soon", "radius": "9999", "status": "OPEN", "family": "magic", "age": "-4",
              "study": "javascript:alert(1)", "remission": remission.isoformat(), "relapse": relapse.isoformat()})
    notes = [unescape(i.value) for i in at.info if i.value.startswith("Ignored")]
    assert len(notes) == 8  # one per value, each of the two dates included
    assert any('"months=soon"' in n for n in notes)
    assert any("more than 500 miles" in n for n in notes)
    assert any(f'"remission={remission.isoformat()}"' in n and "future" in n for n in notes)
    assert any(f'"relapse={relapse.isoformat()}"' in n and "future" in n for n in notes)
    assert len(card_ids(at)) == 7  # defaults kept
    assert "study" not in at.query_params


@pytest.mark.parametrize("age", ["inf", "1e400"])
def test_a_link_with_an_impossible_age_shows_the_page_with_a_notice(age):
    at = run({"age": age})
    assert APOLOGY not in page_text(at) and card_ids(at)
    assert any(f'"age={age}"' in unescape(i.value) and "between 0 and 120" in unescape(i.value) for i in at.info)


def test_a_study_in_the_link_opens_its_details():
    at = run({"study": "NCT07772024"})
    assert [t.label for t in at.tabs] == ["Summary", "Treatments", "Who can join", "Sites", "Contacts"]
    assert at.button(key="detail_NCT07772024").label == "Hide details"


@pytest.mark.parametrize("params, why, shown_in", [
    ({"study": "NCT07649525"}, "it is for Newly diagnosed myeloma, a patient group not chosen", "Matching"),
    ({"study": "NCT00452569"}, "its status is Completed, and the list shows Recruiting studies", "Matching"),
    ({"study": "NCT07772024", "family": "car_t", "age": "10"},
     "the age given (10) is outside its age limits; its kind of treatment is not among the therapy families chosen",
     "Matching"),
])
def test_a_linked_study_outside_the_list_says_which_filter_leaves_it_out_and_one_click_shows_it(params, why, shown_in):
    at = run(params)
    study = params["study"]
    assert f"**{study}** — It is not in the list shown: {why}." in page_text(at)
    assert at.tabs  # its details are open all the same
    assert study not in card_ids(at)
    at.button(key="relax_filters").click().run()
    assert not at.exception
    assert study in group(at, shown_in)
    assert "It is not in the list shown" not in page_text(at)


# --- study detail and safety -------------------------------------------------------------------

def test_study_detail_shows_criteria_flags_sites_and_a_map_without_tiles():
    at = run()
    at.button(key="detail_NCT07772024").click().run()
    assert not at.exception and not at.error
    text = page_text(at)
    assert "Inclusion criteria — who can join" in text and "Exclusion criteria — who cannot join" in text
    # each reading as a whole sentence, with the criterion sentence that decided it
    reading = next(t for t in text.split("\n") if t.startswith("- **An anti-CD38 antibody (such as daratumumab)**"))
    assert "Required: the study is for people who already had this." in reading and "daratumumab" in reading
    assert "From the criteria: “" in reading
    # sites as wrapped text: name, status, place; the card's own contact line too
    assert re.search(r"\*\*Regis Clinical Research\*\* — ✅ Recruiting\s+Miami", text)
    all_types = {node.type for node in _walk(at._tree)}
    assert "vega_lite_chart" in all_types  # sites drawn over outlines shipped with the app
    spec = next(node for node in _walk(at._tree) if node.type == "vega_lite_chart").proto.spec
    assert '"topojson"' in spec and '"url"' not in spec  # the outlines travel inline: no tiles, no fetch
    assert not {"deck_gl_json_chart", "map"} & all_types  # st.map / pydeck would load map tiles
    assert at.query_params["study"] == "NCT07772024"
    at.button(key="detail_NCT07772024").click().run()
    assert not at.tabs


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


HOSTILE_SHOWN = [  # every hostile field of the hand-made record that reaches Markdown, as the reader sees it
    "Hostile ![x](http://third-party.example/title.png)",  # title
    "Summary ![pixel](http://third-party.example/pixel.png)",  # summary
    "Phase 3 and ![x](http://third-party.example/p.png)",  # phases (an unknown one is shown title-cased)
    "Sponsor [sp](http://third-party.example/sponsor)",  # sponsor
    "Site ![s](http://third-party.example/site.png) https://third-party.example/site",  # nearest site name
    "Therapy <img src=http://third-party.example/arm.png>",  # comparator arm, in the design and the reasons
]
# the app's own Markdown around record text (static, not from the record)
STATIC_WRAPPERS = ("**Comparator.** ", "**Why it is here:** ", "Sponsor: ", "📍 ", "📞 ", "- ")
MAILTO = re.compile(r"\[[^\]]*\]\(mailto:[\w.%+-]+@[\w.-]+\)")  # the app's own e-mail links, to plain addresses only


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the page renders as Markdown (element bodies, as sent: still escaped)."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "header", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def assert_inert(texts_: list[str]) -> None:
    """No unescaped Markdown/HTML mark and no bare URL in text that carries record content."""
    for t in texts_:
        for line in t.split("\n"):
            body = re.sub(r"^:small\[(.*)\]$", r"\1", MAILTO.sub("", line))  # the app's small print
            for w in STATIC_WRAPPERS:
                body = body.removeprefix(w)
            body = body.removeprefix("**").removesuffix("**")
            assert not re.search(r"(?<!\\)[\[\]()<>!:.]", body), body  # every mark escaped: renders as text
            # GFM autolinks bare URLs, www. and e-mail addresses unless a letter/digit or other
            # non-space, non-punctuation character (here the invisible word joiner) comes right before
            shown = re.sub(r"\\(.)", r"\1", body)  # unescaped, word joiners kept
            assert not re.search(r"(?<!\u2060)(https?://|www\.)", shown, re.I), body
            assert not re.search(r"[-.\w+]@", shown), body


def test_record_text_is_shown_escaped_never_as_links_images_or_html(fake_api, monkeypatch):
    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    at = run({"study": HOSTILE_ID})
    hostile = [t for t in markdown_texts(at) if "third" in t.lower()]
    assert hostile, "the hostile record's text should be on the page"
    assert_inert(hostile)
    shown = "\n".join(unescape(t) for t in hostile).lower()
    for text in HOSTILE_SHOWN:
        assert text.lower() in shown, text
    # the site list and the contacts show the hostile site status and contact as written
    assert "![st](http://third-party.example/st.png)" in shown
    assert "contact ![c](http://third-party.example/contact.png) · +44 1799 531130 · <mailto:x@third-party.example>" in shown


def test_status_words_are_escaped_wherever_the_app_shows_them(fake_api, monkeypatch):
    """A study's overall status only reaches a card when it is a status the app knows (the status
    filter takes no other), so this makes status_words itself return hostile text."""
    import trials.words

    monkeypatch.setenv("CTGOV_API_URL", fake_api.url)
    monkeypatch.setattr(trials.words, "status_words",
                        lambda status: f"{status} ![s](http://third-party.example/{status}.png)")
    at = run()
    hostile = [t for t in markdown_texts(at) if "third" in t.lower()]
    assert any(unescape(t).startswith("RECRUITING ![s](http://third-party.example/RECRUITING.png) · ") for t in hostile)
    assert_inert(hostile)


def test_an_unexpected_error_shows_an_apology_not_a_traceback_and_is_logged(monkeypatch, caplog):
    import logging

    import trials.view

    def boom(*a, **k):
        raise RuntimeError("internal detail that must not be shown")

    monkeypatch.setattr(trials.view, "build_view", boom)
    with caplog.at_level(logging.ERROR, logger="trials.app"):
        at = run()
    assert [e.value for e in at.error] == [APOLOGY]
    assert "internal detail" not in page_text(at)
    # logged for whoever runs the app: what failed and where, without the message (it could hold user text)
    logged = [r.getMessage() for r in caplog.records if r.name == "trials.app"]
    assert len(logged) == 1 and "RuntimeError at test_app.py:" in logged[0]
    assert "internal detail" not in logged[0]


def test_coordinators_can_download_the_list_shown_and_compare_it():
    at = run()
    (tools,) = [e for e in at.expander if e.label.startswith("For care coordinators")]
    shown = int(re.search(r"Matching studies: (\d+)", "\n".join(h.value for h in at.header)).group(1))
    assert any(f"{shown} studies as shown above" in c.value for c in tools.markdown)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["CSV, one row per study", "CSV, one row per site", "Excel (.xlsx)"]


# --- take it with you ----------------------------------------------------------------------------

def test_the_printable_page_has_the_starred_studies_questions_and_the_search_behind_them():
    at = run({"months": "10", "place": "33125"})
    at.checkbox(key="star_NCT07772024").check().run()
    assert at.button(key="print_view_on").label == "🖨️ Print / save as PDF (1 starred)"
    at.button(key="print_view_on").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Studies to discuss with my care team"]
    headings = [unescape(h.value) for h in at.header]
    study = next(h for h in headings if "Inobrodib" in h)  # NCT07772024's title
    assert headings == [study, "Questions to ask your care team", "The search behind this list"]
    text = page_text(at)
    assert "NCT07772024 · ✅ Recruiting" in text and "https://clinicaltrials.gov/study/NCT07772024" in text
    assert "Why it is in its therapy family" in text and "- Proteasome inhibitor: " in text
    assert "**Nearest site:** Nearest recruiting site: Regis Clinical Research, Miami" in text
    assert "**Contact:** " in text
    query = next(c.value for c in at.code)
    assert "/studies?" in query and "filter.overallStatus=RECRUITING" in query and "33125" not in query
    at.button(key="print_view_off").click().run()
    assert card_ids(at) and at.checkbox(key="star_NCT07772024").value  # back to the list, still starred


def test_a_starred_study_a_later_choice_hides_is_named_not_dropped_from_the_printout():
    at = run({"months": "10"})
    at.checkbox(key="star_NCT07772024").check().run()
    at.multiselect(key="phases").set_value(["PHASE4"]).run()  # NCT07772024 is not phase 4: it leaves the list
    assert "NCT07772024" not in card_ids(at)
    at.button(key="print_view_on").click().run()
    assert any("1 starred study is not in the list with the current choices" in w.value for w in at.warning)
    assert not any("No study is starred yet" in m.value for m in at.markdown)


def test_copy_link_gives_the_address_of_this_search():
    at = run()
    at.number_input(key="months").set_value(30).run()
    link = next(c.value for c in at.code)
    assert link.endswith("/?months=30")


def test_months_are_asked_in_whole_numbers():
    at = run({"months": "10.7"})
    assert at.number_input(key="months").value == 10
    assert at.number_input(key="months").proto.data_type == at.number_input(key="months").proto.INT
