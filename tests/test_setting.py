"""Disease setting of each study, on real records."""

import pytest

from trials.classify import classify
from trials.setting import inclusion_text
from tests.helpers import labelled_study, load, record


@pytest.mark.parametrize("rel, setting", [
    ("complete/NCT07772024.json", "relapsed_refractory"),
    ("projected/NCT02095834.json", "relapsed_refractory"),   # NCI wording: Recurrent Plasma Cell Myeloma
    ("projected/NCT01450215.json", "relapsed_refractory"),   # "Second Line"
    ("complete/NCT07285239.json", "newly_diagnosed"),
    ("projected/NCT00382694.json", "newly_diagnosed"),       # "Untreated"
    ("projected/NCT01296503.json", "maintenance"),
    ("projected/NCT02467010.json", "relapsed_refractory"),   # maintenance after salvage stays relapsed
    ("projected/NCT02784483.json", "smoldering"),            # asymptomatic myeloma
    ("projected/NCT01838369.json", "smoldering"),
    ("projected/NCT04504825.json", "other_condition"),       # AL amyloidosis
    ("projected/NCT06636552.json", "other_condition"),       # primary plasma cell leukaemia
    ("complete/NCT03934567.json", "other_condition"),        # relapsed follicular lymphoma: relapsed, but not myeloma
    ("projected/NCT00721123.json", "other_condition"),       # 'Myeloma Receptor Antibody' in an arthritis title
    ("complete/NCT07648264.json", "other_condition"),
    ("complete/NCT03412565.json", "mixed"),                  # NDMM and RRMM cohorts in the inclusion criteria
    ("projected/NCT00622336.json", "relapsed_refractory"),   # companion of MM-009/MM-010
    ("projected/NCT04151615.json", "unknown"),
])
def test_setting_of_real_records(rel, setting):
    c = classify(load(rel))
    assert c.setting == setting, c.setting_reason
    assert c.setting_reason


def test_trial_acronym_decides():
    assert classify(record(title="CARTITUDE-5: cilta-cel after VRd")).setting == "newly_diagnosed"
    assert classify(record(title="A study (MajesTEC-4)")).setting == "maintenance"
    assert classify(record(title="KarMMa-3")).setting == "relapsed_refractory"


def test_only_inclusion_criteria_count():
    crit = "Inclusion Criteria:\n- Multiple myeloma\nExclusion Criteria:\n- relapsed or refractory disease\n- prior lines of therapy"
    assert inclusion_text(crit).strip().endswith("- Multiple myeloma")
    assert classify(record(criteria=crit)).setting == "unknown"
    crit = "Inclusion Criteria:\n- Relapsed or refractory multiple myeloma after at least 3 prior lines\nExclusion Criteria:\n- none"
    assert classify(record(criteria=crit)).setting == "relapsed_refractory"


def test_relapse_free_survival_is_not_a_relapse_setting():
    s = record(title="Lenalidomide to improve relapse-free survival in newly diagnosed myeloma")
    assert classify(s).setting == "newly_diagnosed"


def test_smoldering_without_myeloma_condition_and_lymphoma():
    assert classify(record(conditions=["MGUS"])).setting == "smoldering"
    assert classify(record(conditions=["Diffuse Large B-Cell Lymphoma"], title="Relapsed lymphoma")).setting == "other_condition"


STAGE_INDEX = ["Refractory Multiple Myeloma", "Stage I Multiple Myeloma", "Stage II Multiple Myeloma",
               "Stage III Multiple Myeloma"]


def test_stage_index_of_older_records_does_not_say_who_enrols():
    # NCI records index every stage plus 'Refractory Multiple Myeloma': the record's own words decide
    assert classify(labelled_study("classic/NCT01074060.xml")).setting == "unknown"  # inclusion: only "eligible to undergo" ASCT
    assert classify(load("projected/NCT00693433.json")).setting == "relapsed_refractory"  # title: Recurrent or Refractory
    untreated = record(conditions=STAGE_INDEX, criteria="Inclusion Criteria:\n- Previously untreated symptomatic myeloma")
    assert classify(untreated).setting == "newly_diagnosed"
    # a record that carries no text keeps its index: it is all there is
    assert classify(record(conditions=STAGE_INDEX)).setting == "relapsed_refractory"


