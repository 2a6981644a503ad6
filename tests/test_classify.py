"""Therapy families, evidence and the pitfalls of issue 3, on real records (tests/fixtures)."""
import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.helpers import load, record
from trials.classify import classification_json, classify
from trials.vocabulary import FAMILIES, SETTINGS
from trials.model import Study

FIXTURES = Path(__file__).parent / "fixtures"


def test_family_ids_are_stable():
    assert list(FAMILIES) == ["car_t", "bispecific", "proteasome_inhibitor", "anti_cd38", "immunomodulatory",
                              "stem_cell_transplant", "antibody_drug_conjugate", "cell_therapy_other", "targeted_therapy",
                              "other_antibody", "chemotherapy", "vaccine", "radiotherapy", "supportive_care", "diagnostic",
                              "unclassified"]
    assert set(SETTINGS) == {"relapsed_refractory", "newly_diagnosed", "maintenance", "smoldering", "other_condition", "mixed", "unknown"}
    assert all(f.plain and f.label for f in FAMILIES.values())


def test_multi_label_with_evidence_for_every_label():
    c = classify(load("complete/NCT07764978.json"))
    assert c.families == ("car_t", "proteasome_inhibitor", "anti_cd38", "immunomodulatory")
    for fam in c.families:
        assert any(e.family == fam for e in c.evidence)
    car = next(e for e in c.evidence if e.family == "car_t")
    assert (car.drug, car.role, car.details["target"]) == ("AZD0120", "experimental", "BCMA/CD19")
    assert car.reason == "Tests AZD0120 (CAR T-cell therapy, target BCMA/CD19, autologous) in the experimental arm 'Arm A: Investigational Arm'."


def test_lymphodepletion_is_not_chemotherapy():
    assert "chemotherapy" not in classify(load("complete/NCT07764978.json")).families
    assert "chemotherapy" not in classify(load("projected/NCT06940297.json")).families


def test_comparator_only_drug_is_labelled_and_says_comparator():
    c = classify(load("complete/NCT07285239.json"))
    assert "anti_cd38" in c.families and c.comparator_only("anti_cd38")
    assert not c.comparator_only("antibody_drug_conjugate")
    dara = next(e for e in c.evidence if e.family == "anti_cd38")
    assert "comparator" in dara.reason and "Arm B:" in dara.reason


def test_comparator_regimens_in_arm_text():
    c = classify(load("complete/NCT07772024.json"))
    assert c.comparator_only("proteasome_inhibitor") and c.comparator_only("anti_cd38")
    assert not c.comparator_only("immunomodulatory")
    assert "targeted_therapy" in c.families


def test_details_that_matter_to_patients():
    ev = {e.drug: e for e in classify(load("complete/NCT07649525.json")).evidence}
    assert ev["teclistamab"].details["target"] == "BCMA"
    assert ev["talquetamab"].details["target"] == "GPRC5D"
    assert ev["lenalidomide"].details["subclass"] == "IMiD"
    ev = {e.drug: e for e in classify(load("projected/NCT01496118.json")).evidence}
    assert ev["carfilzomib"].details["generation"] == "next"
    ev = {e.drug: e for e in classify(load("projected/NCT01168804.json")).evidence}
    assert ev["bortezomib"].details["generation"] == "first"
    ev = [e for e in classify(load("projected/NCT00003196.json")).evidence if e.family == "stem_cell_transplant"]
    assert any(e.details.get("transplant") == "allogeneic" for e in ev)


def test_classification_json_is_json_ready():
    out = json.loads(json.dumps(classification_json(classify(load("complete/NCT07285239.json")))))
    assert out["nct_id"] == "NCT07285239" and out["categories"][0] in FAMILIES and out["setting"] == "newly_diagnosed"
    assert out["myeloma_only"] is True and out["also_enrols"] == ""
    assert {"family", "drug", "matched", "source", "role", "reason", "details"} <= set(out["evidence"][0])


def test_nothing_known_is_unclassified():
    assert classify(load("projected/NCT00335647.json")).families == ("unclassified",)


@pytest.mark.parametrize("rel", ["projected/NCT00339963.json", "projected/NCT04151615.json", "projected/NCT03850704.json"])
def test_observational_no_intervention_and_expanded_access_classify(rel):
    c = classify(load(rel))
    assert c.families and c.setting in SETTINGS


@pytest.mark.parametrize("raw", [None, {}, [], "x", {"protocolSection": None},
                                 {"protocolSection": {"armsInterventionsModule": {"interventions": [{"name": ""}, {"name": "💊" * 50}]}}},
                                 {"protocolSection": {"armsInterventionsModule": {"interventions": [{"name": "İstanbul ﬁ Ǆ bortezomib" * 3000}]}}}])
def test_odd_input(raw):
    c = classify(Study.from_api(raw))
    assert c.families and c.setting in SETTINGS


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["protocolSection", "armsInterventionsModule", "interventions", "armGroups", "name",
                                         "otherNames", "description", "armGroupLabels", "label", "type", "identificationModule",
                                         "briefTitle", "conditionsModule", "conditions", "eligibilityModule",
                                         "eligibilityCriteria", "designModule", "studyType"]) | st.text(max_size=8),
                        inner, max_size=5), max_leaves=30))
def test_classify_never_raises_and_never_returns_empty(raw):
    c = classify(Study.from_api(raw))
    assert c.families and all(f in FAMILIES for f in c.families) and c.setting in SETTINGS


# --- the pitfalls of issue 3, each pinned ---

