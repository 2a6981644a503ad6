"""Fixtures shared by the tests (helpers live in tests/helpers.py, and the real-record variants below).

One autouse fixture: no test reads the study store of the machine it runs on (TRIALS_DB_URL points at a
file that does not exist unless a test syncs). Every test reads the tests' own snapshot
(tests/fixtures/snapshot.json.gz), so rebuilding the bundled one changes no expectation. The suite runs
in strict mode: a record reader's catch-all (trials.failures.record) re-raises, so a "never raises on odd
records" test fails when the code under it breaks. Subprocesses and the app under test inherit both settings.
"""
from __future__ import annotations

import os

import pytest

from tests.fake_api import FakeApi
from tests.helpers import FIXTURE_SNAPSHOT, fake_records
from trials import failures
from trials.snapshot import SNAPSHOT_ENV

os.environ[failures.STRICT_ENV] = "1"
os.environ[SNAPSHOT_ENV] = str(FIXTURE_SNAPSHOT)


@pytest.fixture(autouse=True)
def no_user_store(tmp_path, monkeypatch):
    from trials import source

    monkeypatch.setenv("TRIALS_DB_URL", f"sqlite:///{tmp_path / 'no-store.sqlite'}")
    monkeypatch.setattr(source, "_stores", {})


@pytest.fixture
def fake_api():
    api = FakeApi(fake_records())
    api.url = api.start()
    yield api
    api.stop()


def complete_record(nct_id: str) -> dict:
    """A real complete v2 record from tests/fixtures/complete/ (a fresh copy, free to edit)."""
    import json
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "complete" / f"{nct_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def without_coordinates(nct_id: str, *, keep_zip: bool = True, city: str | None = None) -> dict:
    """HAND-MADE variant of a real complete record: every site's geoPoint removed (as in legacy
    records and sites the registry has not geocoded yet); with keep_zip=False the ZIP codes too, and
    with `city` every site's city replaced (e.g. "Ostrova", a misspelt city found in NCT07648264's
    real record, which no city list knows)."""
    raw = complete_record(nct_id)
    for loc in raw["protocolSection"]["contactsLocationsModule"]["locations"]:
        loc.pop("geoPoint", None)
        if not keep_zip:
            loc.pop("zip", None)
        if city is not None:
            loc["city"] = city
            loc.pop("state", None)
    return raw


@pytest.fixture
def lenient(monkeypatch):
    """The shipped behaviour: a record that can't be read is logged, counted and answered with a default."""
    monkeypatch.setenv(failures.STRICT_ENV, "0")
    failures.reset()
    yield
    failures.reset()
