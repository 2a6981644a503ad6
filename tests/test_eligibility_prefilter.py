"""The eligibility pre-filter (literals every therapy mention contains) never hides a real mention.

It only makes eligibility_flags fast; if it drifts from the therapy tables, flags silently go
missing. Every string the therapy patterns match must pass the pre-filter."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trials import criteria_flags as E
from trials.criteria import fold


@pytest.mark.parametrize("key", sorted(E._RX))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_string_a_therapy_pattern_matches_passes_the_prefilter(key, data):
    text = data.draw(st.from_regex(E._RX[key], fullmatch=False))
    if E._RX[key].search(text):
        assert E._names(key, text, fold(text)), (key, text)