@pytest.mark.parametrize("criteria", [
    "Inclusion Criteria:\n- Symptomatic multiple myeloma\n- At least 4 weeks since prior therapy",
    "Inclusion Criteria:\n- Multiple myeloma; patients must not have received prior lines of therapy",
    "Inclusion Criteria:\n- Multiple myeloma\n- Recovered from the toxicities of prior therapy",
])
def test_negations_and_wash_outs_are_not_relapse(criteria):
    assert classify(record(criteria=criteria)).setting != "relapsed_refractory"


def test_treatment_until_relapse_is_not_a_relapsed_population():
    raw = record(criteria="Inclusion Criteria:\n- Multiple myeloma\n- Lenalidomide is given until relapse")
    assert classify(raw).setting == "unknown"


def test_maintenance_in_a_keyword_of_an_upfront_study_is_newly_diagnosed():
    # keyword 'Maintenance Therapy'; summary '... following autologous transplant as part of upfront treatment'
    assert classify(labelled_study("classic/NCT02728102.xml")).setting == "newly_diagnosed"
    # title 'VELCADE as Maintenance Treatment ... Following Autologous ... Transplantation'
    assert classify(labelled_study("classic/NCT00311337.xml")).setting == "maintenance"


@pytest.mark.parametrize("words", ["upfront treatment", "induction therapy followed by transplant",
                                   "recently diagnosed", "chemotherapy-naive",
                                   "in patients who have not received prior systemic therapy", "never treated"])
def test_newly_diagnosed_wordings(words):
    assert classify(record(criteria=f"Inclusion Criteria:\n- Multiple myeloma, {words}")).setting == "newly_diagnosed"


@pytest.mark.parametrize("words", ["early disease recurrence within 12 months of transplant",
                                   "after a minimum of three lines of chemotherapy",
                                   "in patients who failed bortezomib", "biochemical relapse", "second or later relapse"])
def test_relapse_wordings(words):
    assert classify(record(criteria=f"Inclusion Criteria:\n- Multiple myeloma with {words}")).setting == "relapsed_refractory"


@pytest.mark.parametrize("words", ["No more than 3 prior regimens", "Up to 2 prior lines of therapy"])
def test_a_ceiling_on_prior_regimens_names_no_relapsed_population(words):
    # a ceiling also lets in people never treated: it says nothing of which patients enrol
    assert classify(record(criteria=f"Inclusion Criteria:\n- Multiple myeloma\n- {words}")).setting == "unknown"


@pytest.mark.parametrize("title, inclusion, setting", [  # hand-made, in the wording of real records
    ("A study", "Multiple myeloma in first remission or in relapse", "mixed"),
    # a rule for counting lines names the phases of a first line, not a newly diagnosed group
    ("A study", "Failure of at least one prior systemic therapy for MM. Induction therapy followed by high dose "
                "chemotherapy and autologous transplantation counts as one therapy.", "relapsed_refractory"),
    ("A study", "New diagnosis of multiple myeloma and acute kidney failure", "newly_diagnosed"),
    ("A study", "Newly diagnosed symptomatic myeloma\n- Steroids may be given to salvage renal function before "
                "screening", "newly_diagnosed"),  # salvaging kidney function is no relapse
    ("Vaccination Against Multiple Myeloma After High Dose Chemotherapy With Stem Cell Support", "", "maintenance"),
])
def test_who_the_study_is_for_in_more_wordings(title, inclusion, setting):
    criteria = f"Inclusion Criteria:\n- {inclusion}" if inclusion else ""
    assert classify(record(title=title, criteria=criteria)).setting == setting
