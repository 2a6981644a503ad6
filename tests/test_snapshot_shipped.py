"""The bundled snapshot (trials/data/snapshot.json.gz) is checked for shape and provenance only:
`python -m trials snapshot` may rebuild it from other records at any time, and every other test
reads the tests' own copy (tests/fixtures/snapshot.json.gz)."""
import re

from trials.model import Study
from trials.snapshot import SNAPSHOT_PATH, load_snapshot


def test_the_bundled_snapshot_has_studies_a_date_and_says_where_they_come_from():
    snapshot = load_snapshot(SNAPSHOT_PATH)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", snapshot.data_as_of)
    assert snapshot.note and snapshot.provenance
    assert all(entry.get("origin") and entry.get("studies_added", 0) >= 0 for entry in snapshot.provenance)
    assert sum(entry["studies_added"] for entry in snapshot.provenance) == len(snapshot.raw) > 0
    ids = [Study.from_api(raw).nct_id for raw in snapshot.raw]
    assert all(re.fullmatch(r"NCT\d{8}", nct) for nct in ids) and len(set(ids)) == len(ids)
