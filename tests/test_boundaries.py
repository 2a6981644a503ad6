"""Boundaries a user relies on, each pinned where a one-character change would move it:
a site exactly at the radius is inside, a record updated on the --updated-since day is kept,
an exclusion of patients "not refractory" to a drug requires refractoriness."""
import datetime as dt

import pytest

from trials import filters as F
from trials import view as V
from trials.annotate import annotate_all
from trials.eligibility import eligibility_flags
from trials.geo import Place, within_radius
from trials.query import TrialQuery, build_params
from trials.snapshot import load_snapshot, matches

MIAMI_STUDY = "NCT07772024"  # real record: recruiting, one recruiting site (Miami)


@pytest.fixture(scope="module")
def item():
    return next(a for a in annotate_all(load_snapshot().studies) if a.study.nct_id == MIAMI_STUDY)


def test_a_site_exactly_at_the_radius_is_inside_it(item):
    place = Place(25.0, -80.0, "a point near Miami", "United States")
    miles = V.nearest_open_site(item.study, place).miles
    inside = V.build_view([item], F.Filters(), place, miles)
    outside = V.build_view([item], F.Filters(), place, miles * 0.999)
    assert [r.study.nct_id for r in inside.rows] == [MIAMI_STUDY] and inside.hidden_distance == 0
    assert outside.rows == [] and outside.hidden_distance == 1
    assert within_radius(item.study, place, miles, recruiting_only=True)
    assert not within_radius(item.study, place, miles * 0.999, recruiting_only=True)


def test_a_record_updated_on_the_updated_since_day_is_kept(item):
    day = dt.date.fromisoformat(item.study.last_update_posted)
    assert matches(item.study, TrialQuery(statuses=(), updated_since=day))
    assert not matches(item.study, TrialQuery(statuses=(), updated_since=day + dt.timedelta(days=1)))
    # the API is asked from that same day on
    assert f"RANGE[{day.isoformat()},MAX]" in build_params(TrialQuery(updated_since=day))["filter.advanced"]


@pytest.mark.parametrize("section, value", [("Exclusion", "required"), ("Inclusion", "allowed")])
def test_not_refractory_to_a_drug(section, value):
    text = f"{section} Criteria:\n* Patients not refractory to daratumumab\n"
    flag = eligibility_flags(text)["prior_anti_cd38"]
    assert flag.value == value and "not refractory to daratumumab" in flag.sentence
