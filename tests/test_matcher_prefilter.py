"""The shared matcher's fast path never hides a match: a text without any of the guard literals skips the
case-sensitive pass, so every case-sensitive word of every vocabulary must contain one of them."""
import pytest

from trials.setting import _MATCHER as SETTING_MATCHER
from trials.vocabulary import DRUG_MATCHER, Matcher


@pytest.mark.parametrize("matcher", [DRUG_MATCHER, SETTING_MATCHER], ids=["drugs", "setting"])
def test_every_case_sensitive_word_holds_a_guard_literal(matcher):
    compiled = matcher._compiled
    if compiled.exact_guard is not None:
        assert all(any(lit in w for lit in compiled.exact_guard) for w in compiled.exact_values)


def test_a_guarded_case_sensitive_word_is_still_found():
    m = Matcher([("PCL", True, "pcl"), ("MGUS", True, "mgus"), ("myeloma", False, "mm")])
    assert m._compiled.exact_guard is not None
    text = "Smoldering myeloma or MGUS"
    assert [v for _, _, v in m.spans(text, text.lower())] == ["mm", "mgus"]
    assert m.spans("mgus", "mgus") == []  # case-sensitive: lower-case 'mgus' is another word
