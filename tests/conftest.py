"""Fixtures shared by the app tests (AppTest and the real browser). Nothing here is autouse."""
from __future__ import annotations

import copy
import socket

import pytest

from tests.fake_api import FakeApi, real_studies

EXCLUDES_CAR_T_ID = "NCT99000001"
HOSTILE_ID = "NCT99000002"


def closed_port_url() -> str:
    """An API address on a local port nobody listens on: the app must fall back to the snapshot."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"


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
    """HAND-MADE variant of NCT07772024 whose text tries to render a remote image, a link and HTML."""
    raw = _real("NCT07772024")
    p = raw["protocolSection"]
    p["identificationModule"]["nctId"] = HOSTILE_ID
    p["identificationModule"]["briefTitle"] = ("Hostile ![x](http://third-party.example/title.png) "
                                               "[click](http://third-party.example/) <img src=x>")
    p["descriptionModule"]["briefSummary"] = ("Summary ![pixel](http://third-party.example/pixel.png) "
                                              "<script>alert(1)</script> www.third-party.example")
    return raw


def fake_records() -> list[dict]:
    return real_studies() + [excludes_car_t_record(), hostile_record()]


@pytest.fixture
def fake_api():
    api = FakeApi(fake_records())
    api.url = api.start()
    yield api
    api.stop()
