"""Fixtures and helpers shared by the tests. Nothing here is autouse.

The suite runs in strict mode: a record reader's catch-all (trials.failures.record) re-raises, so
a "never raises on odd records" test fails when the code under it breaks. Subprocesses inherit it.
"""
from __future__ import annotations

import copy
import os
import socket

import pytest

from trials import failures

os.environ[failures.STRICT_ENV] = "1"

from tests.fake_api import FakeApi, real_studies

EXCLUDES_CAR_T_ID = "NCT99000001"
HOSTILE_ID = "NCT99000002"


def closed_port() -> int:
    """A local port nobody listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """An API address nobody answers at: the app and the CLI must fall back to saved data."""
    return f"http://127.0.0.1:{closed_port()}/api/v2"


def _real(nct_id: str) -> dict:
    return copy.deepcopy(next(r for r in real_studies()
                              if r["protocolSection"]["identificationModule"]["nctId"] == nct_id))


def excludes_car_t_record() -> dict:
    """HAND-MADE variant of the real record NCT07772024 (relapsed/refractory, recruiting, one site in
    Miami): new synthetic id and one extra exclusion item, "Prior CAR T-cell therapy." No real record
    in the fixtures excludes prior CAR T, and the "my previous treatments" filter needs one."""
    raw = _real("NCT07772024")
    p = raw["protocolSection"]
    p["identificationModule"]["nctId"] = EXCLUDES_CAR_T_ID
    p["identificationModule"]["briefTitle"] = "Copy of NCT07772024 that excludes prior CAR T (test record)"
    p["eligibilityModule"]["eligibilityCriteria"] += "\n* Prior CAR T-cell therapy.\n"
    return raw


def hostile_record() -> dict:
    """HAND-MADE variant of NCT07772024 whose text (title, summary, phases, sponsor, sites, site status,
    contacts, comparator arm) tries to render a remote image, a link, an autolink or HTML. Still
    recruiting, with the one recruiting site in Miami, so it is listed like the original."""
    raw = _real("NCT07772024")
    p = raw["protocolSection"]
    p["identificationModule"]["nctId"] = HOSTILE_ID
    p["identificationModule"]["briefTitle"] = ("Hostile ![x](http://third-party.example/title.png) "
                                               "[click](http://third-party.example/) <img src=x>")
    p["descriptionModule"]["briefSummary"] = ("Summary ![pixel](http://third-party.example/pixel.png) "
                                              "<script>alert(1)</script> www.third-party.example")
    # every other field the app shows as text, each trying something different
    p["designModule"]["phases"] = ["PHASE3", "![x](http://third-party.example/p.png)"]
    p["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = "Sponsor [sp](http://third-party.example/sponsor)"
    cl = p["contactsLocationsModule"]
    cl["centralContacts"][0]["name"] = "Contact ![c](http://third-party.example/contact.png)"
    cl["centralContacts"][0]["email"] = "<mailto:x@third-party.example>"
    miami = cl["locations"][0]  # stays the one recruiting site (distances in the tests depend on it)
    miami["facility"] = "Site ![s](http://third-party.example/site.png) https://third-party.example/site"
    miami["contacts"] = [{"name": "Site contact [sc](http://third-party.example/sc)", "phone": "+1 305 555 0100",
                          "email": "sc@third-party.example", "role": "CONTACT"}]
    cl["locations"].append({"facility": "Closed ![f](http://third-party.example/f.png)", "city": "Tampa",
                            "country": "United States", "status": "![st](http://third-party.example/st.png)"})
    arms = p["armsInterventionsModule"]
    comparator = next(a for a in arms["armGroups"] if a["type"] == "ACTIVE_COMPARATOR")
    hostile_label = comparator["label"] + " <img src=http://third-party.example/arm.png>"
    for i in arms["interventions"]:
        i["armGroupLabels"] = [hostile_label if x == comparator["label"] else x for x in i.get("armGroupLabels", [])]
    comparator["label"] = hostile_label
    return raw


def fake_records() -> list[dict]:
    return real_studies() + [excludes_car_t_record(), hostile_record()]


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
