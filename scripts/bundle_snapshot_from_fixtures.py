"""Build trials/data/snapshot.json.gz from the real records in tests/fixtures.

The bundled snapshot is what the app and CLI show with no network. With network,
`python -m trials snapshot` replaces it with a fresh copy from the live API.
This script is how the first bundled copy was made (no live access here); run it from the repo root.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from trials.snapshot import write_snapshot  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
# Myeloma searches only: the two recorded GET /studies pages of a myeloma condition query, and
# one single-study record of a myeloma trial. Complete records win over projected copies.
SOURCES = [
    ("pages/cmkumar87__condition-briefing__multiple_myeloma__ctgov.json",
     "cmkumar87/condition-briefing@986eb27f tests/fixtures/raw/multiple_myeloma__ctgov.json",
     "complete v2 page: query.cond myeloma, RECRUITING, phase 3, newest first; captured 2026-09-19"),
    ("complete/NCT03412565.json",
     "Zak-Downey/Clin_trials_lite@98a5bec5 tests/fixtures/NCT03412565.json",
     "complete v2 single study; versionHolder 2026-09-04"),
    ("pages/rayyanshuda__ctgov-viz-agent__myeloma_page.json",
     "rayyanshuda/ctgov-viz-agent@63d56cc0 tests/fixtures/myeloma_page.json",
     "v2 page with a fields= projection (no eligibility, no site addresses); captured on or after 2026-08-14"),
]


def main() -> None:
    studies: dict[str, dict] = {}
    provenance = []
    for rel, origin, what in SOURCES:
        body = json.loads((FIXTURES / rel).read_text(encoding="utf-8"))
        batch = body["studies"] if "studies" in body else [body]
        added = 0
        for raw in batch:
            nct = raw["protocolSection"]["identificationModule"]["nctId"]
            if nct not in studies:
                studies[nct] = raw
                added += 1
        provenance.append({"file": f"tests/fixtures/{rel}", "origin": origin, "what": what, "studies_added": added})
    path = write_snapshot(
        list(studies.values()),
        data_as_of="2026-09-18",
        note=("Real ClinicalTrials.gov records, unedited, recorded by public projects between 2026-08 and "
              "2026-09-18 (see provenance). Statuses may have changed since."),
        provenance=provenance,
    )
    print(f"wrote {path.relative_to(ROOT)}: {len(studies)} studies, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
