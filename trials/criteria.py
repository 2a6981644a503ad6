"""Eligibility criteria text, split: inclusion / exclusion / other items, and items into sentences.

Pure functions over the free-text ``eligibilityCriteria`` (v2 CommonMark) or the legacy XML
``criteria/textblock`` (indented plain text). Nothing here raises on any ``str`` input.

Splitting (``split_criteria``)
    * Headings in any case ("Inclusion Criteria:", "KEY EXCLUSION CRITERIA",
      "**Inclusion criteria for registration:**", "## Exclusion", "Inclusion
      Criteria - all subjects must:") switch the section. Other short headings
      ("DISEASE CHARACTERISTICS:", "Eligibility criteria for registration:")
      switch to ``other``. Text before any heading is ``other``.
    * Every bullet ("-", "*", "•", "1.", "1)", "a)", "(a)", "ii.") starts an item.
      Nested sub-items are kept as their own items (in their parent's section);
      they are NOT joined to the parent. Wrapped continuation lines are joined
      to the item they continue. A paragraph after a blank line is a new item.
    * Markdown escapes/emphasis are removed and whitespace collapsed.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from trials import failures

MAX_TEXT = 200_000  # longer texts are truncated (real criteria are < 30k chars)


@dataclass(frozen=True)
class Flag:
    """One reading of the criteria: its value, the sentence that decides it, and any condition quoted."""
    value: Any  # "required" / "excluded" / "allowed" / "not_mentioned", a number, a list, or None
    sentence: str = ""
    condition: str = ""


_HEADING_RX = re.compile(
    r"^(?:key|main|major|general|specific|additional|other|principal|selected|important|initial|randomi[sz]ation|registration|enrollment|enrolment|screening)?\s*"
    r"(?:(?:recipients?|donors?|patients?|subjects?|participants?|(?:phase|part|cohort|arm|stage)\s+[\w-]{1,6})\s+){0,2}"
    r"(?:criteri(?:a|on)\s+(?:for|of)\s+)?"  # "Criteria for exclusion"
    r"(?P<kind>inclusion|exclusion|eligibility|ineligibility|inclusions|exclusions|non[\s-]?inclusion)"
    r"(?:\s+(?:and|&)\s+(?:exclusion|inclusion))?"
    r"(?:\s+criteri(?:a|on)s?)?(?P<rest>\b.*)$", re.I)
# A sentence that introduces the exclusion list instead of a heading: "Patients will be excluded if they
# meet any of the following:", "Subjects meeting any of the following criteria are not eligible:".
# It ends with a colon and says that what follows keeps people out.
_EXCLUSION_INTRO_RX = re.compile(
    r"\b(?:(?<!not\s)excluded|not\s+(?:be\s+)?(?:eligible|enrolled|included)|ineligible|cannot\s+(?:participate|take\s+part|be\s+enrolled|join)"
    r"|exclusion\s+criteri)", re.I)
_INTRO_MAX_WORDS = 20
_HEAD_PRE_RX = re.compile(r"clusion|criteri|eligib", re.I)
_CAPS_HEADING_RX = re.compile(r"^[A-Z][A-Z0-9 /&,()'-]{3,80}:?$")
_BULLET_RX = re.compile(
    r"^(?P<ind>[ \t]*)(?P<b>[-*•·+▪◦‣–—]|\d{1,3}[.)](?!\d)|\(\d{1,3}\)|\(?[a-zA-Z][.)](?=\s)|\(?(?:i{1,3}|iv|v|vi{1,3}|ix|x)[.)](?=\s))[ \t]+")
_MD_RX = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_EMPH_RX = re.compile(r"(\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w))")
_WS_RX = re.compile(r"\s+")
_MD_LEAD_RX = re.compile(r"^(?:#{1,6}\s+|>\s+)+")
# Split points: whitespace after '.' or ';' before a capital, digit, bracket, quote or bullet, or any
# whitespace after ';'. Written as (?<=[.;])\s+(?=[A-Z(\[\"'0-9•*-])|(?<=;)\s+ it matches the same runs;
# starting with \s lets the regex engine skip straight to whitespace.
# Legacy (PDQ) texts run their items together without stops: "... since prior hydroxyurea No prior 506U78
# No other concurrent chemotherapy": a capitalised "No" after a lower-case word starts a new sentence.
_SENT_RX = re.compile(r"\s(?:(?<=[.;]\s)\s*(?=[A-Z(\[\"'0-9•*-])|(?<=;\s)\s*|(?<=[a-z0-9)]\s)(?=No\s))")


@dataclass(frozen=True)
class Criteria:
    inclusion: tuple[str, ...] = ()
    exclusion: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


def fold(s: str) -> str | None:
    """``s`` lower-cased when a case-insensitive match of the (ASCII, lower-case) patterns on ``s`` is
    exactly a case-sensitive match on the result: same length, and none of the characters that
    IGNORECASE equates with an ASCII letter without lower-casing to it (İ is caught by the length).
    Otherwise None (the caller then uses the case-insensitive regexes)."""
    if s.isascii():
        return s.lower()
    low = s.lower()
    if len(low) != len(s) or "ı" in s or "ſ" in s:
        return None
    return low


_JUNK_RX = re.compile(r"[\W_]*")
_CRITERI_RX = re.compile(r"criteri", re.I)
_DASH_OR_PAREN_RX = re.compile(r"^\s*[-–(]")
_AND_EXCLUSION_RX = re.compile(r"\s+(?:and|&)\s+exclusion", re.I)


def _clean(s: str) -> str:
    # Each substitution only runs when its trigger character is present (it cannot match otherwise).
    if "\\" in s:
        s = _MD_RX.sub(r"\1", s)
    if "*" in s or "__" in s:
        s = _EMPH_RX.sub("", s)
    s = s.strip()
    if s[:1] in ("#", ">"):  # the pattern is anchored at the start
        s = _MD_LEAD_RX.sub("", s)
    return " ".join(s.split())  # == _WS_RX.sub(" ", s).strip(): str.split and \s agree on whitespace


def _heading(line: str) -> tuple[str, str] | None:
    """(section, remainder-after-colon) if the line is a heading, else None."""
    low = fold(line)
    if ":" not in line:
        if low is None:
            if not _HEAD_PRE_RX.search(line):
                return None
        elif "clusion" not in low and "criteri" not in low and "eligib" not in low:
            return None
    elif low is not None and line.isascii() and line != line.upper():
        # A heading names inclusion/exclusion/eligibility (cleaning only removes \ * _ between letters),
        # or is in capitals (cleaning never removes a lower-case letter).
        flat = low.replace("*", "").replace("_", "").replace("\\", "")
        if "clusion" not in flat and "eligib" not in flat and "exclud" not in flat and "cannot" not in flat:
            return None
    s = _clean(line)
    s2 = s.strip("*_:# ").strip()
    if not s2 or len(s2) > 160:
        return None
    m = _HEADING_RX.match(s2)
    if m:
        kind = m.group("kind").lower()
        rest = m.group("rest") or ""
        has_word_criteria = bool(_CRITERI_RX.search(s2[: m.end("kind") + 12]))
        # "Inclusion Criteria: age ≥ 18" → heading + inline item; "Exclusion of …" is no heading.
        if ":" in rest:
            before, _, after = rest.partition(":")
            if len(before) > 100:
                return None
            if not has_word_criteria and before.strip() and not _DASH_OR_PAREN_RX.match(before):
                return None
        else:
            after = ""
            if not has_word_criteria and rest.strip():
                return None
            if len(rest) > 100 or rest.rstrip().endswith("."):
                return None
        sec = {"inclusion": "inclusion", "inclusions": "inclusion", "exclusion": "exclusion",
               "exclusions": "exclusion", "ineligibility": "exclusion"}.get(kind, "other")
        if kind.startswith("non"):
            sec = "exclusion"  # "Non-inclusion criteria" (French protocols' name for exclusion criteria)
        if kind in ("inclusion",) and _AND_EXCLUSION_RX.match(s2[m.end("kind"):]):
            sec = "other"
        return sec, after.strip()
    if _CAPS_HEADING_RX.match(s2) and s.rstrip().endswith(":") and len(s2.split()) <= 8:
        return "other", ""
    if s.rstrip().endswith(":") and len(s2.split()) <= _INTRO_MAX_WORDS and _EXCLUSION_INTRO_RX.search(s2):
        return "exclusion", ""
    return None


def _bullet(line: str) -> re.Match | None:
    """``_BULLET_RX.match(line)``, skipped for most lines: one starting with a letter is a bullet only as
    "a." / "viii)", its [.)] within 5 characters."""
    start = line.lstrip(" \t")
    if start[:1].isalpha() and "." not in start[1:5] and ")" not in start[1:5]:
        return None
    return _BULLET_RX.match(line)


def _items(text: str) -> list[tuple[str, str]]:
    """[(section, item_text)] in document order."""
    out: list[tuple[str, str]] = []
    section = "other"
    cur: list[str] = []
    cur_sec = section

    def flush() -> None:
        nonlocal cur
        if cur:
            t = _clean(" ".join(cur))
            if t and not _JUNK_RX.fullmatch(t):
                out.append((cur_sec, t))
        cur = []

    prev_blank = True
    for line in text.replace("\u00a0", " ").splitlines():
        line = line.rstrip()
        if not line:  # blank (rstrip removed all of its whitespace)
            flush()
            prev_blank = True
            continue
        m = _bullet(line)
        body = line[m.end():] if m else line
        if ":" not in body and body.isascii():  # the common case of _heading, inlined
            low = body.lower()
            h = _heading(body) if ("clusion" in low or "criteri" in low or "eligib" in low) else None
        else:
            h = _heading(body)
        if h is not None:
            flush()
            section = h[0]
            if h[1]:
                cur, cur_sec = [h[1]], section
            prev_blank = False
            continue
        if m:
            flush()
            cur, cur_sec = [body], section
        elif cur and not prev_blank:
            cur.append(line.strip())
        else:
            flush()
            cur, cur_sec = [line.strip()], section
        prev_blank = False
    flush()
    return out


def split_criteria(text: str) -> Criteria:
    """Split criteria text into inclusion / exclusion / other items (never raises)."""
    try:
        if not isinstance(text, str) or not text.strip():
            return Criteria()
        parts: dict[str, list[str]] = {"inclusion": [], "exclusion": [], "other": []}
        for sec, item in _items(text[:MAX_TEXT]):
            parts[sec].append(item)
        return Criteria(tuple(parts["inclusion"]), tuple(parts["exclusion"]), tuple(parts["other"]))
    except Exception as exc:  # one odd record must not stop a list; logged, counted, raised in strict mode
        failures.record(exc, "split_criteria")
        return Criteria()




_SENT_PRE_RX = re.compile(r"[.;]\s")  # every split point of _SENT_RX starts so, or is a " No "


# The legacy PDQ layout ("DISEASE CHARACTERISTICS: ... PRIOR CONCURRENT THERAPY: Chemotherapy: At least 1 but no
# more than 3 prior regimens Induction followed by ... considered a single regimen Endocrine therapy: ...") runs its
# items together without stops. Inside it a sub-heading ("Endocrine therapy:") or a word that opens a PDQ item
# ("At least", "Prior", "Concurrent", ...) after a lower-case word starts a new sentence. (Not every capital: "No
# prior Velcade" is one item.)
_PDQ_ITEM_RX = re.compile(r"^(?:DISEASE|PATIENT)\s+CHARACTERISTICS:|^PRIOR\s+CONCURRENT\s+THERAPY:")
_PDQ_SPLIT_RX = re.compile(
    r"(?<=[A-Za-z0-9)%])\s+(?=[A-Z][a-z]+(?:\s+[a-z]+){0,2}:\s"
    r"|(?:At\s+least|Prior|Concurrent|Induction|Tandem|Must|Not|Patients|Fertile|Negative|More\s+than|Less\s+than"
    r"|Recovered|Relapsed|Refractory|Measurable|Progressive|Previously|Failed)\b)")


def sentences(item: str) -> list[str]:
    if _PDQ_ITEM_RX.match(item):
        return [s for part in _PDQ_SPLIT_RX.split(item) for s in _plain_sentences(part)]
    return _plain_sentences(item)


def _plain_sentences(item: str) -> list[str]:
    if not _SENT_PRE_RX.search(item) and " No " not in item:
        item = item.strip()
        return [item] if item else []
    return [s.strip() for s in _SENT_RX.split(item) if s and s.strip()]



# One pass over all items (or sentences) of a text joined by SEP replaces a search in each: no word or
# pattern matches SEP, and boundaries (\b, [^a-z0-9], look-arounds) see it as they see the end of a string.
SEP = "\x00"


class Joined:
    """Parts of a text (items, sentences) joined by SEP, and where each starts: one pass serves them all."""
    __slots__ = ("text", "starts")

    def __init__(self, parts: list[str]):
        self.text = SEP.join(parts)
        self.starts = list(accumulate((len(p) + 1 for p in parts[:-1]), initial=0))

    def part_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def parts_containing(self, words: tuple[str, ...]) -> set[int]:
        """Indexes of the parts that contain one of ``words``."""
        found: set[int] = set()
        text, starts, last = self.text, self.starts, len(self.starts) - 1
        for word in words:
            i = text.find(word)
            while i >= 0:
                part = bisect.bisect_right(starts, i) - 1
                found.add(part)
                if part == last:
                    break
                i = text.find(word, starts[part + 1])
        return found


def items(text: str) -> list[tuple[str, str]]:
    """(section, item) pairs of a criteria text in document order (section: inclusion / exclusion / other)."""
    if not isinstance(text, str) or not text.strip():
        return []
    return _items(text[:MAX_TEXT])
