"""The design reader's substring test never hides a fact: every text its regex finds holds one of the rule's
literals (checked on text generated from each regex and on arbitrary text)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trials.design import RULES, _could_match


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_match_of_a_rule_holds_one_of_its_literals(rule):
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(text=st.one_of(st.from_regex(rule.pattern, fullmatch=False), st.text(max_size=60)))
    def check(text):
        if rule.pattern.search(text):
            assert _could_match(rule, text, text.lower()), text

    check()


def test_a_sentence_without_the_literals_is_skipped():
    rule = next(r for r in RULES if r.key == "hospital_stay")
    assert not _could_match(rule, "Participants receive the study drug weekly.", "participants receive the study drug weekly.")
    assert _could_match(rule, "Hoſpitalized for step-up dosing", "hoſpitalized for step-up dosing")  # non-ASCII: the regex decides
