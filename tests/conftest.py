"""Fixtures shared by the tests (helpers live in tests/helpers.py).

One autouse fixture: no test reads the study store of the machine it runs on (TRIALS_DB_URL points at a
file that does not exist unless a test syncs). Every test reads the tests' own snapshot
(tests/fixtures/snapshot.json.gz), so rebuilding the bundled one changes no expectation. The suite runs
in strict mode: a record reader's catch-all (trials.failures.record) re-raises, so a "never raises on odd
records" test fails when the code under it breaks. Subprocesses and the app under test inherit both settings.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.fake_api import FakeApi
from tests.helpers import FIXTURE_SNAPSHOT, fake_records
from trials import failures
from trials.snapshot import SNAPSHOT_ENV

os.environ[failures.STRICT_ENV] = "1"
os.environ[SNAPSHOT_ENV] = str(FIXTURE_SNAPSHOT)

RAM_DISK = "/dev/shm"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Temporary files (tmp_path) live in RAM when the machine has /dev/shm and no --basetemp is given:
    the store and HTTP cache tests commit to SQLite hundreds of times, and on a busy shared disk each
    commit can wait a second for it. Removed at the end of the run."""
    if config.option.basetemp is None and os.access(RAM_DISK, os.W_OK):
        config.option.basetemp = tempfile.mkdtemp(prefix="trials-tests-", dir=RAM_DISK)
        config.add_cleanup(lambda: shutil.rmtree(config.option.basetemp, ignore_errors=True))


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


@pytest.fixture
def lenient(monkeypatch):
    """The shipped behaviour: a record that can't be read is logged, counted and answered with a default."""
    monkeypatch.setenv(failures.STRICT_ENV, "0")
    failures.reset()
    yield
    failures.reset()
