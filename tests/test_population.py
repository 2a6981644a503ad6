"""Who a study is for, from all of its text, and 'not only for myeloma' (issue 14, item 1)."""
import json
from pathlib import Path

from trials import filters as F
from trials import view as V
from trials import words as W
from trials.annotate import annotate_all
from trials.classify import classify
from trials.model import Study

FIXTURES = Path(__file__).parent / "fixtures"


def load(rel: str) -> Study:
    return Study.from_api(json.loads((FIXTURES / rel).read_text()))


def record(title, conditions, criteria="", official_title="", status="RECRUITING"):
    """Hand-made v2 record, shaped like the first-in-human bispecific studies the issue quotes (their
    conditions list only 'Hematological Malignancies'; the records themselves are not in the project)."""
    return Study.from_api({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": title, "officialTitle": official_title},
        "statusModule": {"overallStatus": status},
        "conditionsModule": {"conditions": list(conditions)},
        "designModule": {"studyType": "INTERVENTIONAL", "designInfo": {"primaryPurpose": "TREATMENT"}},
        "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "JNJ-64007957"}]},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})


FIRST_IN_HUMAN = record("A Study of JNJ-64007957, a Humanized BCMA x CD3 DuoBody Antibody in Participants With "
                        "Relapsed or Refractory Multiple Myeloma", ["Hematological Malignancies"])


def test_title_saying_relapsed_myeloma_wins_over_generic_conditions():
    c = classify(FIRST_IN_HUMAN)
    assert c.setting == "relapsed_refractory"
    assert "title says 'Relapsed or Refractory Multiple Myeloma'" in c.setting_reason
    assert "Hematological Malignancies" in c.setting_reason


def test_inclusion_criterion_saying_relapsed_myeloma_wins_too():
    s = record("First-in-Human Study of XYZ-123 in Blood Cancers", ["Hematologic Neoplasms"],
               criteria="Inclusion Criteria:\n- Documented relapsed/refractory multiple myeloma after at least 3 prior lines\n"
                        "Exclusion Criteria:\n- Active CNS disease")
    assert classify(s).setting == "relapsed_refractory"


def test_another_disease_stays_another_disease():
    assert classify(record("Relapsed follicular lymphoma", ["Follicular Lymphoma"])).setting == "other_condition"
    # relapse and myeloma words far apart, myeloma only excluded: not a myeloma cohort
    s = record("A Study in Relapsed Lymphoma", ["Lymphoma"],
               criteria="Inclusion Criteria:\n- Relapsed lymphoma\nExclusion Criteria:\n- Multiple myeloma")
    assert classify(s).setting == "other_condition"


def test_basket_studies_are_not_only_for_myeloma():
    c = classify(FIRST_IN_HUMAN)
    assert not c.myeloma_only and c.also_enrols == "other blood cancers"
    c = classify(load("projected/NCT00112723.json"))  # real: relapsed or refractory lymphoma or multiple myeloma
    assert c.setting == "relapsed_refractory" and not c.myeloma_only
    c = classify(load("projected/NCT04025216.json"))  # real: CAR T in advanced cancers, myeloma among them
    assert not c.myeloma_only and c.also_enrols == "other cancers"


def test_myeloma_and_its_plasma_cell_relatives_are_myeloma_only():
    assert classify(load("complete/NCT07649525.json")).myeloma_only  # myeloma and plasma cell leukaemia
    assert classify(load("complete/NCT07772024.json")).myeloma_only
    c = classify(record("Relapsed follicular lymphoma", ["Follicular Lymphoma"]))
    assert not c.myeloma_only and c.also_enrols == ""  # another disease: said by its patient group, not 'also'


def test_badge_and_sentence_name_who_else_is_enrolled():
    assert W.not_only_myeloma_badge(classify(FIRST_IN_HUMAN)) == \
        "🧩 Not only for myeloma: this study also enrols people with other blood cancers."
    assert W.not_only_myeloma_badge(classify(load("projected/NCT04025216.json"))).endswith("with other cancers.")
    assert W.not_only_myeloma_badge(classify(load("complete/NCT07772024.json"))) == ""


def test_relapsed_basket_study_is_shown_to_a_relapsed_patient():
    view = V.build_view(annotate_all([FIRST_IN_HUMAN]), F.Filters())
    assert [r.study.nct_id for r in view.rows] == ["NCT00000001"] and not view.hidden_setting


def test_inclusion_is_read_when_the_first_line_names_both_headings():
    s = record("A Study of XYZ-5 in Participants With Multiple Myeloma", ["Multiple Myeloma"],
               criteria="Key Inclusion and Exclusion Criteria\n\nInclusion Criteria:\n- Relapsed or refractory multiple "
                        "myeloma with at least 3 prior lines\n\nExclusion Criteria:\n- Newly diagnosed myeloma")
    assert classify(s).setting == "relapsed_refractory"


def test_relapse_free_survival_is_not_a_relapsed_cohort():
    s = record("Relapse-Free Survival in Multiple Myeloma and Lymphoma After Transplant", ["Lymphoma"])
    assert classify(s).setting == "other_condition"


def test_a_keyword_naming_a_cancer_treatment_names_no_other_disease():
    study = Study.from_api({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": "Peptide vaccination in multiple myeloma"},
        "conditionsModule": {"conditions": ["Multiple Myeloma"], "keywords": ["cancer vaccine", "immunotherapy"]}}})
    assert classify(study).also_enrols == ""
