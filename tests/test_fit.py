"""Issue 10: a person's answers against a study's criteria. Criteria texts are hand-made in the
wording of real records; the verdict never says "eligible", only conflict / check / no_conflict."""
import pytest

from trials.eligibility import eligibility_flags
from trials.errors import BadInput
from trials.fit import Profile, fit, parse_transplants, resolve_treatment, resolve_treatments
from trials.model import Eligibility, Study


def verdict(criteria: str, profile: Profile, **study):
    s = Study(nct_id="NCT00000000", eligibility=Eligibility(criteria=criteria, **study))
    return fit(s, eligibility_flags(criteria), profile)


EXCLUDES_BCMA = "Exclusion Criteria:\n- Prior treatment with a BCMA-directed therapy"
AT_LEAST_3 = "Inclusion Criteria:\n- Received at least 3 prior lines of therapy"
CRCL_30 = "Inclusion Criteria:\n- Creatinine clearance ≥ 30 mL/min"


def test_a_bcma_exposed_patient_conflicts_with_a_study_excluding_prior_bcma_therapy():
    got = verdict(EXCLUDES_BCMA, Profile(had=("teclistamab",)))
    assert got.verdict == "conflict"
    assert got.reasons[0].criterion == "prior_bcma"
    assert got.reasons[0].sentence == "Prior treatment with a BCMA-directed therapy"
    # the same answer given as a code, a brand or a class word
    for had in ("JNJ-64007957", "Blenrep", "BCMA"):
        assert verdict(EXCLUDES_BCMA, Profile(had=resolve_treatments([had]))).verdict == "conflict", had
    # a patient who had only other treatments: nothing conflicts
    assert verdict(EXCLUDES_BCMA, Profile(had=("lenalidomide", "bortezomib"))).verdict == "no_conflict"


def test_prior_lines_below_the_minimum_conflict_and_unanswered_lines_are_to_check():
    assert verdict(AT_LEAST_3, Profile(lines=2)).verdict == "conflict"
    assert verdict(AT_LEAST_3, Profile(lines=3)).verdict == "no_conflict"
    assert verdict(AT_LEAST_3, Profile(ecog=1)).verdict == "check"
    capped = "Inclusion Criteria:\n- 1 to 3 prior lines of therapy"
    assert verdict(capped, Profile(lines=4)).verdict == "conflict"


def test_an_unanswered_kidney_question_against_a_crcl_limit_is_to_check():
    got = verdict(CRCL_30, Profile(lines=2))
    assert got.verdict == "check"
    assert got.reasons[0].criterion == "min_creatinine_clearance"
    assert verdict(CRCL_30, Profile(crcl=25)).verdict == "conflict"
    assert verdict(CRCL_30, Profile(crcl=45)).verdict == "no_conflict"


def test_a_time_window_is_a_question_not_a_conflict():
    text = "Exclusion Criteria:\n- Autologous stem cell transplant within 12 weeks before the first dose"
    got = verdict(text, Profile(transplants=frozenset({"auto"})))
    assert got.verdict == "check" and "within 12 weeks" in got.reasons[0].says
    assert verdict(text, Profile(transplants=frozenset())).verdict == "no_conflict"


def test_disease_features_and_fitness():
    text = ("Inclusion Criteria:\n- ECOG performance status 0-1\nExclusion Criteria:\n- Known CNS involvement\n"
            "- Plasma cell leukemia")
    assert verdict(text, Profile(ecog=2, cns=False, pcl=False)).verdict == "conflict"
    assert verdict(text, Profile(ecog=1, cns=True, pcl=False)).verdict == "conflict"
    assert verdict(text, Profile(ecog=1, cns=False, pcl=False)).verdict == "no_conflict"
    assert verdict(text, Profile(ecog=1)).verdict == "check"  # CNS and PCL not answered


def test_named_drugs_and_refractoriness():
    text = "Exclusion Criteria:\n- Prior pomalidomide is not allowed"
    assert verdict(text, Profile(had=("pomalidomide",))).verdict == "conflict"
    refractory = "Exclusion Criteria:\n- Refractory to lenalidomide"
    # had it but it still worked: the criterion is about refractoriness, so a question, not a conflict
    assert verdict(refractory, Profile(had=("lenalidomide",))).verdict == "check"
    assert verdict(refractory, Profile(refractory=("lenalidomide",))).verdict == "conflict"


def test_age_outside_the_records_range_conflicts():
    assert verdict("", Profile(age=17, lines=1), minimum_age="18 Years").verdict == "conflict"
    assert verdict("", Profile(age=70, lines=1), minimum_age="18 Years").verdict == "no_conflict"


def test_no_answers_no_verdict():
    assert verdict(EXCLUDES_BCMA, Profile()) is None


def test_names_resolve_through_the_shared_vocabulary():
    assert resolve_treatment("Darzalex") == "daratumumab"
    assert resolve_treatment("  cilta-cel ") == "ciltacabtagene autoleucel"
    assert resolve_treatment("CAR T") == "CAR T"  # a class word the reader understands
    with pytest.raises(BadInput, match="daratumumab"):
        resolve_treatment("daratumab")
    with pytest.raises(BadInput):
        resolve_treatment("   ")
    assert parse_transplants("auto,allo") == frozenset({"auto", "allo"})
    assert parse_transplants("none") == frozenset()
    with pytest.raises(BadInput):
        parse_transplants("kidney")
