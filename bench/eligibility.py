"""Accuracy and speed of trials.eligibility against tests/labels/eligibility.json.

Run from the repo root:  python bench/eligibility.py
Texts are read from the fixture files named in the labels (v2 JSON or classic XML).
"""
from __future__ import annotations

import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trials.eligibility import FLAGS, eligibility_flags  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LABELS = ROOT / "tests" / "labels" / "eligibility.json"
GOAL = 0.90


def criteria_text(file: str) -> str:
    path = FIXTURES / file
    if path.suffix == ".xml":
        return ET.parse(path).getroot().findtext("eligibility/criteria/textblock") or ""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return (raw.get("protocolSection", {}).get("eligibilityModule", {}) or {}).get("eligibilityCriteria", "") or ""


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\\([\[\]<>*_()#.!\-+])", r"\1", s or "")).strip().lower()


def same_sentence(got: str, want: str) -> bool:
    g, w = _norm(got), _norm(want)
    return g == w or (bool(g) and bool(w) and (g in w or w in g))


def ratio(ok: int, n: int) -> str:
    return f"{ok / n:.2f} ({ok}/{n})" if n else "n/a (0/0)"


def main() -> int:
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    texts = [criteria_text(e["file"]) for e in labels]
    results = [eligibility_flags(t) for t in texts]

    print(f"records: {len(labels)}")
    print(f"{'flag':18} {'decisive exact':>16} {'not_mentioned':>16} {'sentence ok':>14}")
    failed = False
    misses: list[str] = []
    for flag in FLAGS:
        dn = dok = nn = nok = sn = sok = 0
        for e, r in zip(labels, results):
            want = e["flags"][flag]
            got = r[flag]
            if want["value"] == "not_mentioned":
                nn += 1
                nok += got.value == "not_mentioned"
            else:
                dn += 1
                dok += got.value == want["value"]
                if got.value == want["value"]:
                    sn += 1
                    sok += same_sentence(got.sentence, want["sentence"])
            if got.value != want["value"]:
                misses.append(f"  {e['file']} {flag}: want {want['value']} got {got.value} | {got.sentence[:100]}")
        print(f"{flag:18} {ratio(dok, dn):>16} {ratio(nok, nn):>16} {ratio(sok, sn):>14}")
        failed |= (dn and dok / dn < GOAL) or (nn and nok / nn < GOAL)
    for key in ("min_prior_lines", "max_prior_lines"):
        ok = n_stated = ok_stated = 0
        for e, r in zip(labels, results):
            want = e[key]["value"]
            got = r[key].value
            ok += got == want
            if want is not None:
                n_stated += 1
                ok_stated += got == want
            if got != want:
                misses.append(f"  {e['file']} {key}: want {want} got {got} | {r[key].sentence[:100]}")
        print(f"{key:18} accuracy {ratio(ok, len(labels))}; where stated {ratio(ok_stated, n_stated)}")
        if key == "min_prior_lines":
            failed |= ok / len(labels) < GOAL
    if misses:
        print("misses:")
        print("\n".join(misses))

    # speed: repeat the corpus until ~1 s of work
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 1.0:
        for t in texts:
            eligibility_flags(t)
        n += len(texts)
    dt = time.perf_counter() - t0
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"speed: {n / dt:.0f} records/second (mean {chars:.0f} chars/record)")
    print("goal >= 0.90:", "MET" if not failed else "NOT MET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
