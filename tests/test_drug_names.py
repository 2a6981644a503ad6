"""Every name of the drugs (issue 14, item 4): intervention names as real records write them land in their
family, and the patterns and INN stems catch the next new code or wording, saying so in their reason.
The names below are copied from ClinicalTrials.gov records the issue quotes (hand-made records around them)."""
import pytest

from trials.classify import classify
from trials.model import Study


def record(names, title="A study", arms=(), itype="BIOLOGICAL"):
    """Hand-made v2 record: one intervention per name, to isolate how each name is read."""
    return Study.from_api({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000002", "briefTitle": title},
        "conditionsModule": {"conditions": ["Multiple Myeloma"]},
        "designModule": {"studyType": "INTERVENTIONAL", "designInfo": {"primaryPurpose": "TREATMENT"}},
        "armsInterventionsModule": {"interventions": [{"type": itype, "name": n} for n in names],
                                    "armGroups": list(arms)}}})


@pytest.mark.parametrize("name, family, target", [
    # CAR T wording without "CAR-T" side by side, and codes
    ("CAR-BCMA T cells", "car_t", "BCMA"), ("CAR138 T cells", "car_t", None), ("CAR-Kappa", "car_t", "kappa light chain"),
    ("Kappa CD28 T cells", "car_t", "kappa light chain"), ("CAR-CD19 T cell", "car_t", "CD19"),
    ("ACLX-001", "car_t", "BCMA"), ("ARC-SparX", "car_t", "BCMA"), ("NXC-201", "car_t", "BCMA"), ("HBI0101", "car_t", "BCMA"),
    ("CT0590", "car_t", "BCMA"), ("CT0596", "car_t", "BCMA"), ("CTX120", "car_t", "BCMA"), ("PBCAR269A", "car_t", "BCMA"),
    ("CYAD-211", "car_t", "BCMA"), ("CM-CS1", "car_t", "NKG2D"), ("CT0594CP", "car_t", None),
    # in-vivo CAR T
    ("ESO-T01", "car_t", "BCMA"), ("KLN-1010", "car_t", "BCMA"), ("UB-VV111", "car_t", "CD19"), ("IASO206", "car_t", None),
    ("JY232", "car_t", None),
    # CAR-NK is other cell therapy, never CAR T
    ("anti-BCMA CAR-NK cells", "cell_therapy_other", "BCMA"), ("GPRC5D CAR-NK", "cell_therapy_other", "GPRC5D"),
    ("NKG2D CAR-NK", "cell_therapy_other", "NKG2D"),
    # bispecifics by short code or target pair
    ("JNJ-7957", "bispecific", "BCMA"), ("JNJ-7564", "bispecific", "GPRC5D"), ("GR1803", "bispecific", "BCMA"),
    ("TQB2934", "bispecific", "BCMA"), ("HBM7020", "bispecific", "BCMA"), ("QLS32015", "bispecific", None),
    ("Y150", "bispecific", "CD38"), ("FcRH5 × CD3 bispecific antibody", "bispecific", "FcRH5"),
    ("FCRL5xCD3", "bispecific", "FcRH5"),
    # radiotherapy, CELMoD, anti-CD38 biosimilar, targeted, ADCs, vaccine, supportive care
    ("CLR 131", "radiotherapy", None), ("CLR1404", "radiotherapy", None), ("I-131-CLR1404", "radiotherapy", None),
    ("KPG-818", "immunomodulatory", None), ("cereblon E3 ligase modulator", "immunomodulatory", None),
    ("HLX15", "anti_cd38", "CD38"), ("ATG-010", "targeted_therapy", None), ("ATG-016", "targeted_therapy", None),
    ("ABBV-453", "targeted_therapy", "BCL-2"), ("tasquinimod", "targeted_therapy", None),
    ("BCL-2 inhibitor", "targeted_therapy", None), ("XPO1 inhibitor", "targeted_therapy", None),
    ("STI-6129", "antibody_drug_conjugate", "CD38"), ("ABBV-838", "antibody_drug_conjugate", "SLAMF7"),
    ("galinpepimut-S", "vaccine", None), ("Aphexda", "supportive_care", None), ("Zometa", "supportive_care", None),
    ("Actemra", "supportive_care", None),
])
def test_real_names_land_in_their_family(name, family, target):
    c = classify(record([name]))
    assert c.families == (family,), (name, [e.reason for e in c.evidence])
    if target:
        assert c.evidence[0].details.get("target") == target, name


def test_in_vivo_car_t_says_so():
    assert classify(record(["ESO-T01"])).evidence[0].details["car_t_source"] == "in vivo"


@pytest.mark.parametrize("name, family, stem", [
    ("obecabtagene autoleucel", "car_t", "-cabtagene"), ("lifileucel", "cell_therapy_other", "-leucel"),
    ("abcdetamig", "bispecific", "-tamig"), ("abcdetamab", "other_antibody", "-tamab"),
    ("abcdezumab vedotin", "antibody_drug_conjugate", "-vedotin"), ("abcdezomib", "proteasome_inhibitor", "-zomib"),
    ("abcdedomide", "immunomodulatory", "-domide"), ("abcdetecan", "chemotherapy", "-tecan"),
])
def test_unknown_names_are_read_by_their_stem_and_the_reason_says_so(name, family, stem):
    c = classify(record([name]))
    assert c.families == (family,), name
    assert stem in c.evidence[0].reason and "not from the drug list" in c.evidence[0].reason


def test_a_tamab_that_names_cd3_is_a_t_cell_engager():
    assert classify(record(["abcdetamab (BCMA x CD3 bispecific)"])).families == ("bispecific",)


def test_listed_names_need_no_stem():
    reason = classify(record(["carfilzomib"], itype="DRUG")).evidence[0].reason
    assert "not from the drug list" not in reason


def test_cytoxan_before_car_t_is_lymphodepletion():
    c = classify(record(["Fludarabine", "Cytoxan", "ciltacabtagene autoleucel"], itype="DRUG"))
    assert c.families == ("car_t",)


def test_flu_cy_before_unrecognised_t_cells_is_not_chemotherapy():
    c = classify(record(["Fludarabine", "Cyclophosphamide", "XYZ-9 T cells"], itype="DRUG"))
    assert "chemotherapy" not in c.families
    # given as treatment, with no cells in the study, cyclophosphamide stays chemotherapy
    assert "chemotherapy" in classify(record(["Cyclophosphamide", "Pomalidomide"], itype="DRUG")).families


def test_title_is_read_when_no_intervention_is_recognised():
    c = classify(record(["XYZ-77"], title="Study of XYZ-77, an Autologous Chimeric Antigen Receptor T-cell Therapy"))
    assert c.families == ("car_t",) and c.evidence[0].source == "title"
    arms = [{"label": "Dose escalation", "type": "EXPERIMENTAL", "description": "XYZ-78 CAR-T infusion",
             "interventionNames": ["Biological: XYZ-78"]}]
    assert classify(record(["XYZ-78"], arms=arms)).families == ("car_t",)


@pytest.mark.parametrize("name", ["Vidaza", "CC-486", "Docetaxel", "Ara-C", "thiotepa", "hydroxyurea"])
def test_cytotoxics_beyond_myeloma_standards_are_chemotherapy(name):
    # basket studies give them (oral azacitidine for blood cancers; docetaxel as a lung-cancer comparator)
    assert classify(record([name])).families == ("chemotherapy",), name
