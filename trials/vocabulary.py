"""The one vocabulary: taxonomy.json loaded once, and the phrase matcher every reader shares.

``classify`` (families), ``setting`` (who a study is for) and the eligibility reader all match
drug names, codes, brands and family words through this module, so a new drug is one change to
``taxonomy.json`` for all of them. Each drug row says its family and details (target ...); the
prior-therapy flags a drug implies are derived from those here (``implied_flags``).
"""
from __future__ import annotations

import bisect
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NamedTuple

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
TAXONOMY: dict = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Family:
    id: str
    label: str
    plain: str


FAMILIES: dict[str, Family] = {f["id"]: Family(f["id"], f["label"], f["plain"]) for f in TAXONOMY["families"]}
SETTINGS: dict[str, str] = dict(TAXONOMY["settings"])
_FAMILY_ORDER = {fid: i for i, fid in enumerate(FAMILIES)}


def family_order(family: str, default: int = 99) -> int:
    return _FAMILY_ORDER.get(family, default)
IGNORE = "ignore"  # taxonomy rows that name no family (dexamethasone ...)

# --- normalisation ---------------------------------------------------------------------------

_TRANS = str.maketrans({"®": "", "™": "", "©": "", "\u00a0": " ", "\u2212": "-",
                        **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\ufe58\ufe63\uff0d"}})
_NON_ALNUM = re.compile(r"[^0-9a-zA-Z\u00c0-\uffff]+")
_LETTER_DIGIT = re.compile(r"(?<=[a-zA-Z])(?=[0-9])|(?<=[0-9])(?=[a-zA-Z])")


def normalise(text: str) -> str:
    """NFKC, plain dashes, no trademark signs. ASCII text is returned as is (fast path)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text.translate(_TRANS)).translate(_TRANS)
    if len(text.lower()) != len(text):  # keep offsets of text and text.lower() aligned
        text = "".join(c if len(c.lower()) == 1 else " " for c in text)
    return text


def _key(phrase: str, case_sensitive: bool) -> str:
    phrase = normalise(phrase)
    return _NON_ALNUM.sub("", phrase if case_sensitive else phrase.lower())


def _variants(phrase: str, case_sensitive: bool) -> set[str]:
    base = normalise(phrase).strip()
    if not case_sensitive:
        base = base.lower()
    out = {base, base.replace("-", " "), base.replace(" ", "-"), base.replace("-", "")}
    if any(c.isdigit() for c in base):  # codes: any or no punctuation between their parts
        tokens = [t for t in _LETTER_DIGIT.sub(" ", _NON_ALNUM.sub(" ", base)).split() if t]
        out |= {"".join(tokens), "-".join(tokens), " ".join(tokens)}
    return {v for v in out if v.strip()}


def trie_regex(words: Iterable[str]) -> str:
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch != ""]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return build(trie)


def _literal_cover(words: Iterable[str], max_literals: int = 8) -> list[str] | None:
    """A short list of substrings such that every word contains at least one of them, or None."""
    uncovered = set(words)
    cover: list[str] = []
    while uncovered:
        counts: dict[str, int] = {}
        for w in uncovered:
            for n in (2, 3, 4):
                for sub in {w[i:i + n] for i in range(len(w) - n + 1)}:
                    counts[sub] = counts.get(sub, 0) + 1
        if not counts or len(cover) >= max_literals:
            return None  # a word shorter than two characters, or no short cover
        best = max(sorted(counts), key=lambda sub: (counts[sub], len(sub)))
        cover.append(best)
        uncovered = {w for w in uncovered if best not in w}
    return cover


class _Compiled(NamedTuple):
    lower_re: re.Pattern | None
    lower_values: dict[str, Any]
    exact_re: re.Pattern | None
    exact_values: dict[str, Any]
    exact_guard: tuple[str, ...] | None


class Matcher:
    """Finds every phrase of a vocabulary in a text: word boundaries, longest match, no overlaps.

    ``items`` are (phrase, case_sensitive, value). Case-insensitive phrases are matched on the
    lower-cased text, case-sensitive ones on the text as written. Values of phrases that differ only
    by punctuation are the same entry (first one wins).
    """

    def __init__(self, items: Iterable[tuple[str, bool, Any]]):
        self.lower: dict[str, Any] = {}
        self.exact: dict[str, Any] = {}
        lower_words: set[str] = set()
        exact_words: set[str] = set()
        for phrase, case_sensitive, value in items:
            if not phrase or not phrase.strip():
                continue
            table, words = (self.exact, exact_words) if case_sensitive else (self.lower, lower_words)
            table.setdefault(_key(phrase, case_sensitive), value)
            words |= _variants(phrase, case_sensitive)
        self._words = lower_words, exact_words

    @functools.cached_property
    def _compiled(self) -> "_Compiled":
        """The regexes and their tables, built on the first search: a process that only reads stored
        annotations (an export from the study store) never pays for them."""
        lower_words, exact_words = self._words
        # The leading [^...] consumes one separator: the regex engine then skips quickly over
        # letters and only tries the trie at word starts. Texts are searched with a space prepended.
        lower_re = re.compile(r"[^a-z0-9](" + trie_regex(lower_words) + r")(?![a-z0-9])") if lower_words else None
        exact_re = re.compile(r"[^A-Za-z0-9](" + trie_regex(exact_words) + r")(?![A-Za-z0-9])") if exact_words else None
        # Precomputed: the regexes only ever match one of the words, so each word maps to its value
        # once here instead of stripping punctuation from every match. (Every word's key is in its table:
        # a variant differs from its phrase only by punctuation, so no value is None.)
        lower_values = {w: self.lower[_NON_ALNUM.sub("", w)] for w in lower_words}
        exact_values = {w: self.exact[_NON_ALNUM.sub("", w)] for w in exact_words}
        # A few literals of which every case-sensitive word contains one: a text with none of them
        # cannot match, and the second regex pass is skipped (None: no small such set).
        cover = _literal_cover(exact_words)
        return _Compiled(lower_re, lower_values, exact_re, exact_values, tuple(cover) if cover else None)

    def spans(self, text: str, low: str) -> list[tuple[int, int, Any]]:
        """Matches as (start, end, value); offsets refer to ``text`` (== ``low``)."""
        # A match is one separator and then the word: in " " + low the word starts at m.start() + 1, which is
        # m.start() in low; the lookahead is empty, so it ends at m.end() - 1.
        lower_re, lower_values, exact_re, exact_values, exact_guard = self._compiled
        found = []
        if lower_re is not None:
            found = [(m.start(), m.end() - 1, lower_values[m.group(1)]) for m in lower_re.finditer(" " + low)]
        if exact_re is not None and (exact_guard is None or any(lit in text for lit in exact_guard)):
            exact = [(m.start(), m.end() - 1, exact_values[m.group(1)]) for m in exact_re.finditer(" " + text)]
            if exact:
                found += exact
                found.sort(key=_overlap_order)
                kept, last_end = [], -1
                for f in found:  # longest match wins where the two passes overlap
                    if f[0] >= last_end:
                        kept.append(f)
                        last_end = f[1]
                found = kept
        return found




def _overlap_order(f: tuple) -> tuple[int, int]:
    return f[0], f[0] - f[1]


# --- the vocabulary --------------------------------------------------------------------------

@dataclass(frozen=True)
class Drug:
    name: str | None  # None: a grouped reference row; the matched alias names the drug
    family: str
    details: tuple[tuple[str, str], ...] = ()
    generic: bool = False  # a family word ("CAR-T", "autologous stem cell transplant"), not a product


def _load_vocabulary() -> tuple[Matcher, dict[str, Drug]]:
    items: list[tuple[str, bool, Any]] = []
    by_name: dict[str, Drug] = {}
    for d in TAXONOMY["drugs"]:
        drug = Drug(d.get("name"), d["family"], tuple(sorted((d.get("details") or {}).items())))
        for alias in d["aliases"]:
            own = drug if drug.name else Drug(alias.lower() if alias.isalpha() else alias, drug.family, drug.details)
            by_name.setdefault(alias.lower(), own)
            items.append((alias, len(alias) <= 3, ("drug", own)))
        for short in d.get("case_sensitive", ()):
            items.append((short, True, ("drug", drug)))
    for group in TAXONOMY["terms"]:
        details = tuple(sorted((group.get("details") or {}).items()))
        for term in group["terms"]:
            items.append((term, False, ("drug", Drug(term, group["family"], details, generic=True))))
        for term in group.get("case_sensitive", ()):
            items.append((term, True, ("drug", Drug(term, group["family"], details, generic=True))))
    for token, names in TAXONOMY["regimens"]["map"].items():
        drugs = tuple(by_name[n.lower()] for n in names if n.lower() in by_name)
        items.append((token, True, ("regimen", drugs)))
    return Matcher(items), by_name


DRUG_MATCHER, DRUGS_BY_NAME = _load_vocabulary()


# --- names recognised by their shape ---------------------------------------------------------

TARGET_NAMES: dict[str, str] = {k: v for k, v in TAXONOMY["target_names"]["map"].items()}
_TARGETS_ALT = "|".join(sorted(map(re.escape, TARGET_NAMES), key=len, reverse=True))


@dataclass(frozen=True)
class NamePattern:
    """A rule that recognises a drug the drug list does not name ('CAR-BCMA T cells', '-zomib')."""
    id: str
    family: str
    regex: re.Pattern
    says: str  # how the name was recognised, for the reason shown to people
    needs: tuple[str, ...]  # lower-case literals; the regex is tried only around them
    reach: int  # how far a match may extend beyond its literal
    names_only: bool  # read only in intervention names (stems), not in descriptions and arms
    overrides: bool = False
    family_if: tuple[tuple[str, re.Pattern], ...] = ()

    def family_for(self, segment: str) -> str:
        for family, rx in self.family_if:
            if rx.search(segment):
                return family
        return self.family


NAME_PATTERNS: tuple[NamePattern, ...] = tuple(
    NamePattern(p["id"], p["family"], re.compile(p["pattern"].replace("{targets}", _TARGETS_ALT)), p["says"],
                tuple(p["needs"]), int(p["reach"]), p["read_in"] == "names", bool(p.get("overrides")),
                tuple((f, re.compile(rx)) for f, rx in (p.get("family_if") or {}).items()))
    for p in TAXONOMY["name_patterns"]["list"])


def _literal_table(patterns) -> tuple[dict[str, tuple[NamePattern, ...]], re.Pattern]:
    by_literal: dict[str, tuple[NamePattern, ...]] = {}
    for p in patterns:
        for lit in p.needs:
            by_literal[lit] = by_literal.get(lit, ()) + (p,)
    return by_literal, re.compile(trie_regex(by_literal) if by_literal else "(?!)")


# literal -> the patterns that need it; the literals of each table are found in one trie-regex pass
_ANYWHERE = _literal_table(p for p in NAME_PATTERNS if not p.names_only)
_IN_NAMES = _literal_table(p for p in NAME_PATTERNS if p.names_only)
_ANYWHERE_LITERALS = tuple(_ANYWHERE[0].items())
_LONGEST_LITERAL = max(map(len, (*_ANYWHERE[0], *_IN_NAMES[0])))


def _same_kind(a: str, b: str) -> bool:
    return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())


def _ends_a_token(low: str, j: int) -> bool:
    """The literal ending at j does not run on into more letters (or digits, after a digit)."""
    return j == len(low) or not _same_kind(low[j - 1], low[j])


def pattern_spans(text: str, low: str, known: list[tuple[int, int, Any]] = (),
                  names: list[tuple[int, int]] | None = None) -> list[tuple[int, int, NamePattern, str]]:
    """Matches of the name patterns as (start, end, pattern, target as the app writes it or '').

    Each pattern is tried only in a window around its literals (one literal pass is far cheaper than every
    regex over the whole text), and not around a literal inside a ``known`` span (sorted drug-list matches)
    that names a drug. Patterns read only in names (the stems) look in the ``names`` spans of the text that
    the drug list did not already name (None: the whole text is one name).
    """
    literals = []
    for lit, patterns in _ANYWHERE_LITERALS:  # a few literals: str.find beats a regex pass on short texts
        i = low.find(lit)
        while i >= 0:
            if _ends_a_token(low, i + len(lit)):  # 'car' in 'care' or 'cd3' in 'cd38' starts no window
                literals.append((i, patterns))
            i = low.find(lit, i + 1)
    if names is None:
        names = [(0, len(low))]
    by_name, name_re = _IN_NAMES
    # Most texts hold no literal at all: one search over all the names says so before any drug span is looked at.
    if not literals and (not names or name_re.search(low, names[0][0], names[-1][1]) is None):
        return []
    # spans of drug names (sorted, not overlapping); family words name no drug
    named = [k for k in known if not (k[2][0] == "drug" and k[2][1].generic)]
    starts = [k[0] for k in named]
    ends = [k[1] for k in named]
    unnamed = []
    for a, b in names:
        j = bisect.bisect_left(starts, b) - 1  # the last drug name starting before b
        if j < 0 or ends[j] <= a:
            unnamed.append((a, b))
    if unnamed:
        for m in name_re.finditer(low, unnamed[0][0], unnamed[-1][1]):
            i = m.start()
            if any(a <= i < b for a, b in unnamed):
                literals.append((i, by_name[m.group()]))
    if not literals:
        return []
    found: dict[tuple[int, int, str], tuple[int, int, NamePattern, str]] = {}
    for i, patterns in literals:
        j = bisect.bisect_right(starts, i) - 1
        inside_name = j >= 0 and ends[j] > i
        for p in patterns:
            if inside_name and not p.overrides:
                continue
            for m in p.regex.finditer(text, max(0, i - p.reach), i + p.reach + _LONGEST_LITERAL):
                groups = m.groupdict()
                raw = (groups.get("target") or groups.get("target2") or "").lower()
                found.setdefault((m.start(), m.end(), p.id), (m.start(), m.end(), p, TARGET_NAMES.get(raw, raw.upper())))
    return list(found.values())


def drug_spans(text: str, low: str, names: list[tuple[int, int]] | None = None) -> list[tuple[int, int, tuple]]:
    """Drug-list matches (``DRUG_MATCHER.spans``) plus name-pattern matches as (start, end, ("pattern", (pattern,
    target))), in text order without overlaps. A list match wins over a pattern overlapping it, unless the pattern
    overrides (CAR-NK) or the list matches inside it are only family words ('mafodotin' in 'xmab mafodotin').
    ``names``: (start, end) of the intervention names in the text (see ``pattern_spans``)."""
    found = DRUG_MATCHER.spans(text, low)
    patterns = pattern_spans(text, low, found, names)
    if not patterns:
        return found
    patterns.sort(key=_overlap_order)
    for s, e, p, target in patterns:
        inside = [f for f in found if f[0] < e and s < f[1]]
        if inside and not p.overrides and not all(
                f[2][0] == "drug" and f[2][1].generic and s <= f[0] and f[1] <= e for f in inside):
            continue
        found = [f for f in found if f not in inside]
        found.append((s, e, ("pattern", (p, target))))
        found.sort(key=_overlap_order)
    return found


# --- what a drug implies for eligibility ---------------------------------------------------
# A criterion about "prior teclistamab" is about prior bispecifics and prior BCMA therapy: the
# topics of a drug follow from its family and details, so a new drug row needs nothing else.
_FAMILY_TOPICS = {"car_t": "car_t", "bispecific": "bispecific", "anti_cd38": "anti_cd38",
                  "proteasome_inhibitor": "pi", "immunomodulatory": "imid"}
_TARGET_TOPICS = {"BCMA": "bcma", "GPRC5D": "gprc5d"}
_TRANSPLANT_TOPICS = {"autologous": "auto_sct", "allogeneic": "allo_sct"}


def prior_topics(drug: Drug) -> frozenset[str]:
    """Eligibility topics a drug (or family word) implies: car_t, bispecific, anti_cd38, pi, imid,
    bcma, gprc5d, auto_sct, allo_sct, or sct (a transplant of unnamed kind)."""
    topics = _PRIOR_TOPICS.get(drug)
    if topics is None:
        details = dict(drug.details)
        found = {_FAMILY_TOPICS[drug.family]} if drug.family in _FAMILY_TOPICS else set()
        if details.get("target") in _TARGET_TOPICS:
            found.add(_TARGET_TOPICS[details["target"]])
        if drug.family == "stem_cell_transplant" and drug.name != "Donor lymphocyte infusion":
            found.add(_TRANSPLANT_TOPICS.get(details.get("transplant"), "sct"))
        topics = _PRIOR_TOPICS[drug] = frozenset(found)
    return topics


_PRIOR_TOPICS: dict[Drug, frozenset[str]] = {}
