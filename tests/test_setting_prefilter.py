"""The setting reader's fast paths never change what it reads: each cheap substring test is checked
against the regex it stands in for, on text generated from that regex and on arbitrary text."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trials.setting import (_INDEXED_STAGE, _MYELOMA_LITERALS, _MYELOMA_WORD_LIST, _RR_LITERALS, _RR_WORD_LIST,
                            _indexes_stages, _rr_myeloma, _scan_rr_myeloma)

TERMS = st.lists(st.one_of(st.from_regex(_INDEXED_STAGE, fullmatch=False), st.text(max_size=40),
                           st.sampled_from(["Multiple Myeloma", "Stage III Multiple Myeloma", "ſtage II myeloma",
                                            "STAGE 2 MYELOMA", "Refractory Plasma Cell Myeloma"])), max_size=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(terms=TERMS)
def test_the_stage_prefilter_agrees_with_its_regex(terms):
    assert _indexes_stages(terms) == any(_INDEXED_STAGE.search(t) for t in terms), terms


def test_the_stage_prefilter_finds_an_indexed_stage():
    assert _indexes_stages(["Multiple Myeloma", "Stage II Multiple Myeloma"])
    assert _indexes_stages(["ſtage II myeloma"])  # IGNORECASE folds the long s: the non-ASCII path keeps the regex
    assert not _indexes_stages(["Multiple Myeloma", "Refractory Multiple Myeloma"])


def test_every_relapse_and_myeloma_word_holds_a_prefilter_literal():
    assert all(any(lit in w for lit in _RR_LITERALS) for w in _RR_WORD_LIST)
    assert all(any(lit in w for lit in _MYELOMA_LITERALS) for w in _MYELOMA_WORD_LIST)


CLAUSE_WORDS = st.sampled_from(["relapsed", "refractory", "relapsed/refractory", "recurrent", "relapse-free", "r/r", "rr",
                                "rrmm", "mm", "comm", "mm3", "multiple", "myeloma", "or", "and", "that", "has", "no",
                                "prior", "with", "(", ")", ",", "-", "/", "survival", "ſ", "i̇"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.one_of(CLAUSE_WORDS, st.text(max_size=8)), max_size=14), sep=st.sampled_from([" ", "", "\n", ", "]))
def test_the_relapsed_myeloma_prefilter_never_hides_a_finding(words, sep):
    low = sep.join(words).lower()
    assert _rr_myeloma(low) == _scan_rr_myeloma(low), low
