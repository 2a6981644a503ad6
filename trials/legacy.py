"""Legacy ClinicalTrials.gov XML records (`<clinical_study>`, the pre-2024 "classic" download) read
into the v2 study-object shape, so that `Study.from_api` and everything after it read them too.

Only fields the project uses are carried over; nothing is invented: a field the XML lacks stays
absent (sites never get a geoPoint: the legacy format has none, so sites are placed by ZIP or
city like any site without coordinates). Enumerations are mapped to the v2 vocabulary
(`Recruiting` -> `RECRUITING`, `Phase 1/Phase 2` -> `PHASE1`, `PHASE2`, `Active Comparator` ->
`ACTIVE_COMPARATOR`). Never raises on well-formed XML; BadInput for text that is not such a record.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .errors import BadInput

_PHASES = {"early phase 1": ["EARLY_PHASE1"], "phase 1": ["PHASE1"], "phase 2": ["PHASE2"], "phase 3": ["PHASE3"],
           "phase 4": ["PHASE4"], "phase 1/phase 2": ["PHASE1", "PHASE2"], "phase 2/phase 3": ["PHASE2", "PHASE3"],
           "n/a": ["NA"]}
_SEX = {"all": "ALL", "both": "ALL", "female": "FEMALE", "male": "MALE"}
_WORD_RUN = re.compile(r"[^A-Za-z0-9]+")


def _enum(text: str) -> str:
    """'Active, not recruiting' -> 'ACTIVE_NOT_RECRUITING' (the v2 spelling of legacy enum words)."""
    return _WORD_RUN.sub("_", text.strip()).strip("_").upper()


def _allocation(text: str) -> str:
    """'Randomized' -> 'RANDOMIZED'; 'N/A' (a single group) -> 'NA', as v2 spells it."""
    return {"N_A": "NA"}.get(_enum(text), _enum(text))


def _status(text: str) -> str:
    return {"UNKNOWN_STATUS": "UNKNOWN"}.get(_enum(text), _enum(text)) if text.strip() else ""


def _t(node: ET.Element | None, path: str) -> str:
    found = node.find(path) if node is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _all(node: ET.Element, path: str) -> list[str]:
    return [(e.text or "").strip() for e in node.findall(path) if e.text and e.text.strip()]


def _date(text: str) -> str:
    """'July 28, 2020' / 'July 2020' -> '2020-07-28' / '2020-07' (v2 partial dates); '' if unknown."""
    import datetime as dt

    text = text.strip()
    for fmt, out in (("%B %d, %Y", "%Y-%m-%d"), ("%B %Y", "%Y-%m")):
        try:
            return dt.datetime.strptime(text, fmt).strftime(out)
        except ValueError:
            continue
    return ""


def _contact(node: ET.Element) -> dict:
    name = " ".join(p for p in (_t(node, "first_name"), _t(node, "middle_name"), _t(node, "last_name")) if p)
    return {k: v for k, v in (("name", name), ("phone", _t(node, "phone")), ("phoneExt", _t(node, "phone_ext")),
                              ("email", _t(node, "email"))) if v}


def _location(node: ET.Element) -> dict:
    fac = node.find("facility")
    addr = fac.find("address") if fac is not None else None
    out = {"facility": _t(fac, "name"), "city": _t(addr, "city"), "state": _t(addr, "state"),
           "zip": _t(addr, "zip"), "country": _t(addr, "country"), "status": _status(_t(node, "status"))}
    contacts = [_contact(c) for c in node.findall("contact") + node.findall("contact_backup")]
    out = {k: v for k, v in out.items() if v}
    if any(contacts):
        out["contacts"] = [c for c in contacts if c]
    return out


def study_from_legacy_xml(text: str | bytes) -> dict:
    """One `<clinical_study>` record as a v2 study object (dict)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise BadInput(f"not a ClinicalTrials.gov XML record: {e}") from None
    if root.tag != "clinical_study":
        raise BadInput(f"not a ClinicalTrials.gov XML record: the top element is <{root.tag[:40]}>")
    design = root.find("study_design_info")
    interventions = []
    arms_of: dict[str, list[str]] = {}
    for iv in root.findall("intervention"):
        kind, name = _t(iv, "intervention_type"), _t(iv, "intervention_name")
        labels = _all(iv, "arm_group_label")
        interventions.append({k: v for k, v in (
            ("type", _enum(kind)), ("name", name), ("description", _t(iv, "description")),
            ("otherNames", _all(iv, "other_name")), ("armGroupLabels", labels)) if v})
        for label in labels:
            arms_of.setdefault(label, []).append(f"{kind}: {name}" if kind else name)
    arms = [{k: v for k, v in (
        ("label", _t(a, "arm_group_label")), ("type", _enum(_t(a, "arm_group_type"))),
        ("description", _t(a, "description")), ("interventionNames", arms_of.get(_t(a, "arm_group_label"), [])))
        if v} for a in root.findall("arm_group")]
    elig = root.find("eligibility")
    maximum_age = _t(elig, "maximum_age")
    minimum_age = _t(elig, "minimum_age")
    enrollment = _t(root, "enrollment")
    protocol = {
        "identificationModule": {k: v for k, v in (
            ("nctId", _t(root, "id_info/nct_id")), ("briefTitle", _t(root, "brief_title")),
            ("officialTitle", _t(root, "official_title")), ("acronym", _t(root, "acronym"))) if v},
        "statusModule": {k: v for k, v in (
            ("overallStatus", _status(_t(root, "overall_status"))),
            ("statusVerifiedDate", _date(_t(root, "verification_date"))),
            ("startDateStruct", {"date": _date(_t(root, "start_date"))}),
            ("primaryCompletionDateStruct", {"date": _date(_t(root, "primary_completion_date"))}),
            ("studyFirstPostDateStruct", {"date": _date(_t(root, "study_first_posted"))}),
            ("lastUpdatePostDateStruct", {"date": _date(_t(root, "last_update_posted"))})) if v and v != {"date": ""}},
        "sponsorCollaboratorsModule": {
            "leadSponsor": {"name": _t(root, "sponsors/lead_sponsor/agency")},
            "collaborators": [{"name": n} for n in _all(root, "sponsors/collaborator/agency")]},
        "descriptionModule": {"briefSummary": _t(root, "brief_summary/textblock"),
                              "detailedDescription": _t(root, "detailed_description/textblock")},
        "conditionsModule": {"conditions": _all(root, "condition"), "keywords": _all(root, "keyword")},
        "designModule": {
            "studyType": _enum(_t(root, "study_type")),
            "phases": _PHASES.get(_t(root, "phase").lower(), []),
            "designInfo": {k: v for k, v in (("allocation", _allocation(_t(design, "allocation"))),
                                             ("primaryPurpose", _enum(_t(design, "primary_purpose")))) if v},
            **({"enrollmentInfo": {"count": int(enrollment)}} if enrollment.isdigit() else {}),
        },
        "armsInterventionsModule": {"armGroups": arms, "interventions": interventions},
        "eligibilityModule": {k: v for k, v in (
            ("eligibilityCriteria", _t(elig, "criteria/textblock")), ("sex", _SEX.get(_t(elig, "gender").lower(), "")),
            ("minimumAge", "" if minimum_age == "N/A" else minimum_age),
            ("maximumAge", "" if maximum_age == "N/A" else maximum_age)) if v},
        "contactsLocationsModule": {
            "centralContacts": [c for c in (_contact(n) for n in root.findall("overall_contact")
                                            + root.findall("overall_contact_backup")) if c],
            "locations": [_location(n) for n in root.findall("location")]},
    }
    meshes = [{"term": t} for t in _all(root, "condition_browse/mesh_term")]
    return {"protocolSection": protocol, "derivedSection": {"conditionBrowseModule": {"meshes": meshes}},
            "hasResults": root.find("clinical_results") is not None}
