"""Numbers read from eligibility sentences: prior lines of therapy.

    min_prior_lines / max_prior_lines from "≥ 3 prior lines", "at least three
    prior regimens", "1 to 3 prior lines", "between 1 and 4 previous courses",
    "no more than 2", "more than 2" (min 3), "fewer than 4" (max 3), "only 1
    prior line" / a bare count (min = max). "therapies", "regimens",
    "treatments", "courses" count as lines; cycles/doses/weeks never do.
    Sentences that define counting ("is considered 1 prior therapy",
    "(considered 1 prior regimen)") are ignored, and so is the regimen a
    response was to ("response of at least PR to 1 line of prior therapy").
    "must not have received more than 3" is a maximum, and so is a trailing
    "and no more than 3". Lists ("1, 2 or 3 prior lines") are ranges. The
    rank of the relapse an inclusion asks for counts ("in first or second
    relapse": 1 to 2). Relapse after prior therapy implies one line only when
    the text states no count. Several statements (cohorts): min = smallest minimum, max =
    largest maximum (the least restrictive reading).
    max = 0 only from explicit statements: "previously untreated … myeloma",
    "no prior systemic/anti-myeloma therapy", "must not have been previously
    treated with any systemic therapy for myeloma" (inclusion, or a legacy
    text's unheaded items), or an exclusion item
    "prior/previous anti-myeloma therapy", "previous treatment for myeloma",
    "previously treated". "Newly diagnosed" alone gives null, and so does
    "no more than one cycle of treatment" (cycles are not lines).
"""
from __future__ import annotations

import re

from trials.criteria_flags import _PERMIT_RX

