"""The eligibility reader's fast paths never change what it reads.

`names_any_therapy` lets whole items that name no therapy skip the per-sentence work, and the
prior-line reader and the wording regexes of the therapy reading have lower-cased fast paths; if
any drifts from the slow path, readings go missing silently. All are checked here against the
slow path on generated sentences."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trials.criteria import fold
from trials.criteria_flags import (_CLASS_CS_RX, _CLASS_RX, _HISTORY_WORDS, _PRIOR_RX, _TWINS, _candidate_topics,
                                   _Folded, names_any_therapy, topics_in)
from trials.criteria_numbers import _AFTER_PRIOR_RX, _RELAPSED_DISEASE_RX, _UNTREATED_RX, AFTER_PRIOR_WORDS, UNTREATED_WORDS, _lines_in
from trials.vocabulary import DRUGS_BY_NAME

ALIASES = sorted(DRUGS_BY_NAME)
WORDS = st.sampled_from(["prior", "at least", "no more than", "but not more than", "2", "three", "1", "4,", "lines",
                         "regimens", "of", "therapy", "received", "Criteria", "Grade", "cycles", "≥", "≤", "or more",
                         "and", "between", "to", "-", "treatments", "previous", "refractory", "İ", "Ä", ","])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.text(max_size=30), alias=st.sampled_from(ALIASES), after=st.text(max_size=30))
def test_the_item_prefilter_never_hides_a_named_therapy(before, alias, after):
    sentence = f"{before} prior {alias} {after}"
    if topics_in(sentence):
        assert names_any_therapy(sentence), sentence


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(WORDS, min_size=2, max_size=12))
def test_the_folded_fast_path_reads_the_same_prior_lines(words):
    sentence = " ".join(words)
    low = fold(sentence)
    if low is not None:
        assert _lines_in(sentence, low) == _lines_in(sentence, None), sentence


@pytest.mark.parametrize("topic", sorted(_CLASS_RX))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_class_word_passes_its_literal_prefilter(topic, data):
    pattern = _CLASS_RX[topic] if data.draw(st.booleans()) or topic not in _CLASS_CS_RX else _CLASS_CS_RX[topic]
    # the reader sees items with whitespace collapsed to single spaces
    text = " " + " ".join(data.draw(st.from_regex(pattern, fullmatch=False)).split()) + " "
    if pattern.search(text):
        assert topic in _candidate_topics(text, text.lower()), (topic, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_history_wording_passes_its_literal_prefilter(data):
    text = " " + " ".join(data.draw(st.from_regex(_PRIOR_RX, fullmatch=False)).split()) + " "
    if _PRIOR_RX.search(text):  # the reader looks for history only in items holding one of these words
        assert any(w in text.lower() for w in _HISTORY_WORDS), text


@pytest.mark.parametrize("rx, words", [(_AFTER_PRIOR_RX, AFTER_PRIOR_WORDS), (_RELAPSED_DISEASE_RX, AFTER_PRIOR_WORDS),
                                       (_UNTREATED_RX, UNTREATED_WORDS)])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_treatment_history_readings_pass_their_word_prefilters(rx, words, data):
    """The reader runs these only on sentences holding one of their words (trials/eligibility.py)."""
    text = " " + " ".join(data.draw(st.from_regex(rx, fullmatch=False)).split()) + " "
    if rx.search(text):
        assert any(w in text.lower() for w in words), text


# text around a wording match: cased letters, the characters IGNORECASE treats specially, spacing
_AROUND = st.text(alphabet=st.sampled_from(list("aAzZ .;,()-") + ["İ", "ı", "ſ", "K", "ß", "Σ", "É", "≥", "\u00a0"]),
                  max_size=12)


@pytest.mark.parametrize("rx", sorted(_TWINS, key=lambda rx: rx.pattern), ids=lambda rx: rx.pattern[:30])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_lower_case_wording_regexes_find_what_the_case_insensitive_ones_find(rx, data):
    inner = data.draw(st.from_regex(rx, fullmatch=False))
    if data.draw(st.booleans()):
        inner = inner.upper() if data.draw(st.booleans()) else inner.title()
    text = data.draw(_AROUND) + inner + data.draw(_AROUND)
    want = rx.search(text)
    got = _Folded(text).search(rx)
    assert (got and (got.span(), _Folded(text).quote(got))) == (want and (want.span(), want.group(0))), text
