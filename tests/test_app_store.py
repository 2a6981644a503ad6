"""The app over a synced study store (SQLite): its banner, the coordinators' "changes since" and a
study's status history. The API is the local fake; the site opened is a HAND-MADE edit of a real
record (see tests/test_store.py)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st

from tests.helpers import CHANGED_ON, NEW_SITE_TEXT, client_for, closed_port_url, open_site, run_app as run
from trials.store import Store
from trials.sync import sync

APP = str(Path(__file__).resolve().parent.parent / "app.py")
STUDY = "NCT07772024"  # real, recruiting, relapsed/refractory: on the default list


@pytest.fixture
def synced(fake_api, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("TRIALS_DB_URL", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = Store.open(url, create=True)
    sync(store, client_for(fake_api))
    open_site(next(r for r in fake_api.studies if r["protocolSection"]["identificationModule"]["nctId"] == STUDY))
    sync(store, client_for(fake_api))
    monkeypatch.setenv("CTGOV_API_URL", closed_port_url())  # a fresh store answers without the API
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_app_answers_from_a_fresh_store_and_shows_changes_since_a_date(synced):
    at = run()
    assert any("local study store" in s.value and "synced 0 min ago" in s.value for s in at.success)
    at.date_input(key="changes_since").set_value(dt.date.fromisoformat(CHANGED_ON)).run()
    (table,) = [d.value for d in at.dataframe if "change" in d.value.columns]
    assert table[["nct_id", "change", "site", "new"]].values.tolist() == [[STUDY, "site_opened", NEW_SITE_TEXT,
                                                                          "RECRUITING"]]


def test_a_study_page_shows_its_status_history(synced):
    at = run({"study": STUDY})
    (history,) = [e for e in at.expander if e.label.startswith("Status history")]
    frame = next(d.value for d in at.dataframe if list(d.value.columns) == ["date", "change", "site", "old", "new"])
    assert history.label == "Status history (2 recorded changes)"  # newest first; first posted last
    assert frame.values.tolist()[0] == [CHANGED_ON, "site_opened", NEW_SITE_TEXT, "", "RECRUITING"]
    assert frame.values.tolist()[1][1:] == ["new_study", "", "", "RECRUITING"]
