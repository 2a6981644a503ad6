"""The bundled snapshot: real ClinicalTrials.gov records shipped inside the package, so the tool
works on a machine with no network, and the local filter that answers a TrialQuery from it.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .model import Study
from .query import TrialQuery

SNAPSHOT_PATH = Path(__file__).parent / "data" / "snapshot.json.gz"  # the bundled one
SNAPSHOT_ENV = "TRIALS_SNAPSHOT"  # another snapshot file to read and rebuild instead (a site's own, the tests')


def snapshot_path() -> Path:
    return Path(os.environ.get(SNAPSHOT_ENV) or SNAPSHOT_PATH)


@dataclass(frozen=True, eq=False)  # identity hash: parsed studies are cached per snapshot
class Snapshot:
    data_as_of: str
    built: str
    note: str
    provenance: tuple[dict, ...]
    raw: tuple[dict, ...]

    @property
    def studies(self) -> tuple[Study, ...]:
        return _parsed(self)


@lru_cache(maxsize=4)
def _parsed(snapshot: "Snapshot") -> tuple[Study, ...]:
    return tuple(Study.from_api(r) for r in snapshot.raw)


def write_snapshot(raw_studies: list[dict], *, data_as_of: str, note: str, provenance: list[dict],
                   path: Path | None = None) -> Path:
    payload = {
        "data_as_of": data_as_of,
        "built": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "note": note,
        "provenance": provenance,
        "studies": raw_studies,
    }
    path = path or snapshot_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # mtime=0 keeps the file byte-identical when rebuilt from the same records
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    tmp.replace(path)
    return path


def load_snapshot(path: Path | None = None) -> Snapshot:
    path = path or snapshot_path()
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> Snapshot:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        payload = json.load(fh)
    return Snapshot(
        data_as_of=str(payload.get("data_as_of", "")),
        built=str(payload.get("built", "")),
        note=str(payload.get("note", "")),
        provenance=tuple(payload.get("provenance", ())),
        raw=tuple(s for s in payload.get("studies", ()) if isinstance(s, dict)),
    )


# --- answering a TrialQuery locally, the way the API would ---------------------------------------

def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _has_all_words(term: str, words: set[str]) -> bool:
    wanted = _words(term)
    return bool(wanted) and wanted <= words


def _condition_words(study: Study) -> set[str]:
    return _words(" ".join((study.brief_title, study.official_title, *study.conditions,
                            *study.keywords, *study.condition_mesh_terms)))


def _all_words(study: Study) -> set[str]:
    parts = [study.nct_id, study.acronym, study.brief_title, study.official_title, study.brief_summary,
             *study.conditions, *study.keywords, study.lead_sponsor]
    for i in study.interventions:
        parts += [i.name, i.description, *i.other_names]
    return _words(" ".join(parts))


def matches(study: Study, query: TrialQuery) -> bool:
    """True when the study satisfies every filter of the query (offline counterpart of the API)."""
    if query.nct_ids and study.nct_id not in query.nct_ids:
        return False
    if query.statuses and study.overall_status not in query.statuses:
        return False
    if query.phases and not set(query.phases) & set(study.phases):
        return False
    if query.updated_since and (study.last_update_posted or "") < query.updated_since.isoformat():
        return False
    if query.conditions:
        words = _condition_words(study)
        if not any(_has_all_words(c, words) for c in query.conditions):
            return False
    if query.terms:
        words = _all_words(study)
        if not all(_has_all_words(t, words) for t in query.terms):
            return False
    if query.near is not None:
        from .geo import Place, within_radius

        # The API's filter.geo matches a study when any of its locations is inside the circle.
        centre = Place(query.near.lat, query.near.lon, "", "")
        if not within_radius(study, centre, query.near.miles, recruiting_only=False):
            return False
    return True


def search_snapshot(query: TrialQuery, snapshot: Snapshot | None = None) -> list[Study]:
    snapshot = snapshot or load_snapshot()
    return [s for s in snapshot.studies if matches(s, query)]