def iv(name, desc="", other=()):
    return {"type": "BIOLOGICAL", "name": name, "description": desc, "otherNames": list(other)}


def test_eligibility_text_never_creates_a_family():
    s = record([iv("Fluphenazine")], criteria="Inclusion Criteria:\n- prior CAR T-cell therapy allowed\n- prior ASCT\n"
                                               "- refractory to daratumumab and a proteasome inhibitor\nExclusion Criteria:\n- teclistamab")
    assert classify(s).families == ("unclassified",)


def test_prior_car_t_in_intervention_text_is_context():
    for text in ["For patients previously treated with CAR T cells", "after a BCMA bispecific", "Lenalidomide-refractory patients",
                 "for transplant-ineligible patients", "patients not eligible for ASCT"]:
        assert classify(record([iv("Drug X", text)])).families == ("unclassified",), text


def test_autologous_car_t_cells_are_not_a_transplant():
    c = classify(record([iv("BCMA CAR-T", "Autologous anti-BCMA CAR T cells given after lymphodepletion")]))
    assert c.families == ("car_t",)
    assert c.evidence[0].details["target"] == "BCMA"


def test_bcma_alone_decides_no_modality():
    assert classify(record([iv("anti-BCMA therapy")])).families == ("unclassified",)
    assert classify(record([iv("BCMA CAR-T cells")])).families == ("car_t",)
    assert classify(record([iv("BCMA bispecific antibody")])).families == ("bispecific",)
    assert classify(record([iv("BCMA antibody-drug conjugate")])).families == ("antibody_drug_conjugate",)


def test_dexamethasone_backbone_is_ignored():
    assert classify(record([iv("Dexamethasone"), iv("Prednisone")])).families == ("unclassified",)
    assert classify(load("projected/NCT00600353.json")).families == ("supportive_care",)


def test_regimen_abbreviations_expand():
    fams = classify(record([iv("KRd")])).families
    assert fams == ("proteasome_inhibitor", "immunomodulatory")
    assert set(classify(record([iv("Tec-Dara")])).families) == {"bispecific", "anti_cd38"}
    assert set(classify(record([iv("Isa-Kd")])).families) == {"proteasome_inhibitor", "anti_cd38"}
    assert set(classify(record([iv("DPd")])).families) == {"anti_cd38", "immunomodulatory"}
    assert set(classify(record([iv("VRd induction")])).families) == {"proteasome_inhibitor", "immunomodulatory"}


def test_short_abbreviations_do_not_match_ordinary_words():
    for text in ["krd", "Kidney disease (ckd) and dpd deficiency", "Cardiac care, cart, Carbohydrate", "dvd", "Standard pd follow-up",
                 "PI meeting"]:
        assert classify(record([iv("Other", text)])).families == ("unclassified",), text


def test_context_only_therapy_in_title_is_not_tested():
    c = classify(load("complete/NCT07648264.json"))  # immune globulin after BCMA/CAR T therapies
    assert c.families == ("supportive_care",)
    assert classify(load("projected/NCT04409314.json")).families == ("diagnostic",)  # imaging to predict CAR T outcome
    assert classify(load("projected/NCT03436771.json")).families == ("unclassified",)  # follow-up after a Juno CAR T
    assert classify(load("projected/NCT07028970.json")).families == ("unclassified",)
    assert classify(load("projected/NCT04760184.json")).families == ("unclassified",)  # COVID after earlier ASCT


def test_company_codes_match_without_punctuation():
    for name in ["JNJ-64007957", "JNJ64007957", "JNJ 64007957", "JNJ‐64007957®"]:
        c = classify(record([iv(name)]))
        assert c.families == ("bispecific",) and c.evidence[0].drug == "teclistamab", name
    for name in ["CC-92480", "CC92480"]:
        assert classify(record([iv(name)])).evidence[0].drug == "mezigdomide"
    assert classify(record([iv("CC92480")])).evidence[0].details["subclass"] == "CELMoD"


def test_titles_only_when_interventions_say_nothing():
    assert set(classify(load("projected/NCT04065308.json")).families) == {"anti_cd38", "chemotherapy"}  # 'Drug Combinations'
    c = classify(load("complete/NCT02210780.json"))  # dupilumab; 'vaccine responses' in the title is not the therapy
    assert c.families == ("other_antibody",) and "-mab" in c.evidence[0].reason


@pytest.mark.parametrize("name, family", [("Arsenic trioxide", "chemotherapy"), ("Trisenox", "chemotherapy"),
                                          ("Xcellerated T Cells", "cell_therapy_other"),
                                          ("activated autologous T cells", "cell_therapy_other"),
                                          ("Tai Chi", "supportive_care"), ("chemoprotection", "supportive_care"),
                                          ("reinfusion of autologous stem cells", "stem_cell_transplant")])
def test_older_intervention_names(name, family):  # as written in legacy records of batches b6 and b8
    assert classify(record([iv(name)])).families == (family,)


def test_a_supportive_study_around_a_transplant_does_not_test_the_transplant():
    study = record([iv("Tai Chi"), iv("Education")],
                   title="Novel Support Options in Autologous Stem Cell Transplant for Multiple Myeloma")
    assert classify(study).families == ("supportive_care",)


@pytest.mark.parametrize("words", ["participants not suitable for ASCT will continue the regimen",
                                   "for those patients continuing with ASCT, monitoring goes on to day 90"])
def test_a_transplant_named_as_someone_elses_path_is_not_tested(words):
    assert "stem_cell_transplant" not in classify(record([iv("Bortezomib", words)])).families