_NUMWORDS = {"zero": 0, "no": 0, "one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4,
             "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUM = r"(?:\d{1,2}|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_NOUN = (r"(?:lines?|regimens?|therap(?:y|ies)|treatments?|courses?)")
_BAD_GAP = r"(?:cycles?|doses?|weeks?|days?|months?|years?|mg|hours?|times?|of\s+the\s+following|drugs?|agents?|inhibitors?|half)"
# up to 4 filler words between the number and the noun, none of which is a unit
_GAP = rf"(?:(?!{_BAD_GAP}\b)[\w()/'-]+\s+){{0,4}}?"
_LINE_TAIL = rf"(?:\s+(?!of\b){_GAP}|\s+of\s+the\s+following\s+(?:\w+\s+)?){_NOUN}\b"
_RANGE_RX = re.compile(
    rf"\b(?:between\s+)?(?P<a>{_NUM})(?:\s*,\s*{_NUM})*\s*(?:to|-|–|—|,?\s*and|&|,?\s*or|,?\s*(?:but|and)\s+(?:no|not)\s+(?:more|greater)\s+than"
    rf"|,?\s*(?:but|and)\s+(?:≤|<=|≦)|,?\s*but\s+(?:less|fewer)\s+than)"
    rf"\s*(?P<b>{_NUM}),?(?P<tail>{_LINE_TAIL})", re.I)
_MIN_RX = re.compile(
    rf"(?:\bat\s+least|\bminimum\s+of|\ba\s+minimum\s+of|≥|>=|≧|\bgreater\s+than\s+or\s+equal\s+to|\bequal\s+to\s+or\s+more\s+than)"
    rf"\s*\(?(?:≥|>=)?\)?\s*(?P<n>{_NUM}){_LINE_TAIL}"
    rf"|\b(?P<n2>{_NUM})\s+or\s+more{_LINE_TAIL}"
    rf"|\b(?P<n3>{_NUM}){_LINE_TAIL}\s+or\s+more\b", re.I)
_GT_RX = re.compile(
    rf"(?<!no\s)(?<!not\s)(?:\bmore\s+than|\bgreater\s+than|\bover|>(?!=))\s*(?P<n>{_NUM}){_LINE_TAIL}", re.I)
_MAX_RX = re.compile(
    rf"(?:\bno\s+more\s+than|\bnot\s+more\s+than|\bno\s+greater\s+than|\bnot\s+greater\s+than|\bat\s+most|\bup\s+to|\bmaximum\s+of|\ba\s+maximum\s+of|≤|<=|≦|\bless\s+than\s+or\s+equal\s+to)"
    rf"\s*(?P<n>{_NUM}){_LINE_TAIL}"
    rf"|\b(?P<n2>{_NUM})\s+or\s+(?:fewer|less){_LINE_TAIL}"
    rf"|\b(?P<n3>{_NUM}){_LINE_TAIL}\s+or\s+(?:fewer|less)\b", re.I)
_LT_RX = re.compile(
    rf"(?:\bless\s+than|\bfewer\s+than|<(?!=))\s*(?P<n>{_NUM}){_LINE_TAIL}", re.I)
_EXACT_RX = re.compile(
    rf"(?<![\w≥≤<>=.,/-])(?:(?:only|exactly)\s+)?(?P<n>{_NUM})\s+(?:prior|previous|treatment|therapy)\s+(?:{_GAP}){_NOUN}\b"
    rf"|(?<![\w≥≤<>=.,/-])(?P<n2>{_NUM})\s+(?:lines?|regimens?)\s+(?:of\s+)?(?:prior|previous)\b", re.I)
_IGNORE_LINES_RX = re.compile(r"\b(?:considered|counted|defined|count)\s+as\b"
                              r"|\bno\s+upper\s+limit\b|\bstrat(?:um|a)\b", re.I)
# "for multiple myeloma", "to smoldering myeloma", "directed to multiple myeloma"
_MYELOMA_STAGE = r"(?:symptomatic|smou?lde?ring|active)"
_FOR_MYELOMA = (r"(?:for|to|directed\s+(?:to|at|against))\s+(?:the\s+treatment\s+of\s+)?"
                rf"(?:{_MYELOMA_STAGE}\s+(?:(?:or|and|and/or)\s+{_MYELOMA_STAGE}\s+)?)?"
                r"(?:multiple\s+)?(?:myeloma|mm)\b")
_WASH_OUT_RX = re.compile(r"\bwithin\b|\bhalf[\s-]?li(?:fe|ves)\b", re.I)
_ZERO_INCL_RX = re.compile(
    r"\bpreviously\s+untreated\b(?:\W+\w+){0,6}?\W+(?:myeloma|mm|disease)\b"
    r"|\bpreviously\s+untreated\s+with\s+(?:any\s+)?(?:systemic\s+)?(?:chemotherapy|therapy|treatment)\b"
    r"|\b(?:treatment|therapy)[\s-]na[iï]ve\b(?:\W+\w+){0,4}?\W+(?:myeloma|mm)\b"
    r"|\bno\s+(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma|anti-?\s?cancer|anticancer|systemic)?\s*"
    r"(?:therapy|treatment)\s+for\s+(?:multiple\s+)?(?:myeloma|mm)\b"
    r"|\bno\s+(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\s+(?:therapy|treatment)"
    r"|\bno\s+(?:prior|previous)\s+(?:systemic\s+)?(?:chemotherapy|therapy|treatment)(?:\s+(?:or|and|and/or)\s+[\w-]+){0,2}\s+for\s+"
    r"(?:the\s+treatment\s+of\s+)?(?:(?:multiple\s+)?(?:myeloma|mm)|(?:this|the|their|his\s+or\s+her)\s+disease)\b"
    r"|\b(?:not|never)\s+(?:have\s+)?(?:been\s+)?previously\s+(?:treated|received)\s+(?:with\s+)?(?:any\s+)?(?:prior\s+)?"
    r"(?:systemic\s+)?(?:chemotherapy|therapy|treatment)\s+for\s+(?:the\s+treatment\s+of\s+)?(?:multiple\s+)?(?:myeloma|mm)\b", re.I)
# Kept apart from _ZERO_INCL_RX (a look-behind in an alternative slows the search of all of them ten-fold) and run
# only on sentences with their words: "untreated myeloma", "treatment naive", "have not received any prior
# anti-myeloma treatment" (but not "... treatment with daratumumab").
_ZERO_NEG_RX = re.compile(
    r"(?<!previously\s)\buntreated\s+(?:symptomatic\s+|active\s+|newly\s+diagnosed\s+)?(?:multiple\s+)?myeloma\b"
    r"|\btreatment[\s-]na[iï]ve\s*(?:[.;,)]|$)"
    r"|^\W*(?:previously\s+)?untreated(?:\s+(?:patients|subjects|participants))?\W*$"  # the whole item: "Previously untreated"
    r"|\b(?:not|never)\s+(?:have\s+|having\s+)?(?:been\s+)?(?:previously\s+)?(?:received|had|been\s+treated\s+with|undergone)\s+"
    r"(?:any\s+)?(?:prior\s+|previous\s+)?(?:systemic\s+)?(?:anti-?\s?myeloma\s+|antimyeloma\s+|anti-?\s?cancer\s+)?"
    r"(?:chemotherapy|therap(?:y|ies)|treatments?)"
    r"(?=\s*(?:" + _FOR_MYELOMA + r"|[.;,)]|$))", re.I)
_ZERO_EXCL_RX = re.compile(
    r"\b(?:prior|previous)\s+(?:use\s+of\s+|treatment\s+with\s+|therapy\s+with\s+)?[^.;]{0,40}?\bor\s+(?:any\s+)?other\s+"
    r"(?:anti-?\s?myeloma|antimyeloma)\s+(?:therapy|treatment)|"  # "Any prior use of CC-5013 or other anti-myeloma therapy"
    r"\b(?:multiple\s+)?(?:myeloma|mm)\s+(?:treatment|therapy)\s+prior\s+to\s+(?:entry|enrol\w*|registration|randomi[sz]ation|(?:the\s+)?study)\b|"  # "Myeloma treatment prior to entry"
    r"\b(?:prior|previous)\s+(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\s+(?:therapy|treatment)"
    r"|\b(?:prior|previous)\s+(?:treatment|therapy)\s+with\s+(?:any\s+)?(?:systemic\s+)?(?:anti-?\s?myeloma|antimyeloma)\b"
    r"|\b(?:prior|previous)(?:\s+or\s+(?:current|concurrent))?\s+(?:systemic\s+)?(?:treatment|therapy|chemotherapy)(?:\s+or\s+[\w\s()-]{1,50}?)?"
    r"\s+" + _FOR_MYELOMA +
    r"|\bpreviously\s+(?:received|had|undergone)\s+(?:any\s+)?(?:systemic\s+)?(?:treatment|therapy)\s+" + _FOR_MYELOMA +
    r"|^(?:has\s+|have\s+)?(?:prior|previous)(?:\s+or\s+current)?\s+(?:systemic\s+)?(?:treatment|therapy)\s+(?:having|with\s+(?:a|an|any))\b[^.;]{0,60}\bmyeloma\b"
    r"|^(?:patients?\s+)?previously\s+treated\W*$"
    r"|^(?:participant|patient|subject)s?\s+(?:has|have)\s+(?:had\s+)?(?:prior|previous)(?:\s+or\s+current)?\s+(?:systemic\s+)?(?:treatment|therapy)", re.I)


def _num(s: str) -> int | None:
    s = s.lower().strip()
    if s.isdigit():
        return int(s)
    return _NUMWORDS.get(s)


_LINE_LITERALS = {
    "min": ("least", "minimum", "≥", ">=", "≧", "greater than", "or more", "equal to"),
    "gt": ("more than", "greater than", "over", ">"),
    "max": ("more than", "greater than", "at most", "up to", "maximum", "≤", "<=", "≦", "or fewer", "or less", "less than"),
    "lt": ("less than", "fewer than", "<"),
}
_LINES_PRE_RX = re.compile(r"lines?\b|regimens?\b|therap(?:y|ies)\b|treatments?\b|courses?\b", re.I)
_NUM_PRE_RX = re.compile(rf"\d|\b{_NUM}\b", re.I)
# On _fold(text), a case-sensitive match is the same as a case-insensitive match on the text;
# without IGNORECASE the regex engine can skip quickly to the first letters of the patterns.


def _lower_twin(rx: re.Pattern) -> re.Pattern:
    """The same pattern without IGNORECASE: on ``_fold(sentence)`` it finds the same spans (with
    lower-cased groups) as ``rx`` on the sentence; the patterns' letters are all lower-case."""
    return re.compile(rx.pattern, rx.flags & ~re.IGNORECASE)


# Every line-count regex has a number followed by whitespace, then at most six words, then a
# line noun as a whole word: without such a stretch none of them can match.
_NUM_NOUN_LOW_RX = re.compile(r"(?:\d|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve),?\s+(?:\S+\s+){0,6}?"
                              r"(?:lines?|regimens?|therap(?:y|ies)|treatments?|courses?)\b")
_NUM_PRE_LOW_RX = re.compile(r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b")
_DIGIT_RX = re.compile(r"\d")
# keyed by id: hashing a compiled pattern hashes all of its compiled code, which costs as much as a search
_LOW_TWIN = {id(rx): _lower_twin(rx) for rx in (_RANGE_RX, _MAX_RX, _LT_RX, _MIN_RX, _GT_RX, _EXACT_RX, _IGNORE_LINES_RX,
                                            _ZERO_INCL_RX, _ZERO_NEG_RX, _ZERO_EXCL_RX, _PERMIT_RX)}
# Sentences are cleaned (single spaces only), so every match of a regex contains one of these
# literals (lower-case); on a folded sentence a regex is skipped when none is present.
_IGNORE_LINES_LITERALS = ("consider", "count", "defined", "limit", "strat")
_EXACT_LITERALS = (" prior", " previous", " treatment ", " therapy ")
_LINE_LITERALS_FOLDED = {
    "min": ("at least", "minimum of", "≥", ">=", "≧", "greater than or equal to", "equal to or more than", "or more"),
    "gt": _LINE_LITERALS["gt"],
    "max": ("no more than", "not more than", "no greater than", "not greater than", "at most", "up to", "maximum of", "≤", "<=", "≦", "less than or equal to",
            "or fewer", "or less"),
    "lt": _LINE_LITERALS["lt"],
}
_LEAST_RX = re.compile(r"\b(?:at\s+least|minimum|or\s+more)\b", re.I)


_LABEL_NUMBER_RX = re.compile(
    # a counting definition: "(considered 1 prior regimen)", "were considered 1 line of therapy"
    r"\bconsidered\s+(?:to\s+be\s+|as\s+)?(?:a|an|one|1|a\s+single)\s+(?:\w+\s+)?(?:lines?|regimens?|therap(?:y|ies))\b|"
    r"\b(?:criteri(?:a|on)|items?|sections?|grades?|stages?|cohorts?|parts?|arms?|steps?|levels?|appendix|tables?"
    r"|versions?|phases?|days?|cycles?|weeks?|months?|years?|groups?)\s+#?\d{1,3}[a-z]?\b", re.I)


_LABEL_NUMBER_LOW_RX = _lower_twin(_LABEL_NUMBER_RX)


_TRAILING_MAX_RX = re.compile(rf"\b(?:and|but)\s+(?:no|not)\s+(?:more|greater)\s+than\s+(?P<n>{_NUM})\s*(?:[.;,)]|$)", re.I)
# "response of at least PR to 1 line of prior therapy", "stable disease ... to at least one prior regimen":
# the count says which regimen the disease answered, not how many the patient had
_RESPONSE_TO_RX = re.compile(r"\b(?:respon\w*|stable\s+disease|remission)\b[^.;]{0,80}\bto\s+(?:at\s+least\s+)?$", re.I)
# "must not have received more than 3 prior regimens": a ceiling, not a floor
_NEGATED_VERB_RX = re.compile(r"\b(?:not|never)\s+(?:\w+\s+){0,3}$", re.I)


def _lines_in(sent: str, low: str | None = None) -> tuple[int | None, int | None]:
    """(min, max) stated by one sentence (each may be None). ``low``: ``_fold(sent)`` when not None;
    the regexes then run case-sensitively on it (same matches)."""
    if low is not None:
        # _LINES_PRE_RX is implied by _NUM_NOUN_LOW_RX; each test is necessary for any match below
        if "line" not in low and "regimen" not in low and "therap" not in low and "treatment" not in low \
                and "course" not in low:
            return None, None
        # a digit (found quickly: the regex skips to it) is the first alternative of _NUM_PRE_LOW_RX
        if not (_DIGIT_RX.search(low) or _NUM_PRE_LOW_RX.search(low)) or not _NUM_NOUN_LOW_RX.search(low):
            return None, None
        if any(k in low for k in _IGNORE_LINES_LITERALS) and _LOW_TWIN[id(_IGNORE_LINES_RX)].search(low):
            return None, None
        text, twin, literals = low, _LOW_TWIN, _LINE_LITERALS_FOLDED
    else:
        if not _LINES_PRE_RX.search(sent) or not _NUM_PRE_RX.search(sent) or _IGNORE_LINES_RX.search(sent):
            return None, None
        text, twin, literals = sent, None, _LINE_LITERALS
        low = sent.lower()
    label_rx = _LABEL_NUMBER_RX if twin is None else _LABEL_NUMBER_LOW_RX
    if label_rx.search(text):  # "Criteria 5 ...", "Grade 3 ...": not a count of lines
        text = label_rx.sub(lambda m: " " * len(m.group(0)), text)
        sent = text if twin is None else sent
    lo: int | None = None
    hi: int | None = None
    taken: list[tuple[int, int]] = []

    def free(m: re.Match) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    for m in (twin[id(_RANGE_RX)] if twin else _RANGE_RX).finditer(text):
        a, b = _num(m.group("a")), _num(m.group("b"))
        if b is not None and "less" in m.group(0).lower() or "fewer" in m.group(0).lower():
            b = b - 1  # "at least 1, but less than 4 lines": at most 3
        if a is not None and b is not None and a <= b <= 20:
            lo, hi = a, b
            taken.append(m.span())
            break
    for rx, kind in ((_MAX_RX, "max"), (_LT_RX, "lt"), (_MIN_RX, "min"), (_GT_RX, "gt")):
        if not any(k in low for k in literals[kind]):
            continue
        for m in (twin[id(rx)] if twin else rx).finditer(text):
            if not free(m):
                continue
            n = _num(next(g for g in (m.groupdict().get(k) for k in ("n", "n2", "n3")) if g))
            if n is None or _RESPONSE_TO_RX.search(text, 0, m.start()):
                continue
            taken.append(m.span())
            if kind == "gt" and _NEGATED_VERB_RX.search(text, max(0, m.start() - 40), m.start()):
                kind = "max"
            if kind == "max" and hi is None:
                hi = n
            elif kind == "lt" and hi is None and n > 0:
                hi = n - 1
            elif kind == "min" and lo is None:
                lo = n
            elif kind == "gt" and lo is None:
                lo = n + 1
            break
    if lo is not None and hi is None and "than" in low:
        m = _TRAILING_MAX_RX.search(text)  # "at least 1 prior line of therapy and no more than 3"
        if m and free(m):
            hi = _num(m.group("n"))
    if lo is None and hi is None:
        if twin is not None and not any(k in low for k in _EXACT_LITERALS):
            return lo, hi
        m = (twin[id(_EXACT_RX)] if twin else _EXACT_RX).search(text)
        if m and free(m) and not _RESPONSE_TO_RX.search(text, 0, m.start()):
            n = _num(m.group("n") or m.group("n2"))
            if n is not None and not _LEAST_RX.search(sent[max(0, m.start() - 14):m.start()]):
                # "received 2 prior lines" is a minimum; "only / exactly 1 prior line" also a maximum
                lo = n
                if m.group(0)[:4].lower() in ("only", "exac"):
                    hi = n
    return lo, hi


_OR_TREATED_RX = re.compile(r"\b(?:untreated|na[iï]ve|newly\s+diagnosed)\s+(?:\w+\s+)?(?:or|and/or|and)\s+"
                            r"(?:relaps|refractory|recurr|progressive|previously\s+treated|pre-?treated)", re.I)


def _states_no_prior_therapy(sent: str, section: str, low: str | None) -> bool:
    """'previously untreated myeloma' (inclusion or unheaded), 'prior anti-myeloma therapy' (exclusion).
    ``low``: ``_fold(sent)``; when given, a sentence without the words every alternative needs is
    rejected before the regexes run."""
    if section in ("inclusion", "other"):  # legacy texts without headings state requirements as "No prior ..."
        if _OR_TREATED_RX.search(sent):
            return False  # "previously untreated or relapsed myeloma": the treated may join too
        if low is None:
            return bool(_ZERO_INCL_RX.search(sent) or _ZERO_NEG_RX.search(sent)) and not _PERMIT_RX.search(sent)
        found = False
        if "prior" in low or "previous" in low or "naive" in low or "naïve" in low:
            found = bool(_LOW_TWIN[id(_ZERO_INCL_RX)].search(low))
        if not found and ("untreated" in low or "naive" in low or (
                ("not " in low or "never" in low) and ("therap" in low or "treatment" in low))):
            found = bool(_LOW_TWIN[id(_ZERO_NEG_RX)].search(low))
        return found and not _LOW_TWIN[id(_PERMIT_RX)].search(low)
    if section == "exclusion":
        if low is not None and "prior" not in low and "previous" not in low:
            return False
        found = _ZERO_EXCL_RX.search(sent) if low is None else _LOW_TWIN[id(_ZERO_EXCL_RX)].search(low)
        # "prior therapy for myeloma within 14 days", "within 5 half-lives of previous therapy": a wash-out
        return bool(found) and not _WASH_OUT_RX.search(sent)
    return False



# ---- lab and fitness limits ----------------------------------------------------------------
# "CrCl ≥ 30 mL/min" (inclusion) and "creatinine clearance < 30 mL/min" (exclusion) both give 30;
# "CrCl < 30 mL/min" as an inclusion (a study for impaired kidneys) gives no floor;
# "ECOG 0-2", "ECOG ≤ 2" (inclusion) and "ECOG ≥ 3" (exclusion) all give 2.
_CMP = r"(?P<cmp>>\s*/\s*=|<\s*/\s*=|≥|>=|≧|=>|>|≤|<=|≦|=<|<|at\s+least|not?\s+(?:greater|more|higher|less|lower)\s+than|up\s+to" \
       r"|equal\s+to\s+or\s+(?:greater|more|less|lower)\s+than|greater\s+than(?:\s+or\s+equal\s+to)?|more\s+than|over|above" \
       r"|less\s+than(?:\s+or\s+equal\s+to)?|below|under|lower\s+than|of|to|is|was)?"
_CRCL_RX = re.compile(
    r"\b(?:creatin(?:in)?e\s+clearance|clear\w*\s+(?:of\s+)?creatinine|crcl|clcr|cr\s*cl|e?gfr"
    r"|(?:estimated\s+)?glomerular\s+filtration\s+rate|renal\s+clearance)\b"
    r"(?:\s*\([^)]{0,120}\))?[^.;\d≥≤<>]{0,60}?" + _CMP
    + r"\s*(?P<n>\d{2,3}(?:\.\d+)?)(?!\s*(?:%|percent|hours?|h\b|hr|-hour|mg))\s*(?P<unit>ml|mL|cc)?", re.I)
_ECOG_RX = re.compile(
    r"\b(?:ecog|eastern\s+cooperative\s+oncology\s+group|(?-i:WHO)|world\s+health\s+organi[sz]ation|zubrod"
    r"|perf(?:ormance)?\.?\s+(?:status|index)|(?-i:PS))\b"
    r"(?:\s*\([^)]{0,40}\))?[^.;\d≥≤<>]{0,50}?" + _CMP
    + r"\s*(?P<a>[0-4]|\b(?:zero|one|two|three|four)\b)(?P<more>(?:\s*(?:-|–|to|,\s*or|,|or|and)\s*(?:[0-4]|\b(?:zero|one|two|three|four)\b)){0,4})"
    r"(?!\s*\.\d|\d|\s*(?:mg|g/|%|x|weeks?|days?|months?))",
    re.I)
_SCORE = {**{str(n): n for n in range(5)}, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4}  # "zero to two"
_SCORE_RX = re.compile(r"[0-4]|zero|one|two|three|four", re.I)
_GREATER = ("≥", ">=", "≧", "=>", ">", "at least", "greater", "more", "over", "above")
_LESS_STRICT = ("<", "less than", "below", "under", "lower than")


# older records write ">/=" for ≥; "equal to or less than" is "less than or equal to"
_CMP_SPELLINGS = {">/=": ">=", "</=": "<=", "equal to or greater than": "greater than or equal to",
                  "equal to or more than": "greater than or equal to", "equal to or less than": "less than or equal to",
                  "equal to or lower than": "less than or equal to",
                  "no greater than": "less than or equal to", "not greater than": "less than or equal to",
                  "no more than": "less than or equal to", "not more than": "less than or equal to",
                  "no higher than": "less than or equal to", "not higher than": "less than or equal to",
                  "up to": "less than or equal to",
                  "no less than": "greater than or equal to", "not less than": "greater than or equal to",
                  "no lower than": "greater than or equal to", "not lower than": "greater than or equal to"}


def _cmp(m: re.Match) -> str:
    cmp = " ".join((m.group("cmp") or "").lower().split())
    return _CMP_SPELLINGS.get(cmp.replace(" /", "/").replace("/ ", "/"), cmp)


_CRCL_NEEDLES = ("creatinine", "creatine clearance", "crcl", "clcr", "cr cl", "gfr", "glomerular", "renal clearance")


def _crcl(sent: str, section: str) -> int | None:
    low = sent.lower()
    if not any(n in low for n in _CRCL_NEEDLES):
        return None
    m = _CRCL_RX.search(sent)
    if not m or "dialys" in sent[:m.start()].lower():
        return None
    n = float(m.group("n"))
    if not (m.group("cmp") or m.group("unit")):  # a bare number near the words is not a limit
        return None
    if not 10 <= n <= 150:
        return None
    if section == "inclusion" and _cmp(m).startswith(_LESS_STRICT + ("≤", "<=", "≦", "=<")):
        return None  # "creatinine clearance < 30 mL/min" as an inclusion: a study for impaired kidneys, no floor
    return round(n)


def _ecog(sent: str, section: str) -> int | None:
    low = sent.lower()
    if "ecog" not in low and "perf" not in low and "zubrod" not in low and "PS" not in sent:
        return None
    m = _ECOG_RX.search(sent)
    if not m:
        return None
    nums = [_SCORE[d.lower()] for d in _SCORE_RX.findall(m.group(0)[m.start("a") - m.start():])]  # "0, 1, 2 or 3"
    cmp = _cmp(m)
    if section == "exclusion":  # "ECOG ≥ 3" / "> 2" bars entry: the highest allowed is below it
        if cmp.startswith(_GREATER):
            return max(0, nums[0] - (0 if cmp in (">", "greater than", "more than", "over", "above") else 1))
        return None
    if len(nums) > 1:
        return max(nums)
    if cmp.startswith(_LESS_STRICT) and "equal" not in cmp:
        return max(0, nums[0] - 1)
    if cmp.startswith(_GREATER):
        return None  # "ECOG ≥ 2" in inclusion is not a ceiling
    return nums[0]


class _Reader:
    def __init__(self, read, looser, needles: tuple[str, ...]):
        self.read = read
        self.looser = looser  # (new, old) -> True when new is the less restrictive limit
        self.needles = needles  # lower-case words every statement it reads contains one of


# Several statements (cohorts, "or" alternatives): the least restrictive one is kept.
NUMBER_READERS = {
    "min_creatinine_clearance": _Reader(_crcl, lambda new, old: new < old, _CRCL_NEEDLES),
    "max_ecog": _Reader(_ecog, lambda new, old: new > old, ("ecog", "perf", "zubrod", "who", "ps")),
}


# --------------------------------------------------------------------------------------
# Prior lines of one sentence, as the reader takes them
# --------------------------------------------------------------------------------------
# a cohort of another disease in a basket study ("CLL failing at least 2 prior regimens")
_OTHER_DISEASE_RX = re.compile(r"\b(?:lymphoma|leuka?emia|cll|sll|aml|mds|myelodysplastic|solid\s+tumou?rs?|carcinoma)\b",
                               re.I)
_MYELOMA_RX = re.compile(r"\bmyeloma\b|\bmm\b", re.I)


_AFTER_PRIOR_RX = re.compile(
    r"\b(?:relaps\w*|progress\w*|refractory|persistent|recurr\w*)\b[^.;]{0,60}\b(?:after|following|despite|on|to|from)\s+"
    r"(?:(?:at\s+least\s+)?(?:one|1|an?|the|their|any)\s+)?(?:immediately\s+)?"
    r"(?:prior|previous|initial|first[\s-]line|earlier|last|most\s+recent|latest)\b"
    r"|\bpreviously\s+treated\b|\bpre-?treated\b"
    # "PD during or after treatment with high-dose dexamethasone"
    r"|\b(?:pd|progress\w*|relaps\w*)\b[^.;]{0,40}?\b(?:during|on)\s+or\s+(?:after|following)\s+(?:treatment|therapy)\b"
    # "progressed while receiving bortezomib or carfilzomib": treated when it progressed
    r"|\b(?:relaps|progress)\w*\s+(?:while|whilst)\s+(?:on|receiving|taking|being\s+treated)\b"
    # "failed prior conventional therapy", "failure of first-line treatment"
    r"|\bfail(?:ed|ure\s+of|ing)\s+(?:(?:at\s+least\s+)?(?:one|1|an?|the|their|any)\s+)?(?:prior|previous|initial|first[\s-]line|conventional|standard|induction)\b", re.I)


_NEGATED_RX = re.compile(r"\b(?:not|never|no|without|nor)\b[^.;]{0,25}$", re.I)


AFTER_PRIOR_WORDS = ("relaps", "progress", "refractory", "persistent", "recurr", "treated", "fail", "pd", "rmm", "r mm", "r-mm",
                     "r/mm", "r/r")  # one is in every match of _AFTER_PRIOR_RX and _RELAPSED_DISEASE_RX


def _after_prior_therapy(sent: str) -> bool:
    low = sent.lower()
    if not any(w in low for w in AFTER_PRIOR_WORDS):
        return False
    return _stated_for_myeloma(sent, _AFTER_PRIOR_RX.search(sent))


def _stated_for_myeloma(sent: str, m: re.Match | None) -> bool:
    """A match not negated just before it ("no relapse after ...") and not about another disease's cohort."""
    return bool(m) and not _NEGATED_RX.search(sent, 0, m.start()) and not _other_disease_only(sent)


def _other_disease_only(sent: str) -> bool:
    return bool(_OTHER_DISEASE_RX.search(sent)) and not _MYELOMA_RX.search(sent)


# A folded sentence (``low``) without one of these words states no count (see _lines_in, relapse_rank) ...
LINE_WORDS = ("line", "regimen", "therap", "treatment", "course", "relapse")
# ... and none that it had no prior therapy (see _states_no_prior_therapy).
NO_PRIOR_WORDS = ("prior", "previous", "naive", "naïve", "untreated", "not ", "never")


def prior_lines(sent: str, section: str, low: str | None) -> tuple[int | None, int | None]:
    """(fewest, most) prior lines a sentence states, read for its section: another disease's cohort
    says nothing for myeloma; an exclusion bars the counts it states ("more than 3 prior lines" leaves
    at most 3)."""
    a, b = _lines_in(sent, low)
    if a is None and b is None:
        return relapse_rank(sent, section)
    if _other_disease_only(sent):
        return None, None
    if section == "exclusion" and (a is not None or b is not None):
        return (b + 1 if b is not None and a is None else None), (a - 1 if a is not None and b is None else None)
    return a, b


_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5}
_ORD = r"(?:first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th)"
# "in first or second relapse": as many prior lines as the relapse's rank
# "third-line or later": the study's treatment line, so one fewer prior lines
_LINE_RANK_RX = re.compile(rf"\b(?P<a>{_ORD})[\s-]+line\s+(?:or|and)\s+(?:later|beyond|greater|above|higher)\b", re.I)
_RELAPSE_RANK_RX = re.compile(rf"(?<!beyond\s)(?<!after\s)(?<!least\s)\b(?P<a>{_ORD})(?:\s*(?:,|or|to|-|and)\s*(?P<b>{_ORD}))?"
                              rf"(?:\s+or\s+(?P<later>later|greater|subsequent))?\s+relapses?\b", re.I)


def relapse_rank(sent: str, section: str) -> tuple[int | None, int | None]:
    """(min, max) prior lines from the rank of the relapse an inclusion asks for ("in first relapse": 1, 1) or of
    the study's line ("third-line or later": at least 2)."""
    if section != "inclusion":
        return None, None
    low = sent.lower()
    if "line" in low and ("later" in low or "beyond" in low or "greater" in low or "above" in low or "higher" in low):
        m = _LINE_RANK_RX.search(sent)
        if m and _ORDINALS[m.group("a").lower()] > 1 and not _other_disease_only(sent):
            return _ORDINALS[m.group("a").lower()] - 1, None
    if "relapse" not in low:
        return None, None
    m = _RELAPSE_RANK_RX.search(sent)
    if not m or _other_disease_only(sent):
        return None, None
    a = _ORDINALS[m.group("a").lower()]
    b = _ORDINALS[m.group("b").lower()] if m.group("b") else a
    return a, (None if m.group("later") else max(a, b))


# "relapsed/refractory multiple myeloma", "relapsed or refractory disease": a population already treated
_RELAPSED_DISEASE_RX = re.compile(
    r"\b(?:relaps\w*|refractory|recurrent)(?:\s*(?:and/or|and|or|/|,)\s*(?:relaps\w*|refractory|recurrent|progressive|persistent))?"
    r"\s+(?:[\w-]+\s+){0,3}?(?:multiple\s+myeloma|myeloma|mm|disease|malignanc\w*)\b"
    # the disease named first: "myeloma that is relapsed and/or refractory", "disease which has relapsed"
    r"|\b(?:multiple\s+myeloma|myeloma|mm|disease)\s+(?:that|which)\s+(?:is|has|was)\s+(?:been\s+|now\s+)?(?:relaps\w*|refractory|recurr\w*)"
    r"|\b(?:rr|r/r|r)[\s/-]?mm\b", re.I)  # RRMM, R/R MM, RMM
# a study that also takes people never treated: no minimum follows from a relapsed cohort
# ("failed standard therapy or for which no standard therapy exists": people never treated may join too)
_UNTREATED_RX = re.compile(r"\b(?:newly[\s-]+diagnosed|(?:previously\s+)?untreated|treatment[\s-]+na[iï]ve|smou?lde?ring"
                           r"|or\s+(?:for\s+which\s+)?(?:there\s+is\s+)?no\s+(?:standard|effective|available|known))\b", re.I)
UNTREATED_WORDS = ("newly", "untreated", "naive", "naïve", "smol", "smoul", "no standard", "no effective", "no available",
                   "no known")  # one is in every match (lower-case)


def _relapsed_population(sent: str) -> bool:
    return _stated_for_myeloma(sent, _RELAPSED_DISEASE_RX.search(sent))


def implies_a_prior_line(sent: str, section: str) -> bool:
    """An inclusion demanding a relapsed or refractory disease, or relapse after prior therapy, means at
    least one line; the reader takes it only when the text states no count ("relapsed after prior
    therapy" beside "at least 2 prior lines" says nothing more) and takes no untreated patients."""
    # "other": text under no inclusion/exclusion heading, e.g. the legacy PDQ "DISEASE CHARACTERISTICS", which
    # states demands (and its bans with a "No ...", which _stated_for_myeloma reads as negated)
    if section == "exclusion" or _PERMIT_RX.search(sent):  # "relapse ... is acceptable" permits, demands nothing
        return False
    return _after_prior_therapy(sent) or _relapsed_population(sent)


def takes_untreated(sent: str, section: str) -> bool:
    """An inclusion sentence that lets in people never treated (newly diagnosed, smouldering)."""
    if section == "exclusion":
        return False
    m = _UNTREATED_RX.search(sent)
    return m is not None and not _NEGATED_RX.search(sent, 0, m.start())  # "No smoldering myeloma" bars them
