"""trials.design: the design facts a patient weighs, read from real records (expected values
written by reading each record), each with the sentence or field it comes from."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from tests.helpers import FIXTURES, labelled_study
from trials.cli import main
from trials.design import RULES, design_columns, design_facts, design_in_words
from trials.model import Study


def facts(study: Study) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in design_facts(study):
        out.setdefault(f.key, []).append(f)
    return out


def hand_made(title="A study", description="", criteria="", arms=(), allocation=None) -> Study:
    """Hand-made v2 record, only to isolate wording no tuned real record uses."""
    design = {"designInfo": {"allocation": allocation}} if allocation else {}
    return Study.from_api({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": title},
        "descriptionModule": {"detailedDescription": description},
        "designModule": design,
        "armsInterventionsModule": {"armGroups": list(arms)},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})


# --- randomized, and what the study compares against ---------------------------------------------

def test_a_randomized_placebo_study_says_so_and_names_the_placebo():
    f = facts(labelled_study("complete/NCT00763412.json"))  # repaglinide vs placebo, allocation RANDOMIZED
    assert f["randomized"][0].words.startswith("Randomized") and f["randomized"][0].source == "allocation: RANDOMIZED"
    (comparator,) = f["comparator"]
    assert comparator.words == "Compared with a placebo (a dummy treatment): placebo (group “1 Placebo”)."


def test_two_active_comparator_arms_are_both_named_with_their_drug():
    f = facts(labelled_study("classic/NCT01019174.xml"))  # oral vs intravenous cyclophosphamide, randomized
    assert [c.words for c in f["comparator"]] == [
        "Compared with an existing treatment: Cyclophosphamide (group “oral application”).",
        "Compared with an existing treatment: Cyclophosphamide (group “intravenous application”)."]


def test_a_no_intervention_arm_reads_as_no_study_treatment():
    f = facts(labelled_study("classic/NCT00480363.xml"))  # lenalidomide maintenance vs arm "2" without treatment
    assert [c.words for c in f["comparator"]] == ["Compared with no study treatment: group “2”."]


def test_a_non_randomized_study_with_only_experimental_arms_has_no_comparator():
    f = facts(labelled_study("classic/NCT01456689.xml"))
    assert f["randomized"][0].words.startswith("Not randomized") and "comparator" not in f


def test_a_record_silent_on_design_gives_no_fact():
    assert design_facts(Study.from_api({"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}})) == ()
    assert design_facts(Study()) == ()


# --- first in human, dose finding ------------------------------------------------------------------

@pytest.mark.parametrize("file, sentence_start", [
    ("classic/NCT01456689.xml", "A Multi-Center, Open-Label, Dose Escalation, Phase 1 Study"),  # the official title
    ("classic/NCT03502577.xml", "OUTLINE: This is a dose escalation study of BCMA-specific CAR T-cells."),
    ("classic/NCT03559764.xml", "The study will follow a 3 + 3 design of dose-escalating cohorts."),
])
def test_dose_escalation_is_read_from_the_title_or_the_outline(file, sentence_start):
    (fact,) = facts(labelled_study(file))["dose_escalation"]
    assert fact.source.startswith(sentence_start) and fact.rule


def test_raising_one_persons_dose_is_not_a_dose_escalation_study():
    # phase 2: "The dose escalation to 1.3 mg/m2 will be performed without delay if no AE ..." (per patient)
    assert "dose_escalation" not in facts(labelled_study("classic/NCT00311337.xml"))


@pytest.mark.parametrize("title, description", [
    ("A First-in-Human Study of XY-123 in Relapsed or Refractory Multiple Myeloma", ""),
    ("A Study of XY-123", "This is a first in human, open-label study. Part A is dose escalation."),
    ("A Study of XY-123", "XY-123 will be given for the first time in humans."),
])
def test_first_in_human_is_read_from_its_usual_wordings(title, description):
    f = facts(hand_made(title=title, description=description))
    assert f["first_in_human"][0].words.startswith("First in humans")


def test_first_in_class_is_not_first_in_human():
    assert "first_in_human" not in facts(hand_made(title="A Study of a First-in-Class BCMA Degrader"))


# --- hospital stay, staying near the centre ----------------------------------------------------------

def test_a_hospital_stay_is_quoted_from_the_record():
    (fact,) = facts(labelled_study("classic/NCT01039025.xml"))["hospital_stay"]
    assert fact.source == "Patients must stay in the hospital for the high-dose drug treatment."


def test_past_hospitalisation_in_the_exclusion_criteria_is_not_a_hospital_stay():
    # "Severe infections within 4 weeks prior to Cycle 1, Day 1, including ... hospitalization for complications of infection"
    assert "hospital_stay" not in facts(labelled_study("classic/NCT02784483.xml"))


@pytest.mark.parametrize("description", [
    "Participants will be hospitalized for 48 hours after each step-up dose.",
    "Hospitalization during step-up dosing is required.",
    "Patients will remain hospitalized for at least 10 days after the CAR T-cell infusion.",
    "Cycle 1 will be given in the inpatient setting.",
])
def test_step_up_and_car_t_hospital_stays(description):
    assert facts(hand_made(description=description))["hospital_stay"][0].source == description


@pytest.mark.parametrize("criteria, sentence", [
    ("Inclusion Criteria:\n\n- Willing to stay within 2 hours of the treatment center for 4 weeks after infusion",
     "Willing to stay within 2 hours of the treatment center for 4 weeks after infusion"),
    ("Inclusion Criteria:\n\n- Must live within 60 miles of the study site or agree to relocate",
     "Must live within 60 miles of the study site or agree to relocate"),
    ("Inclusion Criteria:\n\n- Patients must remain in close proximity to the treating hospital for 30 days",
     "Patients must remain in close proximity to the treating hospital for 30 days"),
])
def test_staying_near_the_centre_is_quoted(criteria, sentence):
    (fact,) = facts(hand_made(criteria=criteria))["stay_near_centre"]
    assert fact.source == sentence


def test_a_time_window_before_a_drug_is_not_a_distance_from_the_centre():
    # criteria: "... within 10-14 days prior to and again within 24 hours of starting lenalidomide ..."
    assert "stay_near_centre" not in facts(labelled_study("classic/NCT00966693.xml"))


def test_living_too_far_away_among_the_exclusions_is_a_stay_near_requirement():
    criteria = ("Inclusion Criteria:\n\n- Measurable disease\n\nExclusion Criteria:\n\n"
                "- Patients who live more than 2 hours from the treatment center\n"
                "- Hospitalization within 2 weeks for an infection")
    f = facts(hand_made(criteria=criteria))
    assert f["stay_near_centre"][0].source == "Patients who live more than 2 hours from the treatment center"
    assert "hospital_stay" not in f  # a past hospital stay that excludes is history, not part of the study


# --- for the card and the exports -------------------------------------------------------------------

def test_words_for_the_card_quote_the_record_sentence():
    lines = design_in_words(design_facts(labelled_study("classic/NCT01039025.xml")))
    assert lines == ["Not randomized: there is a single group, everyone gets the treatment being studied.",
                     "A hospital stay is part of the study. The record says: "
                     "“Patients must stay in the hospital for the high-dose drug treatment.”"]


def test_export_columns_for_a_real_record():
    assert design_columns(design_facts(labelled_study("classic/NCT03502577.xml"))) == {
        "first_in_human": False, "dose_escalation": True, "hospital_stay": "", "stay_near_centre": ""}


def test_every_rule_is_named_and_gives_a_known_fact():
    assert len({r.name for r in RULES}) == len(RULES)
    assert {r.key for r in RULES} == {"first_in_human", "dose_escalation", "hospital_stay", "stay_near_centre"}


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.sampled_from(["RANDOMIZED", "NON_RANDOMIZED", "NA", "", "x"]))
def test_any_text_gives_facts_whose_sources_are_in_the_record(description, criteria, allocation):
    study = hand_made(description=description, criteria=criteria, allocation=allocation or None)
    for f in design_facts(study):
        if f.rule:
            assert " ".join(f.source.split()).rstrip(" …")[:50] in " ".join((description + " " + criteria).split())


def test_classify_json_carries_the_design_facts_with_their_source(capsys):
    assert main(["classify", str(FIXTURES / "complete" / "NCT00763412.json")]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"fact": "randomized", "words": "Randomized: chance decides which group each person joins.",
            "source": "allocation: RANDOMIZED", "rule": ""} in row["design"]
    assert [d["fact"] for d in row["design"]] == ["randomized", "comparator"]
