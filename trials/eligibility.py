"""The eligibility reader: one pass over a criteria text gives every flag and number, each with the
sentence that decides it. Splitting lives in ``criteria``, therapy and disease flags in
``criteria_flags``, numbers in ``criteria_numbers``; this module only runs them and merges items."""
from __future__ import annotations

from typing import Any, Iterable

from trials.criteria import MAX_TEXT, Criteria, Flag, fold, items, sentences, split_criteria
from trials.criteria_flags import _MENTION_LITERALS_RX, _RANK, _classify, _mentions
from trials.criteria_numbers import _lines_in, _states_no_prior_therapy

FLAGS = ("prior_car_t", "prior_bcma", "prior_bispecific", "prior_anti_cd38", "triple_class")
VALUES = ("required", "excluded", "allowed", "not_mentioned")
LINE_KEYS = ("min_prior_lines", "max_prior_lines")

__all__ = ["FLAGS", "VALUES", "LINE_KEYS", "MAX_TEXT", "Flag", "split_criteria", "eligibility_flags", "flags_as_json"]


def _empty() -> dict[str, Flag]:
    d: dict[str, Flag] = {f: Flag("not_mentioned", "") for f in FLAGS}
    d["min_prior_lines"] = Flag(None, "")
    d["max_prior_lines"] = Flag(None, "")
    return d


def _flags(text: str) -> dict[str, Flag]:
    result = _empty()
    best: dict[str, tuple[int, Flag]] = {}
    lo: tuple[int, str] | None = None
    hi: tuple[int, str] | None = None
    for section, item in items(text):
        item_votes: dict[str, list[tuple[str, str, str]]] = {}
        low = item.lower()
        maybe = _MENTION_LITERALS_RX.search(low) is not None
        for sent in sentences(item):
            low_sent = fold(sent)
            for flag in (_mentions(sent, low_sent) if maybe else ()):
                got = _classify(sent, section, flag)
                if got:
                    item_votes.setdefault(flag, []).append((got[0], sent, got[1]))
            a, b = _lines_in(sent, low_sent)
            if a is not None and (lo is None or a < lo[0]):
                lo = (a, sent)
            if b is not None and (hi is None or b > hi[0]):
                hi = (b, sent)
            if hi is None and _states_no_prior_therapy(sent, section, low_sent):
                hi = (0, sent)
        for flag, votes in item_votes.items():
            values = [v for v, _, _ in votes]
            if "allowed" in values and "excluded" in values:
                pick = next(v for v in votes if v[0] == "allowed")  # the item itself permits it
            else:
                pick = max(votes, key=lambda v: _RANK[v[0]])
            rank = _RANK[pick[0]]
            if flag not in best or rank > best[flag][0]:
                best[flag] = (rank, Flag(pick[0], pick[1], pick[2]))
    for flag, (_, f) in best.items():
        result[flag] = f
    if lo is not None:
        result["min_prior_lines"] = Flag(lo[0], lo[1])
    if hi is not None:
        # a maximum below the minimum comes from a different cohort (e.g. newly diagnosed arm)
        if lo is None or hi[0] >= lo[0]:
            result["max_prior_lines"] = Flag(hi[0], hi[1])
    return result


def eligibility_flags(text: str) -> dict[str, Flag]:
    """Prior-therapy flags and prior-line bounds for one criteria text (never raises)."""
    try:
        if not isinstance(text, str) or not text.strip():
            return _empty()
        return _flags(text)
    except Exception:  # pragma: no cover - defensive: pure function must not raise
        return _empty()


def flags_as_json(flags: dict[str, Flag] | None) -> dict:
    """JSON-ready dict: {flag: {"value": ..., "sentence": ..., ["condition": ...]}}."""
    out: dict[str, dict] = {}
    flags = flags or {}
    for key in FLAGS + LINE_KEYS:
        f = flags.get(key)
        if f is None:
            f = Flag(None if key in LINE_KEYS else "not_mentioned", "")
        d: dict[str, Any] = {"value": f.value, "sentence": f.sentence}
        if f.condition:
            d["condition"] = f.condition
        out[key] = d
    return out


def iter_flags(texts: Iterable[str]) -> Iterable[dict[str, Flag]]:
    """Convenience for batch use."""
    for t in texts:
        yield eligibility_flags(t)