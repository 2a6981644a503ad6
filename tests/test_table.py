"""Per-trial and per-site frames from real records (the bundled snapshot): stable columns, real numbers."""
import datetime as dt
import math

import pandas as pd
import pytest

from trials.annotate import annotate_all
from trials.geo import locate
from trials.snapshot import load_snapshot
from trials.table import SITE_COLUMNS, TRIAL_COLUMNS, COLUMN_MEANINGS, coerce, sites_frame, trials_frame

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def snap():
    return load_snapshot()


@pytest.fixture(scope="module")
def boston():
    return locate("02115")


@pytest.fixture(scope="module")
def with_place(snap, boston):
    annotated = annotate_all(snap.studies, boston)
    return (trials_frame(annotated, data_as_of=snap.data_as_of, source="snapshot", place=boston, today=TODAY),
            sites_frame(annotated, data_as_of=snap.data_as_of, source="snapshot", place=boston))


def row(frame, nct):
    rows = frame[frame["nct_id"] == nct]
    assert len(rows) == 1, nct
    return rows.iloc[0]


def test_column_names_are_pinned():
    # Coordinators compare exports week to week: renaming or reordering a column breaks their sheets.
    assert TRIAL_COLUMNS == (
        "nct_id", "url", "title", "status", "phases", "setting", "myeloma_only", "family_ids", "families", "why",
        "sponsor", "conditions", "interventions", "randomized", "comparator",
        "first_in_human", "dose_escalation", "hospital_stay", "stay_near_centre",
        "min_age_years", "max_age_years", "sex",
        "searched_place", "nearest_site", "nearest_site_city", "nearest_site_state", "nearest_site_country",
        "distance_mi", "distance_basis", "nearest_site_contact_name", "nearest_site_contact_phone",
        "nearest_site_contact_email", "site_count", "recruiting_site_count",
        "central_contact_name", "central_contact_phone", "central_contact_email",
        "first_posted", "last_update_posted", "status_verified", "stale",
        "prior_car_t", "prior_bcma", "prior_bispecific", "prior_anti_cd38", "triple_class",
        "prior_gprc5d", "prior_autologous_transplant", "prior_allogeneic_transplant",
        "min_prior_lines", "max_prior_lines", "min_creatinine_clearance", "max_ecog",
        "cns_involvement", "plasma_cell_leukemia", "amyloidosis", "measurable_disease",
        "required_drugs", "excluded_drugs", "fit", "fit_reasons", "data_as_of", "source", "search")
    assert SITE_COLUMNS == (
        "nct_id", "url", "title", "status", "family_ids", "families", "last_update_posted",
        "facility", "city", "state", "zip", "country", "site_status", "distance_mi", "distance_basis",
        "site_contact_name", "site_contact_phone", "site_contact_email", "data_as_of", "source", "search")
    for col in TRIAL_COLUMNS + SITE_COLUMNS:
        assert col == col.lower() and " " not in col and COLUMN_MEANINGS[col]


def test_frames_have_exactly_the_columns_and_one_row_per_study(with_place, snap):
    trials, sites = with_place
    assert tuple(trials.columns) == TRIAL_COLUMNS and tuple(sites.columns) == SITE_COLUMNS
    assert list(trials["nct_id"]) == [s.nct_id for s in snap.studies]
    assert trials["nct_id"].is_unique


def test_numbers_are_numbers(with_place):
    trials, sites = with_place
    for col in ("distance_mi", "min_age_years", "max_age_years"):
        assert trials[col].dtype == "float64"
    for col in ("site_count", "recruiting_site_count", "min_prior_lines", "max_prior_lines"):
        assert str(trials[col].dtype) == "Int64"
    assert str(trials["randomized"].dtype) == "boolean" and str(trials["stale"].dtype) == "boolean"
    assert sites["distance_mi"].dtype == "float64"


def test_a_real_randomized_rrmm_study_row(with_place):
    r = row(with_place[0], "NCT07772024")  # inobrodib (InoPd) vs investigator's choice, 1 site in Miami
    assert r["url"] == "https://clinicaltrials.gov/study/NCT07772024"
    assert r["status"] == "RECRUITING" and r["phases"] == "PHASE3"
    assert r["setting"] == "Relapsed or refractory myeloma"
    assert r["randomized"] == True  # noqa: E712 (pandas boolean)
    assert r["comparator"].startswith("Investigator's choice of Standard Available Therapy")
    assert "appears only in the comparator arm" in r["why"]
    assert r["min_age_years"] == 18.0 and math.isnan(r["max_age_years"])
    assert r["nearest_site"] == "Regis Clinical Research" and r["nearest_site_city"] == "Miami"
    assert r["distance_mi"] == pytest.approx(1255.9, abs=0.05)
    assert r["searched_place"].startswith("02115")
    assert r["site_count"] == 1 and r["recruiting_site_count"] == 1
    assert r["central_contact_phone"] == "+44 1799 531130"  # raw here; neutralised only in files
    assert r["prior_anti_cd38"] == "required"
    assert (r["min_prior_lines"], r["max_prior_lines"]) == (1, 4)
    assert (r["first_posted"], r["last_update_posted"], r["status_verified"]) == ("2026-08-19", "2026-08-19", "2026-08")
    assert r["stale"] == False  # noqa: E712
    assert (r["data_as_of"], r["source"]) == ("2026-09-18", "snapshot")


