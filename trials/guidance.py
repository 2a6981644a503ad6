"""Relapse timing (early / late) and the guidance of the patient article the app follows.

Pure functions, no streamlit here.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from .errors import BadInput
from .vocabulary import FAMILIES

EARLY_MONTHS = 24  # the article: early = back within two years of remission, late = after more
EARLIEST_DATE = dt.date(1950, 1, 1)  # oldest remission/relapse date the app (widgets and links) accepts

# --- relapse timing ----------------------------------------------------------------------------

TIMINGS = ("early", "late", "unknown")


def timing_from_months(months: float | None) -> str:
    """Length of the last remission in months -> 'early' (< 24), 'late' (>= 24) or 'unknown'."""
    if months is None or isinstance(months, bool):
        return "unknown"
    try:
        months = float(months)
    except (TypeError, ValueError):
        return "unknown"
    if not math.isfinite(months) or months < 0:
        return "unknown"
    return "early" if months < EARLY_MONTHS else "late"


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from start to end: 2022-01-01 -> 2024-01-01 is 24, and one day less
    (2023-12-31) is 23. A month counts once its day of the month is reached (dateutil's rule), so
    2020-02-29 -> 2022-02-28 is 23 and -> 2022-03-01 is 24. Counting days / 30.44 instead made
    exactly two years 23.98 months ("early")."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months - 1 if end.day < start.day else months


def remission_months(remission_start: dt.date | None, relapse: dt.date | None,
                     today: dt.date | None = None) -> float | None:
    """Whole calendar months from the start of the remission to the relapse; None if a date is
    missing.

    Raises BadInput (with a message for the person) when the dates can't both be right."""
    if remission_start is None or relapse is None:
        return None
    today = today or dt.date.today()
    if remission_start < EARLIEST_DATE or relapse < EARLIEST_DATE:
        raise BadInput(f"A date is before {EARLIEST_DATE.year}. Please check the remission and relapse dates.")
    if remission_start > today or relapse > today:
        raise BadInput("A date is in the future. Please check the remission and relapse dates.")
    if relapse < remission_start:
        raise BadInput("The relapse date is before the remission started. Please check the two dates.")
    return months_between(remission_start, relapse)


def relapse_timing(*, months: float | None = None, remission_start: dt.date | None = None,
                   relapse: dt.date | None = None, today: dt.date | None = None) -> str:
    """'early' / 'late' / 'unknown' from months, else from the two dates; bad dates -> BadInput."""
    if months is not None:
        return timing_from_months(months)
    return timing_from_months(remission_months(remission_start, relapse, today))


TIMING_WORDS = {
    "early": "Early relapse: the last remission lasted less than two years (under 24 months).",
    "late": "Late relapse: the last remission lasted two years or more (24 months or more).",
    "unknown": "Relapse timing not given.",
}


# --- guidance (follows the patient article, paraphrased) -------------------------------------

# The article the guidance paraphrases (its text is not bundled: it is paraphrased, never copied)
ARTICLE_TITLE = "What to Do When Multiple Myeloma Relapses: Understanding Treatment Options and Strategies"
GUIDANCE_SOURCE = (f"Source: the patient article \u201c{ARTICLE_TITLE}\u201d, paraphrased. It sorts a relapse "
                   "as early or late by how long the last remission lasted.")
DISCLAIMER = ("This is information to talk over with your care team. It is not medical advice, "
              "and this tool cannot say which treatment or study is right for anyone.")


@dataclass(frozen=True)
class Guidance:
    timing: str
    title: str
    intro: str
    points: tuple[str, ...]
    families: tuple[str, ...]  # families the article brings up, in the order it does
    source: str = GUIDANCE_SOURCE
    disclaimer: str = DISCLAIMER


_GUIDANCE = {
    "early": Guidance(
        "early",
        "Early relapse (the last remission lasted under two years)",
        "The article explains that myeloma returning within about two years can mean it has become "
        "less sensitive to the treatment used before, so repeating that treatment may help less. "
        "Care teams commonly bring up treatments that work in a different way:",
        ("switching to newer drugs that were not part of the earlier treatment",
         "CAR T-cell therapy",
         "bispecific antibodies",
         "anti-CD38 antibodies such as daratumumab, if not used before",
         "in some cases a stem cell transplant",
         "clinical trials, which give access to treatments still being studied"),
        ("car_t", "bispecific", "anti_cd38", "targeted_therapy", "proteasome_inhibitor", "stem_cell_transplant"),
    ),
    "late": Guidance(
        "late",
        "Late relapse (the last remission lasted two years or more)",
        "The article explains that myeloma returning after more than two years tends to behave "
        "less aggressively, and a treatment that worked before may work again. Care teams "
        "commonly bring up:",
        ("treatment similar to what worked the first time",
         "newer immunomodulatory drugs such as pomalidomide",
         "antibody-based treatments",
         "a stem cell transplant for people fit enough, especially if they have not had one",
         "clinical trials of newer treatments"),
        ("immunomodulatory", "anti_cd38", "other_antibody", "stem_cell_transplant", "proteasome_inhibitor"),
    ),
    "unknown": Guidance(
        "unknown",
        "Early or late relapse?",
        "The article sorts a relapse by how long the last remission lasted: early means within "
        "about two years, late means after more than two years, and the options it describes "
        "differ between the two. If you are not sure, the care team can tell you. Give the months "
        "or the two dates above to see which therapy families the article brings up.",
        (),
        (),
    ),
}


def guidance(timing: str) -> Guidance:
    return _GUIDANCE.get(timing, _GUIDANCE["unknown"])


def family_order(timing: str) -> list[str]:
    """Every family: those the guidance brings up first (in its order), then the taxonomy's
    order, 'unclassified' last. Ordering only: nothing is left out."""
    first = [f for f in guidance(timing).families if f in FAMILIES]
    rest = [f for f in FAMILIES if f not in first and f != "unclassified"]
    return first + rest + (["unclassified"] if "unclassified" in FAMILIES else [])



def guidance_summary(timing: str) -> str:
    """One sentence for the short panel: what the article brings up for this timing."""
    g = guidance(timing)
    if not g.families:
        return ("The article sorts a relapse as early (the last remission lasted under two years) or late "
                "(two years or more); give the months or the dates to see what it brings up.")
    labels = [FAMILIES[f].label for f in g.families if f in FAMILIES]
    return (f"For an {timing} relapse the article brings up: " + ", ".join(labels[:-1]) + " and " + labels[-1]
            + ". Studies of these kinds are marked \u2605 and come first.")
