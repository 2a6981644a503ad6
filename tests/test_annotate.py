"""Staleness and ages: what the 'status not verified for over 12 months' badge and age filters rest on."""
import datetime as dt

import pytest

from trials.annotate import is_stale
from trials.model import Eligibility, Study, age_in_years

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize("verified, stale", [
    ("2026-09", False),
    ("2025-11", False),     # benefit of the doubt: November 2025 may mean the 30th
    ("2025-10", True),
    ("2025", False),         # a bare year counts as 31 December
    ("2024", True),
    ("2025-11-25", True),    # 366 days
    ("2025-11-26", False),   # exactly 365 days: not yet "over 12 months"
    ("2026-13", None),       # not a date: we can't tell, and don't claim either way
    ("", None),
])
def test_staleness_follows_the_status_verified_date(verified, stale):
    assert is_stale(Study(nct_id="NCT00000001", status_verified=verified), TODAY) is stale


def test_a_missing_verified_date_falls_back_to_the_last_update():
    assert is_stale(Study(last_update_posted="2026-08-01"), TODAY) is False


@pytest.mark.parametrize("text, years", [
    ("18 Years", 18.0), ("6 Months", 0.5), ("1 Year", 1.0), ("nan Years", None), ("inf Years", None),
    ("18", None), ("", None), ("eighteen Years", None),
])
def test_ages_in_the_apis_format_only(text, years):
    assert age_in_years(text) == years


def test_age_and_sex_admission():
    e = Eligibility(minimum_age="18 Years", maximum_age="75 Years", sex="FEMALE")
    assert e.admits_age(18) and e.admits_age(75) and not e.admits_age(76)
    assert e.admits_sex("FEMALE") and not e.admits_sex("MALE")
    assert Eligibility().admits_age(5) and Eligibility().admits_sex("MALE")
