"""Legacy ClinicalTrials.gov XML records read into the v2 shape (real records from tests/fixtures/classic)."""
from pathlib import Path

import pytest

from trials.errors import BadInput
from trials.legacy import study_from_legacy_xml
from trials.model import Study

CLASSIC = Path(__file__).parent / "fixtures" / "classic"


def load(nct_id: str) -> Study:
    return Study.from_api(study_from_legacy_xml((CLASSIC / f"{nct_id}.xml").read_bytes()))


def test_a_real_legacy_record_reads_like_a_v2_one():
    s = load("NCT03143036")  # daratumumab, thalidomide, dexamethasone in RRMM (2020 registry dump)
    assert s.nct_id == "NCT03143036"
    assert s.title.startswith("Daratumumab, Thalidomide and Dexamethasone")
    assert s.overall_status == "RECRUITING"
    assert s.phases == ("PHASE2",)
    assert "Inclusion Criteria" in s.eligibility.criteria and s.eligibility.max_age_years == 99
    names = {i.name.lower() for i in s.interventions}
    assert any("daratumumab" in n for n in names)
    assert s.sites and all(not site.has_coordinates for site in s.sites)  # the legacy format has no geoPoint
    assert s.last_update_posted == "2018-06-07"  # "June 7, 2018" in the record


def test_allocation_reads_in_the_v2_vocabulary():
    assert load("NCT01039025").allocation == "NA"  # <allocation>N/A</allocation>: one group, not randomised
    assert load("NCT01019174").allocation == "RANDOMIZED"
    assert load("NCT01456689").allocation == "NON_RANDOMIZED"


@pytest.mark.parametrize("path", sorted(CLASSIC.glob("*.xml")), ids=lambda p: p.stem)
def test_every_legacy_fixture_reads(path):
    s = Study.from_api(study_from_legacy_xml(path.read_bytes()))
    assert s.nct_id == path.stem
    assert s.title and s.overall_status
    assert all(a.label for a in s.arm_groups)


def test_not_a_record_is_refused_with_a_message():
    with pytest.raises(BadInput, match="not a ClinicalTrials.gov XML record"):
        study_from_legacy_xml("<html><body>Service unavailable</body></html>")
    with pytest.raises(BadInput, match="not a ClinicalTrials.gov XML record"):
        study_from_legacy_xml("<clinical_study><brief_title>cut off")