def test_families_and_their_ids_line_up(with_place):
    r = row(with_place[0], "NCT07285239")
    ids, labels = r["family_ids"].split("; "), r["families"].split("; ")
    assert len(ids) == len(labels) and ids[:2] == ["proteasome_inhibitor", "anti_cd38"]
    assert labels[1] == "Anti-CD38 antibody"
    assert r["comparator"].startswith("Arm B (")  # the label's trailing ':' is dropped
    assert "Bortezomib" in r["comparator"] and "Drug:" not in r["comparator"]


def test_stale_means_status_not_verified_for_over_a_year(with_place, snap):
    trials = with_place[0]
    dated = trials[trials["status_verified"] != ""]
    old = dated[dated["status_verified"] < "2025-10"]
    assert len(old) and old["stale"].eq(True).all()
    recent = dated[dated["status_verified"] >= "2026-01"]
    assert len(recent) and recent["stale"].eq(False).all()
    # projected records carry no date at all: unknown, not "stale"
    undated = trials[(trials["status_verified"] == "") & (trials["last_update_posted"] == "")]
    assert len(undated) and undated["stale"].isna().all()


def test_without_a_place_there_is_no_nearest_site(snap):
    trials = trials_frame(annotate_all(snap.studies), data_as_of="x", source="snapshot", today=TODAY)
    assert (trials["nearest_site"] == "").all() and trials["distance_mi"].isna().all()
    assert (trials["searched_place"] == "").all()
    assert (trials["recruiting_site_count"] > 0).sum() == 5  # counts don't depend on a place


def test_site_rows_one_per_site_nearest_first_and_zip_as_text(with_place, snap):
    sites = with_place[1]
    for study in snap.studies:
        n = len(sites[sites["nct_id"] == study.nct_id])
        assert n == max(1, len(study.sites)), study.nct_id
    s = sites[sites["nct_id"] == "NCT07764978"]  # 124 sites
    distances = s["distance_mi"].dropna().tolist()
    assert distances == sorted(distances) and len(distances) > 1
    assert set(s["site_status"]) <= {"RECRUITING", "NOT_YET_RECRUITING", "WITHDRAWN", "TERMINATED", ""}
    g = sites[sites["nct_id"] == "NCT07285239"]  # Gundersen Lutheran lists a contact with phone and e-mail
    assert "savannah.shallue@emplifyhealth.org" in set(g["site_contact_email"])
    us = sites[sites["country"] == "United States"]
    assert us["zip"].str.len().eq(5).any() and us["zip"].map(type).eq(str).all()


def test_a_study_without_sites_keeps_one_row(with_place, snap):
    no_site = [s.nct_id for s in snap.studies if not s.sites]
    assert no_site
    r = row(with_place[1], no_site[0])
    assert r["facility"] == "" and r["site_status"] == "" and math.isnan(r["distance_mi"])


def test_an_empty_search_gives_typed_empty_frames():
    t = trials_frame([], data_as_of="", source="live")
    s = sites_frame([], data_as_of="", source="live")
    assert tuple(t.columns) == TRIAL_COLUMNS and len(t) == 0 and t["distance_mi"].dtype == "float64"
    assert tuple(s.columns) == SITE_COLUMNS and len(s) == 0


@pytest.mark.parametrize("col, value, words", [
    ("distance_mi", "12.0 mi", '"12.0 mi" is not a number'),
    ("min_prior_lines", "2.5", "expected whole numbers"),
    ("stale", "maybe", '"maybe" is not TRUE or FALSE'),
])
def test_coerce_names_the_column_and_value(col, value, words):
    with pytest.raises(ValueError, match=words) as info:
        coerce(pd.DataFrame({col: [value]}))
    assert col in str(info.value)


def test_distance_basis_says_how_each_distance_was_found(with_place, boston):
    from tests.helpers import without_coordinates
    from trials.model import Study

    trials, sites = with_place
    assert set(trials["distance_basis"]) <= {"", "site coordinates", "site ZIP", "site city", "distance unknown"}
    known = trials["distance_mi"].notna()
    assert (trials.loc[known, "distance_basis"] == "site coordinates").all()
    assert (trials.loc[~known & (trials["nearest_site"] != ""), "distance_basis"] == "distance unknown").all()
    # NCT07648264's real "Ostrova, Czechia" site has no coordinates and no city a list knows
    ostrova = sites[(sites["nct_id"] == "NCT07648264") & (sites["city"] == "Ostrova")].iloc[0]
    assert ostrova["distance_basis"] == "distance unknown" and math.isnan(ostrova["distance_mi"])
    # hand-made variants of NCT07772024 without the site's geoPoint (then without its ZIP too)
    for raw, basis in ((without_coordinates("NCT07772024"), "site ZIP"),
                       (without_coordinates("NCT07772024", keep_zip=False), "site city")):
        annotated = annotate_all([Study.from_api(raw)], boston)
        t = trials_frame(annotated, data_as_of="x", source="live", place=boston)
        s = sites_frame(annotated, data_as_of="x", source="live", place=boston)
        assert t.loc[0, "distance_basis"] == s.loc[0, "distance_basis"] == basis
        assert t.loc[0, "distance_mi"] == pytest.approx(1256, abs=15)  # Miami, as with the registry's point
    # without a searched place there is no distance, so no basis
    assert (sites_frame(annotate_all(load_snapshot().studies), data_as_of="x", source="live")["distance_basis"]
            == "").all()
