"""Fixtures and helpers shared by the tests. One autouse fixture: no test reads the study store of
the machine it runs on (TRIALS_DB_URL points at a file that does not exist unless a test syncs)."""
from __future__ import annotations

import copy
import socket

import pytest

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
