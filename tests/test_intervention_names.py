"""Real intervention names, written by hand as records spell them (tests/fixtures, labelled half),
land in their therapy family. Not generated from the taxonomy: a name dropped from taxonomy.json,
or a family moved, fails here."""
import pytest

from tests.helpers import record
from trials.classify import classify

# (name as an intervention is listed, family) -- each seen in a real ClinicalTrials.gov record
REAL_NAMES = [
    ("Ciltacabtagene Autoleucel", "car_t"),
    ("cilta-cel", "car_t"),
    ("JNJ-68284528", "car_t"),
    ("Idecabtagene vicleucel", "car_t"),
    ("bb2121", "car_t"),
    ("CAR-T cells", "car_t"),
    ("Teclistamab", "bispecific"),
    ("Talquetamab", "bispecific"),
    ("Elranatamab", "bispecific"),
    ("PF-06863135", "bispecific"),
    ("Linvoseltamab", "bispecific"),
    ("Bortezomib", "proteasome_inhibitor"),
    ("Velcade", "proteasome_inhibitor"),
    ("Carfilzomib", "proteasome_inhibitor"),
    ("Ixazomib Citrate", "proteasome_inhibitor"),
    ("Daratumumab", "anti_cd38"),
    ("Daratumumab (Subcutaneously)", "anti_cd38"),
    ("Daratumumab Injection", "anti_cd38"),
    ("Isatuximab", "anti_cd38"),
    ("Lenalidomide", "immunomodulatory"),
    ("Revlimid", "immunomodulatory"),
    ("CC-5013", "immunomodulatory"),
    ("Pomalidomide", "immunomodulatory"),
    ("Thalidomide", "immunomodulatory"),
    ("Iberdomide", "immunomodulatory"),
    ("Mezigdomide", "immunomodulatory"),
    ("Belantamab mafodotin", "antibody_drug_conjugate"),
    ("GSK2857916", "antibody_drug_conjugate"),
    ("peripheral blood stem cell transplantation", "stem_cell_transplant"),
    ("allogeneic hematopoietic stem cell transplantation", "stem_cell_transplant"),
    ("Selinexor", "targeted_therapy"),
    ("Venetoclax", "targeted_therapy"),
    ("Melphalan", "chemotherapy"),
    ("Bendamustine Hydrochloride", "chemotherapy"),
    ("Elotuzumab", "other_antibody"),
]


@pytest.mark.parametrize("name, family", REAL_NAMES)
def test_a_real_intervention_name_lands_in_its_family(name, family):
    study = record(interventions=[{"type": "DRUG", "name": name}], title="A study in relapsed myeloma")
    assert family in classify(study).families, classify(study).evidence
