"""Disease setting of each study, on real records."""

import pytest

from trials.classify import classify
from trials.setting import inclusion_text
from tests.helpers import load, record


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
