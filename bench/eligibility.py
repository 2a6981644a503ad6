"""Accuracy and speed of the eligibility reader on the labelled real texts, per half.

Run from the repo root:  python bench/eligibility.py [--misses] [--check HALF]

Labels (tests/labels/GUIDE.md): tests/labels/eligibility*.json hold the "tuned" half (read while
writing rules); tests/labels/unseen/*.json the "unseen" half, labelled before the reader ever ran
on it. Both halves are scored; the disagreements are printed for the tuned half only (--misses),
so that the unseen half stays unread by whoever tunes the rules; for both halves the misses are
counted by kind only (e.g. "excluded -> not_mentioned: 3"), which names no record.

Per field: "decisive" = labels other than not_mentioned / null / [] (exact value wanted),
"left alone" = not_mentioned / null / [] labels the reader also left empty.
Goal (issue 10): >= 0.90 decisive accuracy for every field with >= 5 decisive labels, and
>= 0.95 of not_mentioned left alone, on the unseen half; >= 1,000 records/s.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import Counter
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import criteria_text  # noqa: E402
from trials.eligibility import DISEASE_KEYS, DRUG_KEYS, FLAGS, NUMBER_KEYS, eligibility_flags  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LABELS = ROOT / "tests" / "labels"
GOAL, GOAL_LEFT_ALONE, MIN_DECISIVE = 0.90, 0.95, 5
FIELDS = FLAGS + NUMBER_KEYS + DISEASE_KEYS + DRUG_KEYS


def load_labels() -> list[dict]:
    files = sorted(LABELS.glob("eligibility*.json")) + sorted((LABELS / "unseen").glob("eligibility*.json"))
    out = []
    for f in files:
        for e in json.loads(f.read_text(encoding="utf-8")):
            e.setdefault("half", "unseen" if f.parent.name == "unseen" else "tuned")
            out.append(e)
    return out


def wanted(e: dict, key: str):
    """The label of one field as a comparable value (drug lists as sets)."""
    if key in FLAGS:
        return e["flags"][key]["value"]
    if key in DISEASE_KEYS:
        return e["disease"][key]["value"]
    value = e[key]["value"]
    return frozenset(v.lower() for v in value) if key in DRUG_KEYS else value


def got_value(r: dict, key: str):
    value = r[key].value
    return frozenset(v.lower() for v in value) if key in DRUG_KEYS else value


def _empty(value) -> bool:
    return value in ("not_mentioned", None) or value == frozenset()


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\\([\[\]<>*_()#.!\-+])", r"\1", s or "")).strip().lower()


def same_sentence(got: str, want: str) -> bool:
    g, w = _norm(got), _norm(want)
    return g == w or (bool(g) and bool(w) and (g in w or w in g))


def ratio(ok: int, n: int) -> str:
    return f"{ok / n:.2f} ({ok}/{n})" if n else "   n/a    "


def score(labels: list[dict], results: list[dict]) -> dict[str, dict[str, int]]:
    table = {}
    for key in FIELDS:
        t = dict(dn=0, dok=0, nn=0, nok=0, sok=0)
        for e, r in zip(labels, results):
            want, got = wanted(e, key), got_value(r, key)
            if _empty(want):
                t["nn"] += 1
                t["nok"] += _empty(got)
            else:
                t["dn"] += 1
                t["dok"] += got == want
                want_sentence = (e["flags"] if key in FLAGS else e["disease"] if key in DISEASE_KEYS else e)[key]["sentence"]
                t["sok"] += got == want and same_sentence(r[key].sentence, want_sentence)
        table[key] = t
    return table


def miss_kind(want, got) -> str:
    """A disagreement described by its kind only (no record, no text): 'excluded -> not_mentioned',
    'null -> 3' as 'number -> null', drugs as missing/extra counts."""
    if isinstance(want, frozenset):
        return f"{len(want - got)} missing, {len(got - want)} extra"
    if want is None or got is None or isinstance(want, int):
        name = lambda v: "null" if v is None else ("lower" if v < want else "higher") if want is not None and got is not None else "number"
        return f"{'null' if want is None else 'number'} -> {name(got)}"
    return f"{want} -> {got}"


def miss_kinds(labels: list[dict], results: list[dict]) -> dict[str, Counter]:
    kinds = {}
    for key in FIELDS:
        counts = Counter(miss_kind(wanted(e, key), got_value(r, key)) for e, r in zip(labels, results)
                         if wanted(e, key) != got_value(r, key))
        if counts:
            kinds[key] = counts
    return kinds


def meets(table: dict[str, dict[str, int]]) -> tuple[bool, list[str]]:
    failures = []
    for key, t in table.items():
        if t["dn"] >= MIN_DECISIVE and t["dok"] / t["dn"] < GOAL:
            failures.append(f"{key} decisive {t['dok']}/{t['dn']}")
        if t["nn"] and t["nok"] / t["nn"] < GOAL_LEFT_ALONE:
            failures.append(f"{key} left alone {t['nok']}/{t['nn']}")
    return not failures, failures


CPU_PASSES = 5


def cpu_speed(texts: list[str]) -> float:
    """Texts read per second of this process's CPU time: the median of a few passes over all texts.
    (Other processes' load does not count, as it does in wall-clock time.)"""
    rates = []
    for _ in range(CPU_PASSES):
        t0 = time.process_time()
        for t in texts:
            eligibility_flags(t)
        rates.append(len(texts) / (time.process_time() - t0))
    return statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true", help="print the tuned half's disagreements")
    ap.add_argument("--check", choices=("tuned", "unseen"), help="exit 1 unless this half meets the goals")
    ap.add_argument("--json", action="store_true", help="print the per-half tables as JSON only (for tests)")
    args = ap.parse_args()
    labels = load_labels()
    texts = [criteria_text(e["file"]) for e in labels]
    results = [eligibility_flags(t) for t in texts]
    verdicts = {}
    tables = {}
    for half in ("tuned", "unseen"):
        idx = [i for i, e in enumerate(labels) if e["half"] == half]
        if not idx:
            continue
        table = tables[half] = score([labels[i] for i in idx], [results[i] for i in idx])
        ok, failures = meets(table)
        verdicts[half] = ok
        if args.json:
            continue
        print(f"\n== {half} half: {len(idx)} real texts ==")
        print(f"{'field':29} {'decisive exact':>16} {'left alone':>16} {'sentence ok':>14}")
        for key, t in table.items():
            print(f"{key:29} {ratio(t['dok'], t['dn']):>16} {ratio(t['nok'], t['nn']):>16} {ratio(t['sok'], t['dok']):>14}")
        print(f"goals (>= {GOAL} decisive where >= {MIN_DECISIVE} labels, >= {GOAL_LEFT_ALONE} left alone): "
              + ("MET" if ok else "NOT MET: " + "; ".join(failures)))
        print("misses by kind (labelled -> read: count; kinds only, no records):")
        for key, counts in miss_kinds([labels[i] for i in idx], [results[i] for i in idx]).items():
            print(f"  {key}: " + ", ".join(f"{k}: {n}" for k, n in counts.most_common()))
    if args.json:
        print(json.dumps({"n": {h: sum(e["half"] == h for e in labels) for h in tables}, "tables": tables}))
        return 0
    if args.misses:
        print("\ntuned-half disagreements:")
        for e, r in zip(labels, results):
            if e["half"] != "tuned":
                continue
            for key in FIELDS:
                if wanted(e, key) != got_value(r, key):
                    print(f"  {e['file']} {key}: want {wanted(e, key)!r} got {got_value(r, key)!r} | {r[key].sentence[:110]}")
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 1.0:
        for t in texts:
            eligibility_flags(t)
        n += len(texts)
    dt = time.perf_counter() - t0
    print(f"\nspeed: {n / dt:,.0f} records/second over {len(texts)} real texts "
          f"(mean {sum(map(len, texts)) / len(texts):,.0f} chars), goal >= 1,000")
    print(f"speed (CPU time, median of {CPU_PASSES} passes): {cpu_speed(texts):,.0f} records per CPU-second "
          "(steadier than wall-clock time on a shared machine)")
    if args.check:
        return 0 if verdicts.get(args.check) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
