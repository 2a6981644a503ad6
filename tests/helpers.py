"""Helpers shared by the tests (test modules import this, never each other or bench/)."""
from __future__ import annotations

import copy
import functools
import json
import socket
from pathlib import Path

from tests.fake_api import real_studies
from trials.classify import classify
from trials.client import Client
from trials.model import Study
from trials.vocabulary import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_SNAPSHOT = FIXTURES / "snapshot.json.gz"  # see tests/fixtures/README.md


def closed_port() -> int:
    """A local port nobody listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """An API address nobody answers at: the app and the CLI must fall back to saved data."""
    return f"http://127.0.0.1:{closed_port()}/api/v2"


def use_client(monkeypatch, **settings) -> None:
    """Make the CLI and the app build their client with these settings (e.g. min_interval=0,
    cache_expiry, max_attempts, clock, sleep) instead of the shipped ones."""
    from trials import source
    from trials.client import Client, default_cache_path

    def client(*, cache: bool = True) -> Client:
        return Client(cache_path=default_cache_path() if cache else None, **settings)

    monkeypatch.setattr(source, "default_client", client)


# --- records ---------------------------------------------------------------------------------------

def load(rel: str) -> Study:
    return Study.from_api(json.loads((FIXTURES / rel).read_text()))


def record(interventions=(), arms=(), title="A study", criteria="", conditions=("Multiple Myeloma",), **design):
    """Hand-made v2 record, used only to isolate one case."""
    return Study.from_api({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": title},
        "conditionsModule": {"conditions": list(conditions)},
        "designModule": {"studyType": design.get("study_type", "INTERVENTIONAL"),
                         "designInfo": {"primaryPurpose": design.get("purpose", "TREATMENT")}},
        "armsInterventionsModule": {"interventions": list(interventions), "armGroups": list(arms)},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})


EXCLUDES_CAR_T_ID = "NCT99000001"
HOSTILE_ID = "NCT99000002"


def _real(nct_id: str) -> dict:
    return next(r for r in real_studies() if r["protocolSection"]["identificationModule"]["nctId"] == nct_id)


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
                                               "[click](http://third-party.example/) <img src=x onerror=alert(1)>")
    p["descriptionModule"]["briefSummary"] = ('=HYPERLINK("http://third-party.example/h","click") '
                                              "Summary ![pixel](http://third-party.example/pixel.png) "
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


# --- the changes test_diff and test_cli_export make to a copy of real records ----------------------

NEW_STUDY = "NCT05147467"        # a real RECRUITING record from tests/fixtures/complete, not in the snapshot
DROPPED = "NCT07649525"
STATUS = "NCT07772024"           # RECRUITING -> ACTIVE_NOT_RECRUITING
BUMPED = "NCT07285239"           # last update 2026-08-17 -> 2026-11-20; and its Gundersen Lutheran site closes
OPENED = "NCT07648264"           # its Montefiore (The Bronx) site goes NOT_YET_RECRUITING -> RECRUITING


def _ident(raw):
    return raw["protocolSection"]["identificationModule"]["nctId"]


def modified_copy(raws):
    """The test's own edits to a deep copy of the real records."""
    out = [copy.deepcopy(r) for r in raws if _ident(r) != DROPPED]
    out.append(json.loads((FIXTURES / "complete" / f"{NEW_STUDY}.json").read_text(encoding="utf-8")))
    for raw in out:
        p = raw["protocolSection"]
        if _ident(raw) == STATUS:
            p["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
        if _ident(raw) == BUMPED:
            p["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2026-11-20"
            for site in p["contactsLocationsModule"]["locations"]:
                if site.get("facility") == "Gundersen Lutheran":
                    site["status"] = "ACTIVE_NOT_RECRUITING"
        if _ident(raw) == OPENED:
            for site in p["contactsLocationsModule"]["locations"]:
                if site.get("facility") == "Montefiore Medical Center PRIME":
                    site["status"] = "RECRUITING"
    return out


# --- the labelled set (tests/labels/families.json), shared with bench/classify.py -----------------

MAIN_FAMILIES = ("car_t", "bispecific", "proteasome_inhibitor", "anti_cd38", "immunomodulatory",
                 "stem_cell_transplant", "antibody_drug_conjugate")


def family_labels() -> list[dict]:
    """The family labels of both halves (tests/labels/GUIDE.md): tests/labels/families*.json are tuned,
    tests/labels/unseen/families*.json unseen."""
    labels = ROOT / "tests" / "labels"
    out = []
    for f in [*sorted(labels.glob("families*.json")), *sorted((labels / "unseen").glob("families*.json"))]:
        for item in json.loads(f.read_text(encoding="utf-8")):
            item.setdefault("half", "unseen" if f.parent.name == "unseen" else "tuned")
            out.append(item)
    return out


def labelled_study(file: str) -> Study:
    """A labelled fixture record (v2 JSON, or legacy XML read through trials.legacy)."""
    from trials.legacy import study_from_legacy_xml

    path = FIXTURES / file
    raw = study_from_legacy_xml(path.read_bytes()) if path.suffix == ".xml" else json.loads(path.read_text())
    return Study.from_api(raw)


def evaluate_families(labels: list[dict] | None = None) -> dict:
    """Per-family precision/recall/F1, macro-F1 over the main families, setting and myeloma_only accuracy,
    and the disagreements, over `labels` (default: the tuned half)."""
    if labels is None:
        labels = [item for item in family_labels() if item["half"] == "tuned"]
    counts = {f: [0, 0, 0] for f in FAMILIES}  # tp, fp, fn
    setting_ok, only_ok, only_n, misses = 0, 0, 0, []
    for item in labels:
        c = classify(labelled_study(item["file"]))
        want, got = set(item["families"]), set(c.families)
        for f in FAMILIES:
            counts[f][0] += f in want and f in got
            counts[f][1] += f in got and f not in want
            counts[f][2] += f in want and f not in got
        setting_ok += c.setting == item["setting"]
        only_wrong = "myeloma_only" in item and c.myeloma_only != item["myeloma_only"]
        only_n += "myeloma_only" in item
        only_ok += "myeloma_only" in item and not only_wrong
        if want != got or c.setting != item["setting"] or only_wrong:
            misses.append((item["nct_id"], sorted(want ^ got), item["setting"], c.setting,
                           f"myeloma_only wanted {item['myeloma_only']}" if only_wrong else ""))
    rows = {}
    for f, (tp, fp, fn) in counts.items():
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        rows[f] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, tp + fn)
    n = len(labels) or 1
    return {"n": len(labels), "rows": rows, "macro_f1": sum(rows[f][2] for f in MAIN_FAMILIES) / len(MAIN_FAMILIES),
            "setting_accuracy": setting_ok / n, "myeloma_only_accuracy": only_ok / only_n if only_n else float("nan"),
            "myeloma_only_n": only_n, "misses": misses}


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


def criteria_text(file: str) -> str:
    """The eligibility text of a labelled fixture: legacy XML, a plain criteria text, or a v2 record."""
    import xml.etree.ElementTree as ET

    path = FIXTURES / file
    if path.suffix == ".xml":
        return ET.parse(path).getroot().findtext("eligibility/criteria/textblock") or ""
    if path.suffix == ".txt":
        return path.read_text(encoding="utf-8")
    return Study.from_api(json.loads(path.read_text(encoding="utf-8"))).eligibility.criteria


# --- the store tests' hand-made changes to real records ---------------------------------------

CHANGED_ON = "2026-11-25"  # the version date of every hand-made change, after every real record's


def client_for(api) -> Client:
    """A client for the fake API with no polite pause and no waiting."""
    return Client(base_url=api.url, min_interval=0, sleep=lambda s: None)


def bump(raw: dict) -> None:
    raw["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": CHANGED_ON, "type": "ACTUAL"}


NEW_SITE = {"facility": "Test Site (hand-made)", "city": "Lyon", "country": "France", "status": "RECRUITING"}
NEW_SITE_TEXT = "Test Site (hand-made), Lyon, France"


def open_site(raw: dict) -> None:
    raw["protocolSection"]["contactsLocationsModule"]["locations"].append(dict(NEW_SITE))
    bump(raw)


def _scan_components_once() -> None:
    """Each new AppTest has Streamlit read the metadata of every installed package, looking for custom
    components: most of an app test's time where many packages are installed. Installed packages don't
    change during a test run, so the first scan's answer is kept for the run."""
    from streamlit.components.v2 import manifest_scanner

    if not hasattr(manifest_scanner.scan_component_manifests, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


def run_app(params: dict | None = None):
    """The app run once in Streamlit's AppTest with these link parameters; it must not raise."""
    from streamlit.testing.v1 import AppTest

    _scan_components_once()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at
