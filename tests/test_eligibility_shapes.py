"""Issue 10: the failure shapes seen on real texts, and the new criteria (hand-made sentences in the
wording of real records; each pins a general rule, not one record)."""
import pytest

from trials.eligibility import eligibility_flags


def read(section: str, *items: str) -> dict:
    return eligibility_flags(f"{section} Criteria:\n" + "\n".join(f"- {i}" for i in items))


@pytest.mark.parametrize("item, lo, hi", [
    ("Subjects must have received at least 1 but no greater than 3 prior regimens", 1, 3),
    ("Received at least 2, but not more than 4, prior lines of therapy", 2, 4),
    ("Relapsed or refractory to two lines prior therapy", 2, None),
    ("Must meet Criteria 5 of the IMWG definition before starting therapy lines", None, None),
    ("Grade 3 neuropathy within 2 weeks of prior therapy", None, None),
])
def test_prior_line_shapes(item, lo, hi):
    got = read("Inclusion", item)
    assert (got["min_prior_lines"].value, got["max_prior_lines"].value) == (lo, hi)


def test_hard_wrapped_legacy_item_is_read_whole():
    text = ("Inclusion Criteria:\n\n  -  Patients must have received at least 2 prior lines of therapy,\n"
            "     including lenalidomide and a proteasome inhibitor, and be refractory to\n"
            "     their last line.\n\nExclusion Criteria:\n\n  -  Prior treatment with a B-cell\n"
            "     maturation antigen (BCMA) targeted therapy.\n")
    got = eligibility_flags(text)
    assert got["min_prior_lines"].value == 2
    assert got["prior_bcma"].value == "excluded"
    assert "maturation antigen" in got["prior_bcma"].sentence


def test_gene_or_cell_therapy_ban_excludes_prior_car_t():
    got = read("Exclusion", "Previous treatment with any gene therapy-based therapeutic for cancer or "
                            "investigational cellular therapy for cancer")
    assert got["prior_car_t"].value == "excluded"


def test_making_the_study_product_is_not_a_history():
    got = read("Inclusion", "Willing to undergo leukapheresis for manufacturing of anti-BCMA CAR T cells")
    assert got["prior_bcma"].value == "not_mentioned"
    assert got["prior_car_t"].value == "not_mentioned"


@pytest.mark.parametrize("code, flags", [
    ("JNJ-64007957", {"prior_bcma", "prior_bispecific"}),  # teclistamab
    ("PF-06863135", {"prior_bcma", "prior_bispecific"}),  # elranatamab
    ("GSK2857916", {"prior_bcma"}),  # belantamab mafodotin
    ("JNJ-64407564", {"prior_gprc5d", "prior_bispecific"}),  # talquetamab
])
def test_codes_come_from_the_shared_vocabulary(code, flags):
    got = read("Exclusion", f"Prior treatment with {code}")
    assert {k for k, f in got.items() if f.value == "excluded"} >= flags


