"""The labelled set (tests/labels/families.json) reaches the goals of issue 3."""
import json

from tests.helpers import ROOT, evaluate_families


def test_labelled_set_reaches_goals():
    labels = json.loads((ROOT / "tests/labels/families.json").read_text())
    assert len(labels) >= 40
    assert all(set(item["reasons"]) >= set(item["families"]) | {item["setting"]} for item in labels)
    res = evaluate_families()
    assert res["macro_f1"] >= 0.95, res["misses"]
    assert res["setting_accuracy"] >= 0.95, res["misses"]
