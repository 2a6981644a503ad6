"""Plain words for what the app shows, and the escape that keeps record text inert.

Record text comes from third parties: it is always passed through ``md_escape`` (or shown as
plain text) so a record can never render a link, an image or HTML in the app. No streamlit here.
"""
from __future__ import annotations

import datetime as dt
import re
import string
from typing import Iterable

from .annotate import is_stale
from .classify import Classification
from .geo import BY_CITY, BY_ZIP, DISTANCE_UNKNOWN, KM_PER_MILE
from .model import Site, Study
from .query import NCT_ID, PHASES, STATUSES

# --- escaping record text ----------------------------------------------------------------------

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_WS = re.compile(r"\s+")
_AUTOLINK = re.compile(r"(https?://|www\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"  # invisible; stops GFM autolinks (see md_escape)


def md_escape(text: str, *, limit: int | None = None) -> str:
    """Record text made inert for st.markdown: every ASCII punctuation mark is backslash-escaped
    (CommonMark renders an escaped mark as itself), whitespace is collapsed to single spaces, and
    an invisible word joiner goes before URLs, www. addresses and "@", so no link, image, autolink,
    e-mail link, HTML tag, heading, list, table or maths can come out of it."""
    text = _WS.sub(" ", str(text or "")).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    # Streamlit's renderer (GFM) turns bare URLs, www. addresses and e-mail addresses into links in
    # the text left after unescaping, so backslashes can't stop those: an invisible word joiner
    # right before them (and before "@") does, as they must start after a space or a punctuation mark
    text = _AUTOLINK.sub(WORD_JOINER + r"\1", text).replace("@", WORD_JOINER + "@")
    return _PUNCT.sub(r"\\\1", text)


def safe_url(study: Study) -> str:
    """The study's ClinicalTrials.gov page, only when its NCT id has the official shape."""
    return study.url if NCT_ID.match(study.nct_id or "") else ""

# --- plain words -------------------------------------------------------------------------------

PHASE_EXPLAINED = {
    "EARLY_PHASE1": "Early phase 1: a very small first look at a treatment in people.",
    "PHASE1": "Phase 1: a first test in people, mainly about safety and the right dose; usually small.",
    "PHASE2": "Phase 2: checks whether the treatment works and what its side effects are, in more people.",
    "PHASE3": "Phase 3: compares the treatment with a standard one in many people; often randomized.",
    "PHASE4": "Phase 4: studies an approved treatment in everyday use.",
    "NA": "No phase: not a drug study in phases (for example a test, a device or a care study).",
}

_STATUS_ICON = {
    "RECRUITING": "✅", "NOT_YET_RECRUITING": "⏳", "ENROLLING_BY_INVITATION": "✉️",
    "ACTIVE_NOT_RECRUITING": "⏸️", "SUSPENDED": "⏸️", "TERMINATED": "⛔", "WITHDRAWN": "⛔",
    "COMPLETED": "🏁", "AVAILABLE": "✅", "NO_LONGER_AVAILABLE": "⛔", "TEMPORARILY_NOT_AVAILABLE": "⏸️",
    "APPROVED_FOR_MARKETING": "🏁", "WITHHELD": "❔", "UNKNOWN": "❔",
}
_STATUS_MEANING = {
    "RECRUITING": "open to new participants",
    "NOT_YET_RECRUITING": "not open to participants yet",
    "ENROLLING_BY_INVITATION": "only people invited by the study team can join",
    "ACTIVE_NOT_RECRUITING": "running, but taking no new participants",
    "SUSPENDED": "paused, taking no new participants",
    "TERMINATED": "stopped early",
    "WITHDRAWN": "stopped before anyone joined",
    "COMPLETED": "finished",
    "UNKNOWN": "the registry has not heard from the study in a long time",
}


def phase_words(phases: Iterable[str]) -> str:
    """('PHASE1', 'PHASE2') -> 'Phase 1 and Phase 2'; nothing -> 'Phase not given'."""
    words = [PHASES.get(p, p.replace("_", " ").title()) for p in phases or ()]
    words = ["No phase (not a drug study)" if w == "Not applicable" else w for w in words]
    if not words:
        return "Phase not given"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def status_words(status: str) -> str:
    """Icon AND words (never colour alone): '✅ Recruiting — open to new participants'."""
    label = STATUSES.get(status, status.replace("_", " ").capitalize() if status else "Status not given")
    icon = _STATUS_ICON.get(status, "❔")
    meaning = _STATUS_MEANING.get(status)
    return f"{icon} {label}" + (f" — {meaning}" if meaning else "")


def site_status_words(status: str) -> str:
    if not status:
        return "❔ Status not given"
    return f"{_STATUS_ICON.get(status, '❔')} {STATUSES.get(status, status.replace('_', ' ').capitalize())}"


APPROXIMATE = {BY_ZIP: "from the site's ZIP code", BY_CITY: "from the site's city centre"}


def distance_words(miles: float | None, unit: str = "mi", basis: str = "") -> str:
    """'about 12 miles', 'about 12 miles (from the site's ZIP code)' when approximate."""
    if miles is None:
        return DISTANCE_UNKNOWN
    shown = f"about {miles * KM_PER_MILE:,.0f} km" if unit == "km" else f"about {miles:,.0f} miles"
    return f"{shown} ({APPROXIMATE[basis]})" if basis in APPROXIMATE else shown


def place_words(site: Site) -> str:
    return ", ".join(p for p in (site.facility, site.city, site.state, site.country) if p) or "site not named"


def updated_words(study: Study) -> str:
    bits = []
    if study.last_update_posted:
        bits.append(f"Last updated {study.last_update_posted}")
    if study.status_verified:
        bits.append(f"status last checked {study.status_verified}")
    return ", ".join(bits) if bits else "Date of last update not given"


STALE_BADGE = "⚠️ Status not verified for over 12 months: check with the study team that it is still current."
UNDATED_BADGE = "ℹ️ This copy of the record does not say when its status was last checked: confirm with the study team."


def stale_badge(study: Study, today: dt.date | None = None) -> str:
    stale = is_stale(study, today)
    return STALE_BADGE if stale else (UNDATED_BADGE if stale is None else "")


NOT_ONLY_MYELOMA = "Not only for myeloma"
NOT_ONLY_MYELOMA_EXPLAINED = (
    "🧩 Not only for myeloma: the study also enrols people with other diseases, for example several blood cancers "
    "(lymphoma, leukaemia) or advanced cancers, usually in separate groups (cohorts). It is shown when its myeloma "
    "group fits; the criteria say which group a person could join.")


def not_only_myeloma_badge(c: Classification) -> str:
    """'🧩 Not only for myeloma: this study also enrols people with other blood cancers.' ('' when only myeloma)."""
    if c.myeloma_only or not c.also_enrols:
        return ""  # a study of another disease says so in its patient group instead
    return f"🧩 {NOT_ONLY_MYELOMA}: this study also enrols people with {c.also_enrols}."


def join_or(words: Iterable[str]) -> str:
    """('a', 'b', 'c') -> 'a, b or c'."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def studies_words(n: int) -> str:
    return f"{n} study" if n == 1 else f"{n} studies"


NOT_GIVEN = "not given"  # a fact the record leaves out


def age_words(minimum: str, maximum: str) -> str:
    """'18 Years and older', 'up to 75 Years', '18 Years to 75 Years', or 'not given'."""
    if minimum and maximum:
        return f"{minimum} to {maximum}"
    if minimum:
        return f"{minimum} and older"
    if maximum:
        return f"up to {maximum}"
    return NOT_GIVEN


def sex_words(sex: str) -> str:
    return {"ALL": "all", "FEMALE": "female only", "MALE": "male only"}.get(sex, NOT_GIVEN)


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def email_link(email: str) -> str:
    """A tappable e-mail link for st.markdown when the address has an ordinary shape (its text
    escaped, so nothing in it is read as Markdown); the address as escaped text otherwise."""
    email = (email or "").strip()
    if not _EMAIL.fullmatch(email):
        return md_escape(email)
    text = _PUNCT.sub(r"\\\1", email)
    return f"[{text}](mailto:{email})"


# Where the list comes from, in plain words (the technical reason goes in an expander)
SOURCE_WORDS = {
    "live": "Live from ClinicalTrials.gov.",
    "store": "From this site's own copy of ClinicalTrials.gov, kept up to date automatically.",
    "cache": ("ClinicalTrials.gov can't be reached right now, so this is the answer saved the last time the "
              "same search worked. Newer studies and status changes may be missing."),
    "snapshot": ("ClinicalTrials.gov can't be reached right now, so this list comes from a small copy that comes "
                 "with the app. It does not hold every myeloma study, and studies may have opened or closed since: "
                 "check with the study team."),
}


def source_words(source: str, banner: str, snapshot_size: int | None = None) -> str:
    """'ClinicalTrials.gov can't be reached right now … (offline — bundled snapshot, data as of …; 86 studies)'."""
    words = SOURCE_WORDS.get(source, "")
    if source == "snapshot" and snapshot_size:
        banner += f"; {snapshot_size} studies in all"
    return f"{words} ({banner})" if words else banner
