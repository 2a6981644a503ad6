"""Study.from_api: every real record parses; no input makes it raise."""
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trials.model import Study

FIXTURES = Path(__file__).parent / "fixtures"
RECORDS = sorted((FIXTURES / "complete").glob("*.json")) + sorted((FIXTURES / "projected").glob("*.json"))
PAGES = sorted((FIXTURES / "pages").glob("*.json"))


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_every_real_record_parses_with_its_id_and_status(path):
    study = Study.from_api(json.loads(path.read_text(encoding="utf-8")))
    assert study.nct_id == path.stem
    assert study.overall_status
    assert study.url == f"https://clinicaltrials.gov/study/{path.stem}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem[:40])
def test_every_study_of_every_recorded_page_parses(path):
    page = json.loads(path.read_text(encoding="utf-8"))
    studies = [Study.from_api(s) for s in page["studies"]]
    assert all(s.nct_id.startswith("NCT") for s in studies)


def test_complete_record_fields_land_where_a_reader_expects():
    s = Study.from_api(json.loads((FIXTURES / "complete" / "NCT07772024.json").read_text()))
    assert s.title.startswith("Inobrodib, Pomalidomide and Dexamethasone")
    assert s.overall_status == "RECRUITING" and s.phases == ("PHASE3",)
    assert s.is_randomized
    assert {a.type for a in s.arm_groups} >= {"EXPERIMENTAL", "ACTIVE_COMPARATOR"}
    assert s.interventions[0].name == "InoPd" and "Pomalidomide" in s.interventions[0].other_names
    assert "Inclusion" in s.eligibility.criteria or "inclusion" in s.eligibility.criteria
    assert s.eligibility.minimum_age.endswith(("Years", "Year"))
    assert s.lead_sponsor and s.first_posted and s.last_update_posted and s.status_verified
    assert s.sites and all(site.country for site in s.sites)


def test_sites_keep_status_coordinates_and_contacts():
    s = Study.from_api(json.loads((FIXTURES / "complete" / "NCT07764978.json").read_text()))
    assert len(s.sites) == 124
    assert sum(site.has_coordinates for site in s.sites) == 119  # 5 real sites have no geo point
    assert any(site.is_recruiting for site in s.sites)


def test_projected_record_with_empty_modules_still_parses():
    s = Study.from_api(json.loads((FIXTURES / "projected" / "NCT03850704.json").read_text()))
    assert s.study_type == "EXPANDED_ACCESS"
    assert s.sites == () and s.eligibility.criteria == "" and s.phases == ()
    assert [i.name for i in s.interventions] == ["Selinexor"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
KEYS = ["protocolSection", "identificationModule", "nctId", "statusModule", "overallStatus", "designModule",
        "phases", "armsInterventionsModule", "interventions", "armGroups", "contactsLocationsModule", "locations",
        "geoPoint", "lat", "lon", "eligibilityModule", "eligibilityCriteria", "enrollmentInfo", "count",
        "derivedSection", "conditionBrowseModule", "meshes", "hasResults", "contacts", "otherNames"]
shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(st.sampled_from(KEYS), children, max_size=5) | st.lists(children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(shaped)
def test_parser_never_raises_on_any_json_like_value(raw):
    study = Study.from_api(raw)
    # what every view reads from a study: an id that is either empty or as the API spells it,
    # and sites that are a subset of themselves when only recruiting ones are kept
    assert study.nct_id == study.nct_id.strip()
    assert set(study.recruiting_sites) <= set(study.sites)
    assert study.url.endswith(study.nct_id)
    _ = (study.title, study.is_randomized)
