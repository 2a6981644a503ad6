"""The eligibility reader: one pass over a criteria text gives every flag and number, each with the
sentence that decides it. Splitting lives in ``criteria``, what one sentence says about therapies,
named drugs and disease features in ``criteria_flags``, numbers in ``criteria_numbers``; this module
only runs them over the sentences and merges their votes per item and across items."""
from __future__ import annotations

import re
from typing import Any

from trials import failures
from trials.criteria import MAX_TEXT, Criteria, Flag, Joined, fold, items, sentences, split_criteria
from trials.criteria_flags import (_RANK, DISEASE_KEYS, DISEASE_WORDS, TRANSPLANT_FLAGS,
                                   disease_votes, drug_votes, forget_sentences, items_read_for_therapies, therapy_votes,
                                   unnamed_transplant_flags, unnamed_transplant_kind)
from trials.criteria_numbers import (AFTER_PRIOR_WORDS, LINE_WORDS, NO_PRIOR_WORDS, NUMBER_READERS, UNTREATED_WORDS,
                                     _states_no_prior_therapy, implies_a_prior_line, prior_lines, takes_untreated)

FLAGS = ("prior_car_t", "prior_bcma", "prior_bispecific", "prior_anti_cd38", "triple_class", "prior_gprc5d",
         "prior_autologous_transplant", "prior_allogeneic_transplant")
VALUES = ("required", "excluded", "allowed", "not_mentioned")
LINE_KEYS = ("min_prior_lines", "max_prior_lines")
NUMBER_KEYS = LINE_KEYS + tuple(NUMBER_READERS)  # + min_creatinine_clearance, max_ecog
DRUG_KEYS = ("required_drugs", "excluded_drugs")
KEYS = FLAGS + NUMBER_KEYS + DISEASE_KEYS + DRUG_KEYS

__all__ = ["FLAGS", "VALUES", "LINE_KEYS", "NUMBER_KEYS", "DISEASE_KEYS", "DRUG_KEYS", "KEYS", "MAX_TEXT", "Criteria",
           "Flag", "split_criteria", "eligibility_flags", "flags_as_json"]


def _blank(key: str) -> Flag:
    if key in NUMBER_KEYS:
        return Flag(None, "")
    if key in DRUG_KEYS:
        return Flag((), "")
    return Flag("not_mentioned", "")


_BLANKS = {k: _blank(k) for k in KEYS}  # Flags are frozen: every reading starts from the same blanks


def _empty() -> dict[str, Flag]:
    return dict(_BLANKS)


