"""The search behind an export: recorded inside the file, named in its file name, and compared by
`diff` so that two lists made by different searches are not mistaken for a change in the registry.

A record is the search's parameters as text (only those that narrow the list; defaults written
out, so "no --status" and "--status RECRUITING" are the same search) and the ClinicalTrials.gov
list request behind it. Nothing about a person's treatment is recorded: only filters.
In a file it is one JSON object in the `search` column of the first row (see trials.table), and in
an .xlsx also a "search" sheet a person can read.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .query import MYELOMA_CONDITIONS, TrialQuery, build_params

API_QUERY_BASE = "https://clinicaltrials.gov/api/v2/studies"
MAX_NAME = 120  # characters of a file name's stem: well inside every desktop system's limit


@dataclass(frozen=True)
class SearchRecord:
    parameters: dict[str, str] = field(default_factory=dict)  # in a fixed order, empty values left out
    api_query: str = ""  # the list request to ClinicalTrials.gov (the place is matched locally, never sent)

    def to_json(self) -> str:
        return json.dumps({"parameters": self.parameters, "api_query": self.api_query}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "SearchRecord | None":
        """None for anything that is not a record (an edited or foreign cell)."""
        try:
            data = json.loads(text)
            params = data["parameters"]
            if not isinstance(params, dict):
                return None
            return cls({str(k): str(v) for k, v in params.items()}, str(data.get("api_query", "")))
        except (ValueError, TypeError, KeyError):
            return None

    def describe(self) -> str:
        """'status=RECRUITING, near=02115, radius=100mi'."""
        return ", ".join(f"{k}={v}" for k, v in self.parameters.items()) or "no filters"

    def same_search(self, other: "SearchRecord") -> bool:
        return self.parameters == other.parameters


def _api_query(query: TrialQuery) -> str:
    params = build_params(query.with_(near=None), fields=None)
    params.pop("pageSize", None)
    return f"{API_QUERY_BASE}?{urlencode(params)}"


def _miles(miles: float) -> str:
    return f"{miles:g}mi"


def from_query(query: TrialQuery, near: str | None = None) -> SearchRecord:
    """The record of a command-line search (`near` as typed: the place is matched locally)."""
    params = {
        "status": ",".join(query.statuses) or "all",
        "phase": ",".join(query.phases),
        "near": (near or "").strip(),
        "radius": _miles(query.near.miles) if query.near is not None else "",
        "term": " AND ".join(query.terms),
        "updated_since": query.updated_since.isoformat() if query.updated_since else "",
        "id": ",".join(query.nct_ids),
        "condition": "" if query.conditions == MYELOMA_CONDITIONS else " OR ".join(query.conditions),
    }
    return SearchRecord({k: v for k, v in params.items() if v}, _api_query(query))


def from_app_filters(f) -> SearchRecord:
    """The record of the app's list (a filters.Filters): the filters that decide which studies are
    shown. The answers about treatment are not filters and are never recorded."""
    radius = "" if f.radius in ("", "anywhere") else f"{f.radius}{f.unit}"
    params = {
        "status": ",".join(f.statuses) or "all",
        "phase": ",".join(f.phases),
        "near": f.place.strip(),
        "radius": radius if f.place.strip() else "",
        "family": ",".join(f.families),
        "setting": ",".join(f.settings),
        "prior": ",".join(f.prior),
        "age": "" if f.age is None else str(f.age),
        "sex": f.sex,
    }
    query = TrialQuery(statuses=tuple(f.statuses), phases=tuple(f.phases))
    return SearchRecord({k: v for k, v in params.items() if v}, _api_query(query))


# --- file names -------------------------------------------------------------------------------

def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and single dashes: safe in a file name on every system
    ('Liège, Belgium' -> 'liege-belgium')."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


_NAMED = ("status", "phase", "family", "near", "radius", "term", "updated_since", "id", "condition")


def file_name(kind: str, record: SearchRecord | None, day: dt.date, extension: str) -> str:
    """'myeloma-trials-2026-12-03-recruiting-02115-100mi.csv': what, the day it was made, the
    search. kind: 'trials' or 'sites'. Long searches are cut at a dash (the file records them whole)."""
    parts = [f"myeloma-{kind}", day.isoformat()]
    params = record.parameters if record else {}
    for key in _NAMED:
        value = params.get(key, "")
        if key == "id" and value.count(",") > 1:
            value = f"{value.count(',') + 1} studies"
        elif key == "phase":
            value = "phase " + value.replace("PHASE", "").replace("EARLY_1", "early1") if value else ""
        elif key == "updated_since" and value:
            value = f"since {value}"
        if slug(value):
            parts.append(slug(value))
    stem = "-".join(parts)
    if len(stem) > MAX_NAME:
        stem = stem[:MAX_NAME].rsplit("-", 1)[0]
    return f"{stem}.{extension.lstrip('.')}"
