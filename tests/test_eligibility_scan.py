"""The eligibility reader scans all items (and sentences) of a text in one pass, joined by a separator,
instead of one search per item; each hit must land on the item it is in, as the per-item search would find
it, and a sentence reader skipped for lack of its words must be one that would have read nothing."""
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trials.criteria import _BULLET_RX, Joined, _bullet, fold, items
from trials.criteria_flags import (_COHORT_PREFIX_RX, _EXCEPTION_RX, _without_cohort, _without_exceptions,
                                   items_naming_a_therapy, names_any_therapy)
from trials.criteria_numbers import LINE_WORDS, NO_PRIOR_WORDS, _states_no_prior_therapy, prior_lines
from trials.vocabulary import DRUGS_BY_NAME

ALIASES = sorted(DRUGS_BY_NAME)
PIECES = st.one_of(st.sampled_from(ALIASES), st.sampled_from(
    ["prior", "CAR T", "BCMA+", "bispecific", "ASCT", "organ transplant", "stem cell transplant", "PI", "-cel",
     "therapy", "İ", "Σ", "≥ 2", "®", "\u2013", "(", ")", ".", ";", ",", "no", "cd38-positive"]), st.text(max_size=8))
ITEM = st.lists(PIECES, min_size=1, max_size=6).map(lambda ws: " ".join(" ".join(ws).split())).filter(bool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listed=st.lists(ITEM, min_size=1, max_size=6))
def test_one_scan_over_all_items_finds_what_each_item_search_finds(listed):
    assert items_naming_a_therapy(listed) == [names_any_therapy(item) for item in listed]


def test_a_name_on_a_hard_wrapped_line_marks_its_own_item_only():
    text = ("Inclusion Criteria:\n"
            "  - Measurable disease as defined by\n"
            "    the protocol\n"
            "  - Relapsed after at least one prior line of therapy including\n"
            "    daratumumab and a proteasome\n"
            "    inhibitor\n"
            "  - Adequate organ function\n"
            "Exclusion Criteria:\n"
            "  - Prior allogeneic stem cell\n"
            "    transplant\n")
    assert items_naming_a_therapy([item for _, item in items(text)]) == [False, True, False, True]


def test_words_are_found_in_the_parts_that_hold_them_and_never_across_two():
    parts = ["No prior line of therapy", "ECOG 0-1", "creatinine clearance", "ECOG"]
    joined = Joined([p.lower() for p in parts])
    assert joined.parts_containing(("ecog",)) == {1, 3}
    assert joined.parts_containing(("therapy", "clearance")) == {0, 2}
    assert joined.parts_containing(("therapyecog", "0-1creatinine")) == set()


# Sentences from the words the line-count and no-prior-therapy readers react to, some of them removed
PHRASES = st.sampled_from(["no prior", "previously untreated", "myeloma", "at least", "2", "three", "lines", "regimens",
                           "therapy", "treatment", "courses", "first or second relapse", "third-line or later",
                           "treatment-naive", "have not received", "never", "systemic", "for", "anti-myeloma", "and",
                           "No", "İ", "≥", "prior", "previous", "received", "Criteria 5", "GRADE 3",
                           "Prior anti-myeloma therapy", "considered one line", "Previously treated"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(PHRASES, min_size=1, max_size=10), section=st.sampled_from(["inclusion", "exclusion", "other"]))
def test_a_sentence_without_a_readers_words_is_one_it_reads_nothing_in(words, section):
    sentence = " ".join(words)
    low = fold(sentence)
    if low is None:
        return  # the reader runs these through the case-insensitive paths, words or not
    # the lower-case fast paths read what the case-insensitive ones read
    assert prior_lines(sentence, section, low) == prior_lines(sentence, section, None), sentence
    assert _states_no_prior_therapy(sentence, section, low) == _states_no_prior_therapy(sentence, section, None), sentence
    if not any(w in low for w in LINE_WORDS):
        assert prior_lines(sentence, section, low) == (None, None), sentence
    if not any(w in low for w in NO_PRIOR_WORDS):
        assert not _states_no_prior_therapy(sentence, section, low), sentence


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(["prior", "CAR T", "other than", "OTHER THAN", "except", "Except for", "apart from",
                                       "beſides", "besides", "DRd", "cohort:", "Arm A:", "For", "regimen", ":", "İ", ","]),
                      min_size=1, max_size=8))
def test_the_cohort_and_exception_cuts_skip_only_sentences_they_would_not_change(words):
    sentence = " ".join(words)
    assert _without_cohort(sentence) == _COHORT_PREFIX_RX.sub("", sentence)
    assert _without_exceptions(sentence) == _EXCEPTION_RX.sub(" ", sentence)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.text(alphabet=st.sampled_from("aAivxXé.)( \t-*•1"), min_size=1, max_size=6),
       rest=st.sampled_from(["", " Prior CAR T", "\tmeasurable disease", "nd so on"]))
@example(start="  viii)", rest=" Prior CAR T")
@example(start="b.", rest=" Prior CAR T")
def test_the_quick_bullet_check_finds_every_bullet(start, rest):
    line = (start + rest).rstrip()
    want, got = _BULLET_RX.match(line), _bullet(line)
    assert (got and got.span()) == (want and want.span()), line
