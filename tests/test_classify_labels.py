"""The labelled set (tests/labels/families.json) reaches the goals of issues 3 and 14 (tuned half)."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_labelled_set_reaches_goals():
    sys.path.insert(0, str(ROOT / "bench"))
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_classify", ROOT / "bench" / "classify.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    labels = json.loads((ROOT / "tests/labels/families.json").read_text())
    assert len(labels) >= 40
    assert all(set(item["reasons"]) >= set(item["families"]) | {item["setting"]} for item in labels)
    tuned = [item for item in labels if item.get("half", "tuned") == "tuned"]
    res = bench.evaluate(tuned)
    assert res["macro_f1"] >= 0.95, res["misses"]
    assert res["setting_accuracy"] >= 0.95, res["misses"]
    assert res["myeloma_only_accuracy"] >= 0.95, res["misses"]
