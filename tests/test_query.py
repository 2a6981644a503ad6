"""TrialQuery -> API parameters, and user text that must neither break nor widen Essie."""
import datetime as dt

import pytest

from trials.errors import BadInput
from trials.query import (GeoFilter, TrialQuery, build_params, essie_phrase, parse_nct_ids, parse_phases,
                          parse_statuses)


def test_default_query_is_recruiting_myeloma_with_list_fields():
    params = build_params(TrialQuery())
    assert params["query.cond"] == '"multiple myeloma" OR "plasma cell myeloma"'
    assert params["filter.overallStatus"] == "RECRUITING"
    assert params["pageSize"] == "1000"
    assert "protocolSection.contactsLocationsModule.locations" in params["fields"].split(",")
    assert "resultsSection" not in params["fields"] and "filter.phase" not in params


def test_phases_go_through_filter_advanced_and_combine_with_updated_since():
    params = build_params(TrialQuery(phases=("PHASE1", "PHASE2"), updated_since=dt.date(2026, 1, 15)))
    assert params["filter.advanced"] == \
        "(AREA[Phase]PHASE1 OR AREA[Phase]PHASE2) AND AREA[LastUpdatePostDate]RANGE[2026-01-15,MAX]"


def test_geo_filter_matches_the_spec_pattern():
    import re

    params = build_params(TrialQuery(near=GeoFilter(42.3601, -71.0589, 50)))
    assert params["filter.geo"] == "distance(42.3601,-71.0589,50mi)"
    spec = r"^distance\(-?\d+(\.\d+)?,-?\d+(\.\d+)?,\d+(\.\d+)?(km|mi)?\)$"
    assert re.match(spec, params["filter.geo"])


def test_status_all_sends_no_status_filter_and_ids_use_filter_ids():
    params = build_params(TrialQuery(statuses=(), nct_ids=("NCT03412565", "NCT07772024")))
    assert "filter.overallStatus" not in params
    assert params["filter.ids"] == "NCT03412565,NCT07772024"


@pytest.mark.parametrize("text, expected", [
    ("teclistamab", '"teclistamab"'),
    ("CAR T", '"CAR T"'),
    ('x" OR "y', '"x\\" OR \\"y"'),               # a quote can't close the phrase and add an OR
    ("AREA[Phase]PHASE3", '"AREA[Phase]PHASE3"'),  # operators are just words inside a phrase
    ("trailing backslash\\", '"trailing backslash"'),  # can't escape the closing quote
    ("tab\tand\nnewline", '"tab and newline"'),
    ("(unbalanced", '"(unbalanced"'),
])
def test_user_text_is_one_quoted_phrase(text, expected):
    assert essie_phrase(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\\\\", "\x00\x01"])
def test_empty_user_text_is_refused_clearly(text):
    with pytest.raises(BadInput, match="empty"):
        essie_phrase(text)


def test_statuses_phases_and_ids_accept_friendly_spellings():
    assert parse_statuses("recruiting, not yet recruiting") == ("RECRUITING", "NOT_YET_RECRUITING")
    assert parse_statuses("all") == ()
    assert parse_phases("2,3") == ("PHASE2", "PHASE3")
    assert parse_phases("phase 1|early1") == ("PHASE1", "EARLY_PHASE1")
    assert parse_nct_ids("nct03412565, NCT07772024") == ("NCT03412565", "NCT07772024")


@pytest.mark.parametrize("parser, text, words", [
    (parse_statuses, "RECRUTING", 'Unknown status "RECRUTING"'),
    (parse_phases, "5", 'Unknown phase "5"'),
    (parse_nct_ids, "NCT123", '"NCT123" is not an NCT number'),
    (parse_nct_ids, "NCT00000000", "is not an NCT number"),
    (parse_nct_ids, "<script>", '"<script>" is not an NCT number'),
    (parse_statuses, ",,", 'No status in ",,"'),
    (parse_phases, " | ", 'No phase in "|"'),
])
def test_bad_values_name_what_was_wrong(parser, text, words):
    with pytest.raises(BadInput, match=words.replace("(", r"\(")):
        parser(text)


def test_the_search_is_read_back_in_words():
    """The line `search` ends with: what was asked, in the order a person reads it."""
    import datetime as dt

    from trials.query import describe

    query = TrialQuery(statuses=("RECRUITING", "NOT_YET_RECRUITING"), phases=("PHASE2", "EARLY_PHASE1"),
                       terms=("tec\\lis\ttamab",), near=GeoFilter(42.36, -71.06, 12.5),
                       updated_since=dt.date(2026, 1, 31), nct_ids=("NCT03412565",))
    assert describe(query) == ('multiple myeloma or plasma cell myeloma; Recruiting, Not yet recruiting; '
                               'Phase 2, Early phase 1; matching "tec lis tamab"; within 12.5 miles; '
                               'updated since 2026-01-31; NCT03412565')
    assert describe(TrialQuery(conditions=(), statuses=())) == "all conditions; any status"
    assert "within 100 miles" in describe(TrialQuery(near=GeoFilter(0, 0, 100.0)))


@pytest.mark.parametrize("text, phases", [
    ("phase 2", ("PHASE2",)), ("Phase-1", ("PHASE1",)), ("PHASE_3", ("PHASE3",)), ("4", ("PHASE4",)),
    ("early phase 1", ("EARLY_PHASE1",)), ("EARLY_PHASE1", ("EARLY_PHASE1",)), ("0", ("EARLY_PHASE1",)),
    ("NA", ("NA",)), ("n/a", ("NA",)), ("2, 2,3", ("PHASE2", "PHASE3")),
])
def test_phases_in_the_spellings_people_use(text, phases):
    assert parse_phases(text) == phases