@pytest.mark.parametrize("section, item, key, value", [
    ("Exclusion", "Prior autologous stem cell transplant within 12 weeks of enrolment",
     "prior_autologous_transplant", "allowed"),
    ("Exclusion", "Prior allogeneic stem cell transplantation", "prior_allogeneic_transplant", "excluded"),
    ("Inclusion", "Must have undergone prior autologous stem cell transplant", "prior_autologous_transplant", "required"),
    ("Exclusion", "History of solid organ transplant", "prior_allogeneic_transplant", "not_mentioned"),
    ("Exclusion", "Prior GPRC5D-directed therapy", "prior_gprc5d", "excluded"),
    ("Exclusion", "Known active central nervous system involvement by myeloma", "cns_involvement", "excluded"),
    ("Exclusion", "Plasma cell leukemia at the time of screening", "plasma_cell_leukemia", "excluded"),
    ("Inclusion", "Diagnosis of multiple myeloma or plasma cell leukemia", "plasma_cell_leukemia", "allowed"),
    ("Exclusion", "Known systemic AL amyloidosis", "amyloidosis", "excluded"),
    ("Exclusion", "Amyloidosis, unless limited to the bone marrow", "amyloidosis", "allowed"),
    ("Inclusion", "Measurable disease defined as serum M-protein ≥ 0.5 g/dL", "measurable_disease", "required"),
    ("Exclusion", "History of CNS disorder such as seizure or stroke", "cns_involvement", "not_mentioned"),
])
def test_new_flags(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("section, item, key, value", [
    ("Inclusion", "Creatinine clearance (CrCl) ≥ 30 mL/min", "min_creatinine_clearance", 30),
    ("Exclusion", "Renal insufficiency (creatinine clearance < 40 mL/min)", "min_creatinine_clearance", 40),
    ("Inclusion", "ECOG performance status of 0-2", "max_ecog", 2),
    ("Inclusion", "Eastern Cooperative Oncology Group (ECOG) performance status 0, 1, or 2", "max_ecog", 2),
    ("Exclusion", "ECOG performance status ≥ 3", "max_ecog", 2),
    ("Inclusion", "ECOG ≤ 1", "max_ecog", 1),
    ("Inclusion", "Serum creatinine ≤ 2 mg/dL", "min_creatinine_clearance", None),
])
def test_numbers(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("section, item, required, excluded", [
    ("Inclusion", "Refractory to lenalidomide", ("lenalidomide",), ()),
    ("Exclusion", "Prior pomalidomide is not allowed", (), ("pomalidomide",)),
    ("Inclusion", "Prior exposure to an anti-CD38 antibody such as daratumumab", (), ()),
    ("Inclusion", "Prior treatment with an anti-CD38 monoclonal antibody (daratumumab or isatuximab)", (), ()),
    ("Exclusion", "Received bortezomib within 14 days before the first dose", (), ()),
    ("Exclusion", "Known hypersensitivity to lenalidomide", (), ()),
])
def test_named_drugs(section, item, required, excluded):
    got = read(section, item)
    assert (tuple(got["required_drugs"].value), tuple(got["excluded_drugs"].value)) == (required, excluded)


@pytest.mark.parametrize("section, item, lo, hi", [
    ("Exclusion", "More than 3 prior lines of therapy", None, 3),
    ("Exclusion", "Fewer than 2 prior lines of therapy", 2, None),
    ("Inclusion", "Treated with at least one, but less than 4 lines of therapy", 1, 3),
    ("Inclusion", "Relapse or progression of myeloma following prior systemic therapy", 1, None),
    ("Inclusion", "Must not have been previously treated for myeloma", None, None),
])
def test_exclusions_invert_line_counts_and_relapse_after_therapy_means_one_line(section, item, lo, hi):
    got = read(section, item)
    assert (got["min_prior_lines"].value, got["max_prior_lines"].value) == (lo, hi)


@pytest.mark.parametrize("section, item, key, value", [
    ("Exclusion", "Prior allogeneic stem cell transplant with active graft-versus-host disease",
     "prior_allogeneic_transplant", "allowed"),
    ("Inclusion", "Adequate organ function to undergo a stem cell transplant", "prior_autologous_transplant",
     "not_mentioned"),
    ("Exclusion", "Prior systemic therapy or SCT for myeloma, with the exception of a short course of "
                  "corticosteroids 30 days before treatment", "prior_autologous_transplant", "excluded"),
])
def test_transplant_wordings(section, item, key, value):
    assert read(section, item)[key].value == value


# ---------------------------------------------------------------------------------------
# Shapes from the tuned half's misses (sentences quoted from the records named)
# ---------------------------------------------------------------------------------------
def test_a_stated_count_beats_the_line_implied_by_relapse():
    # NCT02519452: the relapse definition implies one line, the next item states two
    got = read("Inclusion",
               "Relapsed or refractory disease. Relapse is defined as progression of disease after an initial "
               "response to previous treatment, more than 60 days after cessation of treatment.",
               "Prior treatment with at least 2 treatment lines of anti-myeloma therapy.")
    assert got["min_prior_lines"].value == 2
    assert "at least 2" in got["min_prior_lines"].sentence


@pytest.mark.parametrize("item", [
    "Documented response of at least partial response (PR) to 1 line of prior therapy",  # NCT02412878
    "Patients must have relapsed after having achieved at least stable disease for at least one cycle of "
    "treatment to at least one prior regimen and then developed PD.",  # NCT00833833
])
def test_the_regimen_a_response_was_to_is_not_a_count(item):
    got = read("Inclusion", "Patients must have received at least 2 prior therapies.", item)
    assert got["min_prior_lines"].value == 2


@pytest.mark.parametrize("section, item, lo, hi", [
    # NCT00334932: a counting definition, then a count over a list of regimens
    ("Inclusion", "Mobilization with chemotherapy followed by either single or tandem autologous stem cell "
                  "transplantation (considered 1 prior regimen)", None, None),
    ("Inclusion", "Must have received ≥ 2 of the following therapeutic regimens for multiple myeloma:", 2, None),
    # NCT02716805: the definition in the parenthesis does not void the count before it
    ("Inclusion", "Four or less prior lines of systemic therapy for multiple myeloma (induction, first ASCT, "
                  "consolidation, and maintenance were considered 1 line of therapy unless treatment was modified due "
                  "to progression of disease)", None, 4),
    # NCT00306813: a negated verb makes "more than 3" a ceiling
    ("Inclusion", "Subjects must have not have recieved more than 3 previous anti-myeloma regimens", None, 3),
    # NCT00378105, NCT00305812 (a legacy text without headings)
    ("Inclusion", "Must not have been previously treated with any prior systemic therapy for the treatment of "
                  "multiple myeloma", None, 0),
    ("Other", "No prior chemotherapy or corticosteroids for the treatment of multiple myeloma", None, 0),
])
def test_line_count_wordings(section, item, lo, hi):
    got = read(section, item)
    assert (got["min_prior_lines"].value, got["max_prior_lines"].value) == (lo, hi)


@pytest.mark.parametrize("section, item, value", [
    # NCT02215980, NCT00113919: studies for impaired kidneys set a ceiling, not a floor
    ("Inclusion", "calculated or measured creatinine clearance: <30 mL/minute", None),
    ("Inclusion", "Patients must be > or = 65 years of age or diagnosed with renal insufficiency, defined as "
                  "having a creatinine > 3 mg/dl or a creatinine clearance < 30 ml/minute", None),
    # NCT01985477 (misspelt)
    ("Inclusion", "Serum creatinine </= 2.5 mg/dl OR Creatine clearance > 30 ml/min", 30),
])
def test_creatinine_clearance_ceilings_and_spellings(section, item, value):
    assert read(section, item)["min_creatinine_clearance"].value == value


@pytest.mark.parametrize("section, item, key", [
    ("Inclusion", "Patients with BCMA+ myeloma who received ≥ 1 line of chemoradiotherapy or tumor relapsed",
     "prior_bcma"),  # NCT03559764: what the myeloma cells carry, not a therapy
    ("Exclusion", "Patients who were discontinued from BMT CTN 0702 lenalidomide maintenance therapy, for any "
                  "reason, prior to the completion of the 3 years of 0702 maintenance.",
     "prior_autologous_transplant"),  # NCT02322320: BMT CTN is a trials network
])
def test_names_that_are_no_therapy(section, item, key):
    assert read(section, item)[key].value == "not_mentioned"


def test_alternatives_after_a_comma_are_read_each_for_its_own_therapy():
    # NCT02076009: a window for one kind, a ban at any time for the other, and a plan that is no history
    got = read("Exclusion", "Has received autologous stem cell transplantation within 12 weeks before the date of "
                            "randomization, or previously received an allogenic stem cell transplant (regardless of "
                            "timing), or planning to undergo a stem cell transplant prior to progression of disease")
    assert got["prior_autologous_transplant"].value == "allowed"
    assert "12 weeks" in got["prior_autologous_transplant"].condition
    assert got["prior_allogeneic_transplant"].value == "excluded"


@pytest.mark.parametrize("section, item, value", [
    # NCT02189343: one path among candidacy wordings
    ("Inclusion", "Must not be a candidate for autologous stem cell transplant (ASCT), have declined the option of "
                  "ASCT, or have relapsed after prior ASCT.", "allowed"),
    # NCT07772024: "recent" is a window
    ("Exclusion", "A recent stem cell transplant, or ongoing transplant-related problems such as graft-versus-host "
                  "disease", "allowed"),
    # NCT00532389: a definition of what a line may hold
    ("Inclusion", "One prior line of therapy may consist of induction followed by autologous stem cell "
                  "transplantation.", "allowed"),
])
def test_autologous_transplant_wordings(section, item, value):
    assert read(section, item)["prior_autologous_transplant"].value == value


def test_a_transplant_of_unnamed_kind_yields_to_a_sentence_naming_the_kind():
    # NCT00049673 (a legacy text without headings)
    got = eligibility_flags("Received transplantation within 1 year of the beginning of initial chemotherapy for "
                            "multiple myeloma\n\nNo prior double autologous or allogeneic hematopoietic stem cell "
                            "transplantation\n")
    assert got["prior_allogeneic_transplant"].value == "excluded"


def test_have_used_is_a_history():
    # NCT03473496
    got = read("Exclusion", "The monoclonal antibodies of BCMA or CD38 are invalid for the patients who have used "
                            "the drug.")
    assert (got["prior_bcma"].value, got["prior_anti_cd38"].value) == ("excluded", "excluded")


@pytest.mark.parametrize("section, item, required, excluded", [
    # NCT00229203, NCT00306813: a brand, and a dose ceiling that bans no drug
    ("Exclusion", "Prior therapy with Aplidin®.", (), ("plitidepsin",)),
    ("Exclusion", "Previous treatment with doxorubicin at cumulative doses in excess of 400 mg/m².", (), ()),
    ("Exclusion", "Subjects who have received > 300 mg/m2 lifetime cumulative dose of doxorubicin alone, or Doxil® "
                  "alone, or doxorubicin plus Doxil®.", (), ()),
    # NCT02716805: a drug the vocabulary lacked
    ("Exclusion", "Prior exposure to tremelimumab or durvalumab", (), ("tremelimumab", "durvalumab")),
    # NCT01177683, NCT02100657: any one of several will do, none is demanded
    ("Inclusion", "Must have received at least one (1) prior line of systemic treatment that has included either "
                  "lenalidomide or thalidomide.", (), ()),
    ("Inclusion", "Patients must have received at least one previous treatment line of induction, chemotherapy, "
                  "chemotherapy and transplantation or previous treatment with bortezomib or another proteasome "
                  "drug", (), ()),
    # NCT02497378: an open parenthesis defining refractoriness; NCT00431990: "will be included, if"
    ("Exclusion", "Is refractory to VELCADE or another PI, like ixazomib and carfilzomib (had progression of "
                  "disease while receiving VELCADE therapy or within 60 days of ending VELCADE therapy", (),
     ("bortezomib",)),
    ("Inclusion", "Patient previously treated with bortezomib will be included in the study, if the duration of "
                  "response was >6mths from the completion of therapy.", (), ()),
    # NCT00603447: the exposure is the condition of what follows
    ("Exclusion", "If previously treated with lenalidomide or bortezomib, the subject must not have progressed "
                  "during the first 3 months of treatment with the drug", (), ()),
    # NCT03934684: the study's own arm; NCT07772024: a class named by one of its drugs
    ("Inclusion", "Adequate renal function within 28 days prior to enrollment: calculated or measured creatinine "
                  "clearance (CrCl) of ≥ 50 mL/min for subjects receiving KRd", (), ()),
    ("Exclusion", "Previous treatment with a medicine that works in the same way as inobrodib (a p300/CBP "
                  "bromodomain inhibitor)", (), ()),
])
def test_named_drug_wordings(section, item, required, excluded):
    got = read(section, item)
    assert (set(got["required_drugs"].value), set(got["excluded_drugs"].value)) == (set(required), set(excluded))


def test_legacy_items_run_together_are_split_at_a_capitalised_no():
    # NCT00004239: "No prior 506U78" (nelarabine) sits mid-paragraph in a legacy text
    got = eligibility_flags("PRIOR CONCURRENT THERAPY: Chemotherapy: At least 4 weeks since prior chemotherapy\n"
                            "(6 weeks for melphalan, carmustine, or mitomycin) At least 72 hours since prior\n"
                            "hydroxyurea No prior 506U78 No other concurrent chemotherapy\n")
    assert got["excluded_drugs"].value == ("nelarabine",)


@pytest.mark.parametrize("item", [  # hand-made, in the wording of maintenance studies
    "Patients must be within 100 days following autologous stem cell transplantation",
    "Day 60 to 120 post-ASCT",
])
def test_following_and_post_transplant_are_histories(item):
    assert read("Inclusion", item)["prior_autologous_transplant"].value == "required"


@pytest.mark.parametrize("section, item, key, value", [  # hand-made, in common wordings
    ("Inclusion", "Allogeneic stem cell transplant recipients are eligible if they are off immunosuppressive therapy",
     "prior_allogeneic_transplant", "allowed"),
    # a relative clause after "or" is an alternative of its own: the candidacy does not void the history
    ("Exclusion", "Patients who have received prior allogeneic stem cell transplant or who are candidates for "
                  "allogeneic transplant", "prior_allogeneic_transplant", "excluded"),
    # an "or" inside a parenthesis offers no other path
    ("Inclusion", "Must have received an autologous stem-cell transplant (single or tandem) within 12 months of "
                  "starting induction", "prior_autologous_transplant", "required"),
])
def test_more_transplant_wordings(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("item, lo, hi", [  # hand-made, in common wordings
    ("Had 1, 2 or 3 prior lines of therapy", 1, 3),
    ("Subjects must have had ≥ 1 but ≤ 3 prior lines of therapy", 1, 3),
    ("At least 1 prior line of therapy and no more than 3", 1, 3),
    ("Patients must have received at least three prior lines of therapy (induction with or without ASCT and "
     "maintenance is considered one line)", 3, None),
    ("Patients in first or second relapse", 1, 2),
    ("In first relapse", 1, 1),
    ("Relapse beyond first relapse after at least 2 prior lines", 2, None),
])
def test_more_line_count_wordings(item, lo, hi):
    got = read("Inclusion", item)
    assert (got["min_prior_lines"].value, got["max_prior_lines"].value) == (lo, hi)


@pytest.mark.parametrize("item, key, value", [  # hand-made: refractoriness written into the disease's name
    ("Lenalidomide-refractory disease", "required_drugs", ("lenalidomide",)),
    ("Triple-class refractory multiple myeloma", "triple_class", "required"),
])
def test_refractoriness_named_with_the_disease(item, key, value):
    assert read("Inclusion", item)[key].value == value


@pytest.mark.parametrize("section, item", [  # hand-made
    ("Exclusion", "Prior solid organ transplantation or organ allograft"),  # an organ, not stem cells
    ("Inclusion", "Transplant-eligible patients who have received induction therapy"),  # a candidacy
])
def test_no_stem_cell_transplant_history(section, item):
    got = read(section, item)
    assert (got["prior_autologous_transplant"].value, got["prior_allogeneic_transplant"].value) == (
        "not_mentioned", "not_mentioned")


@pytest.mark.parametrize("section, item, hi", [  # hand-made, in the wording of newly-diagnosed studies
    ("Inclusion", "Have not received any prior anti-myeloma treatment", 0),
    ("Inclusion", "Untreated multiple myeloma", 0),
    ("Inclusion", "Subjects must be treatment naive", 0),
    ("Exclusion", "Prior or concurrent treatment for myeloma", 0),
    ("Exclusion", "Previous chemotherapy for myeloma", 0),
    ("Inclusion", "No prior chemotherapy for this disease", 0),
    ("Inclusion", "No prior systemic therapy for their disease", 0),
    ("Inclusion", "Have not received prior treatment with daratumumab", None),  # one drug, not all therapy
])
def test_no_prior_therapy_wordings(section, item, hi):
    assert read(section, item)["max_prior_lines"].value == hi


@pytest.mark.parametrize("item, key, value", [  # hand-made
    ("At most one prior autologous stem cell transplant", "prior_autologous_transplant", "allowed"),  # a cap lets one in
    # a cap on lines is no cap on the transplant
    ("No more than 2 prior regimens, and must have received an autologous stem cell transplant",
     "prior_autologous_transplant", "required"),
])
def test_a_cap_on_the_therapy_itself_permits_it(item, key, value):
    assert read("Inclusion", item)[key].value == value


@pytest.mark.parametrize("item, lo", [  # hand-made
    ("Refractory to the most recent line of therapy", 1),
    ("Documented disease progression during or after their most recent anti-myeloma therapy", 1),
    ("Third-line or later", 2),
])
def test_the_rank_of_the_line_and_the_most_recent_therapy(item, lo):
    assert read("Inclusion", item)["min_prior_lines"].value == lo


@pytest.mark.parametrize("section, item, key", [  # real sentences (tuned records of eligibility-tuned-5.json)
    ("Exclusion", "Autologous stem cell transplant if < 12 weeks from enrollment.",  # NCT03227432
     "prior_autologous_transplant"),
    ("Exclusion", "Autologous stem-cell transplant in the previous six months.", "prior_autologous_transplant"),  # NCT02114502
    # NCT03502577: the study's leukapheresis dates a past transplant; it does not make the sentence a plan
    ("Exclusion", "Allogeneic hematopoietic stem cell transplantation (HSCT) or donor lymphocyte infusion within 90 days "
                  "of leukapheresis", "prior_allogeneic_transplant"),
])
def test_a_time_window_without_prior_is_only_a_wait(section, item, key):
    reading = read(section, item)[key]
    assert reading.value == "allowed" and reading.sentence


def test_a_permission_speaks_of_history_without_prior():
    # NCT02917941
    r = read("Inclusion", "Autologous and allogenic transplants are permitted.")
    assert r["prior_autologous_transplant"].value == r["prior_allogeneic_transplant"].value == "allowed"


@pytest.mark.parametrize("item, key, value", [  # real sentences (eligibility-tuned-5.json)
    # NCT02114502: the older '>/=' spelling of ≥
    ("Adequate renal function, as defined by serum creatinine </=1.8 mg/dL and/or estimated serum creatinine "
     "clearance >/=50 ml/min.", "min_creatinine_clearance", 50),
    # NCT01019174: 'equal to or less than 2' is ≤ 2, and 'Appendix I' is no score
    ("ECOG performance status equal to or less than 2 at time of randomization/registration (see Appendix I).",
     "max_ecog", 2),
])
def test_older_spellings_of_a_limit(item, key, value):
    assert read("Inclusion", item)[key].value == value


@pytest.mark.parametrize("item, key, value", [  # hand-made, in the wording of real records
    ("Eastern Cooperative Oncology Group (ECOG) performance status of 0, 1, 2 or 3", "max_ecog", 3),
    ("ECOG performance status no greater than 2", "max_ecog", 2),
    ("ECOG performance status of up to 1", "max_ecog", 1),
    ("ECOG performance status of zero to two", "max_ecog", 2),
    ("Patients must have a clearly detectable and quantifiable monoclonal M-component", "measurable_disease", "required"),
    ("Creatinine clearance no less than 30 mL/min", "min_creatinine_clearance", 30),
    ("Creatinine clearance of not more than 30 mL/min", "min_creatinine_clearance", None),  # a study for weak kidneys
])
def test_limits_said_in_words_and_longer_lists(item, key, value):
    assert read("Inclusion", item)[key].value == value


def test_a_myeloma_study_that_also_takes_plasma_cell_leukaemia_allows_it():
    # NCT01435720: myeloma and PCL are both enrolled, so PCL is allowed, not demanded of everyone
    both = read("Inclusion", "Diagnosis of multiple myeloma or plasma cell leukemia per the criteria below.",
                "Plasma cell leukemia (PCL) patients must have peripheral clonal plasma cells >20% of peripheral WBC "
                "and >2 x 109/L.")
    assert both["plasma_cell_leukemia"].value == "allowed"
    # a study of plasma cell leukaemia alone still demands it
    only = read("Inclusion", "Plasma cell leukemia (PCL) patients must have peripheral clonal plasma cells >20% of "
                             "peripheral WBC and >2 x 109/L.")
    assert only["plasma_cell_leukemia"].value == "required"


@pytest.mark.parametrize("section, item, value", [  # hand-made, in the wording of older myeloma records
    ("Exclusion", "Prior high-dose chemotherapy", "excluded"),
    ("Inclusion", "Relapse after high dose therapy (HDT) or conventional chemotherapy", "allowed"),
    ("Inclusion", "Must have received an autologous PBSCT", "required"),
    ("Exclusion", "No prior HDCT within 3 months", "allowed"),
])
def test_high_dose_chemotherapy_is_an_autologous_transplant(section, item, value):
    # in myeloma, high-dose (melphalan) chemotherapy is the conditioning of an autologous transplant
    assert read(section, item)["prior_autologous_transplant"].value == value


def test_high_dose_steroids_are_no_transplant():
    got = read("Exclusion", "Prior high-dose dexamethasone within 14 days")
    assert got["prior_autologous_transplant"].value == "not_mentioned"


@pytest.mark.parametrize("section, item, key, names", [  # hand-made
    # "regimen" holds the letters of "eg": the drug after it is no example
    ("Inclusion", "The induction regimen must not have contained melphalan", "excluded_drugs", ("melphalan",)),
    ("Inclusion", "Myeloma that has stopped responding to pomalidomide", "required_drugs", ("pomalidomide",)),
    ("Exclusion", "Disease that is no longer responding to lenalidomide", "excluded_drugs", ("lenalidomide",)),
    # a parenthesis with a verdict of its own speaks for the drugs it names
    ("Inclusion", "Relapsed myeloma after two or more regimens (previous bortezomib is allowed)", "required_drugs", ()),
    ("Inclusion", "No more than 4 prior regimens (as long as one contained thalidomide)", "required_drugs", ()),
    ("Inclusion", "Prior regimens may have included bortezomib and/or lenalidomide", "required_drugs", ()),
])
def test_named_drug_wordings(section, item, key, names):
    assert read(section, item)[key].value == names


def test_past_treatment_is_a_history():
    got = read("Inclusion", "Active myeloma despite past treatment with autologous stem cell transplantation")
    assert got["prior_autologous_transplant"].value == "required"


@pytest.mark.parametrize("section, item", [  # hand-made: a definition of what counts as a line permits the therapy
    ("Other", "Induction followed by autologous stem cell transplantation (considered one prior regimen)"),
    ("Inclusion", "Prior chemotherapy followed by an allogeneic transplant is considered as 1 line of therapy"),
])
def test_a_counting_definition_permits_the_transplant(section, item):
    got = read(section, item)
    assert "allowed" in (got["prior_autologous_transplant"].value, got["prior_allogeneic_transplant"].value)
    assert "required" not in (got["prior_autologous_transplant"].value, got["prior_allogeneic_transplant"].value)


@pytest.mark.parametrize("items", [  # hand-made: an inclusion item that is one of several paths
    ("Relapsed myeloma, defined as one or more of the following: progression within 12 months of induction; "
     "relapse after a prior autologous stem cell transplant",),
    ("Relapsed or refractory myeloma, either:", "After autologous stem cell transplantation",
     "Or, if the patient has not undergone ASCT, be transplant-ineligible"),
    ("Relapse after autologous stem cell transplant; or", "Relapse after at least 2 prior lines of therapy"),
])
def test_one_of_several_paths_allows_the_transplant(items):
    assert read("Inclusion", *items)["prior_autologous_transplant"].value == "allowed"


def test_a_transplant_demanded_of_everyone_stays_required():
    got = read("Inclusion", "Relapse after autologous stem cell transplant", "Either sex, aged 18 or older")
    assert got["prior_autologous_transplant"].value == "required"


@pytest.mark.parametrize("item", [  # hand-made: a history or a candidacy, either will do
    "Patients must have failed or be ineligible for high-dose therapy with autologous stem cell transplant",
    "Ineligible for or relapsed after autologous stem cell transplantation",
])
def test_relapsed_after_or_ineligible_for_transplant_allows_it(item):
    assert read("Inclusion", item)["prior_autologous_transplant"].value == "allowed"


def test_ineligible_for_transplant_alone_says_nothing_of_a_history():
    assert read("Inclusion", "Ineligible for autologous stem cell transplantation")[
        "prior_autologous_transplant"].value == "not_mentioned"


@pytest.mark.parametrize("item, drugs", [  # hand-made: progression on, or exposure to, named drugs
    ("Myeloma with serologic progression while on lenalidomide maintenance", ("lenalidomide",)),
    ("Progression or non response on Revlimid or within 60 days of stopping it", ("lenalidomide",)),
    ("Relapsed myeloma needing treatment following exposure to thalidomide and bortezomib regardless of response "
     "to these", ("thalidomide", "bortezomib")),
])
def test_progression_on_or_exposure_to_a_drug_demands_it(item, drugs):
    assert set(read("Inclusion", item)["required_drugs"].value) == set(drugs)


def test_regardless_of_a_prior_drug_still_permits_it():
    assert read("Inclusion", "Relapsed myeloma, regardless of prior lenalidomide exposure")[
        "required_drugs"].value == ()


@pytest.mark.parametrize("item", [  # hand-made: a treatment history without a count
    "Progressive myeloma that progressed while receiving carfilzomib",
    "First relapse-demanding treatment after high-dose therapy",
    "Patients must have received previous treatment with bortezomib",
    "Relapsed myeloma now requiring treatment following exposure to an immunomodulatory drug",
])
def test_a_treatment_history_without_a_count_means_one_prior_line(item):
    got = read("Inclusion", item)["min_prior_lines"]
    assert got.value == 1 and got.sentence


@pytest.mark.parametrize("item", [
    "Newly diagnosed myeloma, not previously treated with any systemic therapy",
    "Lymphoma patients previously treated with rituximab",
    "Signed consent given prior to any study procedure",
])
def test_no_treatment_history_or_another_disease_gives_no_minimum(item):
    assert read("Inclusion", item)["min_prior_lines"].value is None


@pytest.mark.parametrize("item", [  # hand-made: a relapsed or refractory population, no count
    "Diagnosis of relapsed/refractory multiple myeloma",
    "Relapsed or refractory disease after any number of regimens is eligible if measurable",  # permission below
    "Confirmed multiple myeloma that is relapsed and/or refractory",  # the disease named first
    "Disease which has relapsed, as defined by IMWG criteria",
    "Documented RRMM",  # the abbreviations
    "Patients with R/R MM",
])
def test_a_relapsed_population_means_one_prior_line(item):
    got = read("Inclusion", item)["min_prior_lines"].value
    assert got == (None if "eligible" in item else 1)


def test_a_study_that_also_takes_untreated_people_has_no_implied_minimum():
    got = read("Inclusion", "Relapsed or refractory multiple myeloma (cohort A)",
               "Newly diagnosed multiple myeloma, not a transplant candidate (cohort B)")
    assert got["min_prior_lines"].value is None


@pytest.mark.parametrize("section, item", [  # hand-made: no treatment for myeloma before
    ("Exclusion", "Previous treatment for smoldering multiple myeloma"),
    ("Exclusion", "Any prior therapy for symptomatic or smoldering multiple myeloma"),
    ("Inclusion", "Newly diagnosed, and must not have received prior treatment directed to multiple myeloma"),
])
def test_no_treatment_for_myeloma_before_means_no_prior_line(section, item):
    assert read(section, item)["max_prior_lines"].value == 0


@pytest.mark.parametrize("item", [
    "Prior therapy for myeloma within 14 days of the first dose",
    "Within 5 half-lives of previous therapy for smoldering myeloma at the start of this trial",
])
def test_a_wash_out_after_therapy_for_myeloma_sets_no_maximum(item):
    assert read("Exclusion", item)["max_prior_lines"].value is None


@pytest.mark.parametrize("item", [
    "Known or clinically suspected myeloma manifestations in the central nervous system",
    "Disease involving the central nervous system",
])
def test_myeloma_in_the_central_nervous_system_is_excluded(item):
    assert read("Exclusion", item)["cns_involvement"].value == "excluded"


def test_an_unnamed_transplant_within_a_first_line_is_not_a_donor_transplant():
    got = read("Inclusion", "Relapsed after at least 2 prior regimens (induction therapy and stem cell transplant "
                            "followed by maintenance count as one regimen)")
    assert got["prior_allogeneic_transplant"].value == "not_mentioned"
    assert got["prior_autologous_transplant"].value != "not_mentioned"


def test_an_unnamed_transplant_alone_still_speaks_for_both_kinds():
    got = read("Exclusion", "Prior stem cell transplantation")
    assert got["prior_allogeneic_transplant"].value == got["prior_autologous_transplant"].value == "excluded"


@pytest.mark.parametrize("item, drugs", [  # hand-made, in the wording of real records
    ("Subjects must have had at least 1 prior antimyeloma regimen including lenalidomide", {"lenalidomide"}),
    ("At least 2 prior lines of therapy including lenalidomide and a proteasome inhibitor", {"lenalidomide"}),
    ("At least 2 prior lines of therapy including an anti-CD38 antibody such as daratumumab", set()),  # an example
    ("Treated with first-line therapy including lenalidomide, bortezomib or thalidomide", set()),  # any one will do
    ("Refractory to lenalidomide or pomalidomide", set()),
    ("Prior treatment with both lenalidomide and bortezomib (either separately or in combination)",
     {"lenalidomide", "bortezomib"}),
])
def test_what_a_regimen_held_is_demanded_and_alternatives_are_not(item, drugs):
    assert set(read("Inclusion", item)["required_drugs"].value) == drugs


def test_a_contraception_rule_naming_the_study_drug_is_no_history():
    got = read("Inclusion", "Contraception must begin 4 weeks prior to dosing and must continue for 3 months after the "
                            "last dose of daratumumab")  # hand-made, as daratumumab studies word it
    assert got["prior_anti_cd38"].value == "not_mentioned"
    assert read("Exclusion", "Prior daratumumab")["prior_anti_cd38"].value == "excluded"


def test_the_drug_the_study_starts_with_is_no_history():
    got = read("Exclusion", "Subject had a prior autologous stem cell transplant ≤ 3 month prior to starting "
                            "CC-93269")  # hand-made; CC-93269 is the study's BCMA bispecific
    assert got["prior_bispecific"].value == "not_mentioned" and got["prior_bcma"].value == "not_mentioned"
    assert got["prior_autologous_transplant"].value == "allowed"


PDQ = ("DISEASE CHARACTERISTICS: Histologically confirmed multiple myeloma {disease}\n\n"  # the legacy PDQ layout
       "PRIOR CONCURRENT THERAPY: Chemotherapy: At least 1 but no more than 3 prior chemotherapy regimens Induction "
       "followed by high dose therapy with stem cell support considered a single treatment regimen Tandem courses of "
       "high dose therapy considered as 2 regimens Endocrine therapy: At least 1 prior regimen containing steroids")


def test_the_run_together_items_of_the_legacy_layout_are_read_one_by_one():
    got = eligibility_flags(PDQ.format(disease="with an elevated monoclonal protein in serum and/or urine"))
    assert (got["min_prior_lines"].value, got["max_prior_lines"].value) == (1, 3)
    assert got["measurable_disease"].value == "required"


@pytest.mark.parametrize("disease, lo", [
    ("that is recurrent or persistent at least 6 months after allogeneic transplantation", 1),
    ("Failed prior conventional therapy", 1),
    ("that has failed standard therapy or for which no standard therapy exists", None),  # untreated people too
])
def test_histories_stated_under_the_legacy_disease_heading(disease, lo):
    text = f"DISEASE CHARACTERISTICS: Histologically confirmed multiple myeloma {disease}"
    assert eligibility_flags(text)["min_prior_lines"].value == lo


@pytest.mark.parametrize("item", [
    "Concurrent palliative radiotherapy allowed if evidence of other evaluable disease",  # the permission's condition
    "Measurable serum M-component at initial diagnosis",  # how the disease was first diagnosed
])
def test_measurable_words_that_demand_nothing_now(item):
    assert read("Inclusion", item)["measurable_disease"].value == "not_mentioned"


@pytest.mark.parametrize("section, item, key, value", [  # hand-made, in the wording of real records
    ("Exclusion", "Evidence of myeloma within the CNS", "cns_involvement", "excluded"),
    ("Inclusion", "Previously untreated", "max_prior_lines", 0),  # the whole item
    ("Inclusion", "Patients that were on carfilzomib-containing regimens must have received at least 6 doses",
     "required_drugs", ()),  # a rule for those who had it
    ("Inclusion", "No more than 3 prior regimens and 4 weeks out of bortezomib", "required_drugs", ()),  # a wait
    ("Inclusion", "Progressive myeloma that progressed while receiving bortezomib or carfilzomib", "min_prior_lines", 1),
])
def test_more_wordings_of_real_records(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("section, item, key, value", [  # hand-made, in the wording of real records
    ("Inclusion", "Refractory myeloma: progressive disease despite up to 3 courses of prior chemotherapy", "min_prior_lines", 1),
    ("Inclusion", "Patient experienced PD during or after treatment with high-dose dexamethasone", "min_prior_lines", 1),
    ("Inclusion", "Previously untreated with chemotherapy", "max_prior_lines", 0),
    ("Inclusion", "Melphalan or BCNU - 6 weeks prior to first dose", "required_drugs", ()),  # a wait
    ("Exclusion", "Daratumumab within 4 weeks prior to the first dose", "prior_anti_cd38", "allowed"),  # a window
])
def test_wordings_of_older_records(section, item, key, value):
    assert read(section, item)[key].value == value


def test_a_barred_smouldering_myeloma_takes_no_untreated_people():
    text = ("DISEASE CHARACTERISTICS: Refractory myeloma after prior chemotherapy No smoldering myeloma")  # legacy layout
    assert eligibility_flags(text)["min_prior_lines"].value == 1


@pytest.mark.parametrize("section, item, key, value", [  # hand-made, in the wording of records of 2015-2016
    ("Exclusion", "Myeloma treatment prior to entry in the study, except radiotherapy, bisphosphonates/denosumab or "
                  "corticosteroids for symptom control", "max_prior_lines", 0),
    ("Exclusion", "Myeloma treatment prior to entry in the study, except radiotherapy, bisphosphonates/denosumab or "
                  "corticosteroids for symptom control", "excluded_drugs", ()),  # the exception runs over its list
    ("Exclusion", "Prior therapy other than dexamethasone, and prior daratumumab", "excluded_drugs", ("daratumumab",)),
    ("Inclusion", "Disease progression from immediately prior MM therapy", "min_prior_lines", 1),
    ("Exclusion", "Active MM involving the central nervous system", "cns_involvement", "excluded"),
])
def test_wordings_of_recent_legacy_records(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("section, item, key", [  # hand-made, in the wording of real records
    ("Inclusion", "Signed informed consent (may be obtained any time prior to admission for cytoxan)", "required_drugs"),
    ("Exclusion", "Patients who have received mid-intensity melphalan (>50 mg IV) as part of prior therapy",
     "excluded_drugs"),  # a ban above a dose, not on the drug
])
def test_a_consent_or_a_dose_names_no_drug_history(section, item, key):
    assert read(section, item)[key].value == ()


@pytest.mark.parametrize("section, item, key, value", [  # hand-made, in the wording of records of 2005-2006
    ("Inclusion", "Previously untreated patients", "max_prior_lines", 0),
    ("Inclusion", "Previously untreated or relapsed multiple myeloma patients", "max_prior_lines", None),  # both
    ("Exclusion", "Any prior use of CC-5013 or other anti-myeloma therapy", "max_prior_lines", 0),
    ("Exclusion", "World Health Organisation performance index of at least 3", "max_ecog", 2),
    ("Inclusion", "Patient can have received PS-341 (Velcade) previously", "required_drugs", ()),  # permits it
    ("Inclusion", "Must have completed high-dose melphalan and autologous stem cell transplantation",
     "prior_autologous_transplant", "required"),
])
def test_wordings_of_records_of_2005_and_2006(section, item, key, value):
    assert read(section, item)[key].value == value


@pytest.mark.parametrize("section, item, value", [
    ("Inclusion", "Relapse while on maintenance given as part of first line therapy (including upfront high-dose "
                  "chemotherapy followed by autologous stem cell transplantation)", "allowed"),  # what a line may hold
    ("Exclusion", "Prior anti-myeloma therapy (including autologous stem cell transplantation)", "excluded"),  # widens
])
def test_a_transplant_named_as_an_example_in_parentheses(section, item, value):
    assert read(section, item)["prior_autologous_transplant"].value == value