def _pick(votes: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    values = [v for v, _, _ in votes]
    if "allowed" in values and "excluded" in values:
        return next(v for v in votes if v[0] == "allowed")  # the item itself permits it
    return max(votes, key=lambda v: _RANK[v[0]])


# Words without which a sentence reader reads nothing (lower-case, looked for in the lower-cased sentence)
_SENTENCE_WORDS = {"lines": LINE_WORDS, "no_prior": NO_PRIOR_WORDS, "after_prior": AFTER_PRIOR_WORDS,
                   "untreated": UNTREATED_WORDS,
                   "disease": DISEASE_WORDS, **{key: reader.needles for key, reader in NUMBER_READERS.items()}}


def _flags(text: str) -> dict[str, Flag]:
    forget_sentences()  # the per-sentence memo serves one text (its readers ask the same sentences)
    result = _empty()
    best: dict[str, tuple[int, Flag]] = {}
    best_unnamed: dict[str, tuple[int, Flag]] = {}
    lo: tuple[int, str] | None = None
    hi: tuple[int, str] | None = None
    implied: tuple[int, str] | None = None  # "relapsed after prior therapy": one line, if no count is stated
    numbers: dict[str, tuple[int, str]] = {}
    drugs: dict[str, dict[str, str]] = {"required_drugs": {}, "excluded_drugs": {}}
    myeloma_included = False  # an inclusion item names myeloma (see _also_enrolled)
    untreated_too = False  # an inclusion lets in people never treated: no implied minimum of lines
    listed = items(text)
    therapy_items = items_read_for_therapies(listed)
    split = [sentences(item) for _, item in listed]
    # the words each sentence reader needs, looked up once in all sentences: most sentences skip most readers
    lows = Joined([sent.lower() for sents in split for sent in sents])
    could = {reader: lows.parts_containing(words) for reader, words in _SENTENCE_WORDS.items()}
    n = -1  # the sentence's index in the text
    for i, (section, item) in enumerate(listed):
        myeloma_included = myeloma_included or (section == "inclusion" and "myeloma" in item.lower())
        item_votes: dict[str, list[tuple[str, str, str]]] = {}
        unnamed_votes: dict[str, list[tuple[str, str, str]]] = {}  # transplant of unnamed kind
        maybe = therapy_items[i]
        for sent in split[i]:
            n += 1
            low_sent = fold(sent)  # None: the readers take their case-insensitive paths, which need no words
            if maybe:
                for flag, vote in therapy_votes(sent, section):
                    unnamed = flag in TRANSPLANT_FLAGS and unnamed_transplant_kind(sent)
                    if unnamed and flag not in unnamed_transplant_flags(sent):
                        continue
                    (unnamed_votes if unnamed else item_votes).setdefault(flag, []).append(vote)
                for key, name in drug_votes(sent, section):
                    drugs[key].setdefault(name, sent)
            for key, vote in (disease_votes(sent, section) if n in could["disease"] else ()):
                item_votes.setdefault(key, []).append(vote)
            a, b = (prior_lines(sent, section, low_sent) if low_sent is None or n in could["lines"] else (None, None))
            if a is not None and (lo is None or a < lo[0]):
                lo = (a, sent)
            elif (a is None and implied is None and n in could["after_prior"]  # "refractory ... despite up to 3 courses"
                  and implies_a_prior_line(sent, section)):
                implied = (1, sent)
            untreated_too = untreated_too or (n in could["untreated"] and takes_untreated(sent, section))
            if b is not None and (hi is None or b > hi[0]):
                hi = (b, sent)
            if (hi is None and (low_sent is None or n in could["no_prior"])
                    and _states_no_prior_therapy(sent, section, low_sent)):
                hi = (0, sent)
            for key, reader in NUMBER_READERS.items():
                if n not in could[key]:
                    continue
                got = reader.read(sent, section)
                if got is not None and (key not in numbers or reader.looser(got, numbers[key][0])):
                    numbers[key] = (got, sent)
        if section == "inclusion" and (item_votes or unnamed_votes) and _one_path_of_several(listed, i):
            _demand_is_one_path(item_votes)
            _demand_is_one_path(unnamed_votes)
        for votes_of, winners in ((item_votes, best), (unnamed_votes, best_unnamed)):
            for flag, votes in votes_of.items():
                pick = _pick(votes)
                rank = _RANK[pick[0]]
                if flag not in winners or rank > winners[flag][0]:
                    winners[flag] = (rank, Flag(pick[0], pick[1], pick[2]))
    # "transplantation" of unnamed kind speaks for a kind only when no sentence names that kind
    for flag, (_, f) in {**best_unnamed, **best}.items():
        result[flag] = f
    for key, named in drugs.items():
        if named:
            result[key] = Flag(tuple(named), next(iter(named.values())))
    lo = lo or (None if untreated_too else implied or _demanded_history(result))
    if lo is not None:
        result["min_prior_lines"] = Flag(lo[0], lo[1])
    if hi is not None:
        # a maximum below the minimum comes from a different cohort (e.g. newly diagnosed arm)
        if lo is None or hi[0] >= lo[0]:
            result["max_prior_lines"] = Flag(hi[0], hi[1])
    for key, (n, sent) in numbers.items():
        result[key] = Flag(n, sent)
    return _also_enrolled(result, myeloma_included)


def _demanded_history(result: dict[str, Flag]) -> tuple[int, str] | None:
    """(1, sentence) when the criteria demand a prior therapy or a named drug ("previously treated with
    bortezomib", "refractory to lenalidomide"): having had it is a line of treatment. A demanded transplant
    is left out: a first line's own consolidation (maintenance after ASCT) may be the study."""
    for key in (*(f for f in FLAGS if f not in TRANSPLANT_FLAGS), "required_drugs"):
        flag = result[key]
        if flag.sentence and (flag.value == "required" or (key == "required_drugs" and flag.value)):
            return 1, flag.sentence
    return None


# "defined as one or more of the following: ... relapse after ASCT", "- Following ASCT / - Or, if not yet
# transplanted, ...": an inclusion item that is one of several alternatives
_OPTIONS_RX = re.compile(r"\b(?:(?:at\s+least\s+)?one|any)\s+(?:or\s+more\s+)?of\s+the\s+following\b", re.I)
_ENDS_OR_RX = re.compile(r"(?:\bor|\beither)\W*$", re.I)
_STARTS_OR_RX = re.compile(r"^\W*or\b", re.I)


def _one_path_of_several(listed: list[tuple[str, str]], i: int) -> bool:
    item = listed[i][1]
    return bool(_OPTIONS_RX.search(item) or _ENDS_OR_RX.search(item) or _STARTS_OR_RX.match(item)
                or (i + 1 < len(listed) and _STARTS_OR_RX.match(listed[i + 1][1]))
                or (i > 0 and _ENDS_OR_RX.search(listed[i - 1][1])))


def _demand_is_one_path(votes: dict[str, list[tuple[str, str, str]]]) -> None:
    """A transplant demanded (or its absence demanded) by one alternative is one path among others: allowed
    (as "relapsed after ASCT or conventional chemotherapy" in one sentence)."""
    for flag in TRANSPLANT_FLAGS:
        if flag in votes:
            votes[flag] = [("allowed", s, c) if v in ("required", "excluded") else (v, s, c) for v, s, c in votes[flag]]


# A study whose inclusion criteria take people with myeloma and also describe plasma cell leukaemia or AL
# amyloidosis enrols those too: the feature is allowed, not demanded of everyone.
_ALSO_ENROLLED = ("plasma_cell_leukemia", "amyloidosis")


def _also_enrolled(result: dict[str, Flag], myeloma_included: bool) -> dict[str, Flag]:
    if myeloma_included:
        for key in (k for k in _ALSO_ENROLLED if result[k].value == "required"):
            result[key] = Flag("allowed", result[key].sentence, result[key].condition)
    return result


def eligibility_flags(text: str) -> dict[str, Flag]:
    """Every reading of one criteria text: therapy flags, numbers, disease features and named
    drugs, each as a Flag with its deciding sentence (never raises)."""
    try:
        if not isinstance(text, str) or not text.strip():
            return _empty()
        return _flags(text)
    except Exception as exc:  # one odd record must not stop a list; logged, counted, raised in strict mode
        failures.record(exc, "eligibility_flags")
        return _empty()


def flags_as_json(flags: dict[str, Flag] | None) -> dict:
    """JSON-ready dict: {key: {"value": ..., "sentence": ..., ["condition": ...]}} for every key."""
    out: dict[str, dict] = {}
    flags = flags or {}
    for key in KEYS:
        f = flags.get(key) or _blank(key)
        value = list(f.value) if key in DRUG_KEYS else f.value
        d: dict[str, Any] = {"value": value, "sentence": f.sentence}
        if f.condition:
            d["condition"] = f.condition
        out[key] = d
    return out
