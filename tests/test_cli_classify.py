"""`python -m trials classify FILE…` and the categories in `search --json`."""
import json
from pathlib import Path

from trials.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_classify_reads_single_studies_and_whole_pages(capsys):
    page = FIXTURES / "pages" / "cmkumar87__condition-briefing__multiple_myeloma__ctgov.json"
    assert main(["classify", str(FIXTURES / "complete" / "NCT07772024.json"), str(page)]) == 0
    rows = lines(capsys)
    assert [r["nct_id"] for r in rows][:2] == ["NCT07772024", "NCT07648264"]
    assert len(rows) == 1 + 5
    inopd = rows[0]
    assert inopd["setting"] == "relapsed_refractory" and inopd["myeloma_only"] is True
    assert rows[1]["myeloma_only"] is False  # immune deficiency after CAR T in myeloma, CLL, lymphoma
    assert "immunomodulatory" in inopd["categories"]
    # carfilzomib is only in the investigator's-choice comparator arm: found, and said so
    pi = [e for e in inopd["evidence"] if e["family"] == "proteasome_inhibitor"]
    assert pi and all(e["role"] == "comparator" for e in pi) and "comparator" in pi[0]["reason"]
    assert inopd["eligibility"]["prior_anti_cd38"]["value"] in ("required", "excluded", "allowed", "not_mentioned")
    assert "min_prior_lines" in inopd["eligibility"]


def test_a_bad_file_is_reported_and_the_good_ones_still_print(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    code = main(["classify", str(bad), str(FIXTURES / "complete" / "NCT03412565.json"), str(tmp_path / "missing.json")])
    captured = capsys.readouterr()
    assert code == 2
    assert [json.loads(line)["nct_id"] for line in captured.out.splitlines()] == ["NCT03412565"]
    assert "bad.json: not a JSON file" in captured.err and "missing.json: no such file" in captured.err


def test_search_json_carries_categories_and_setting(capsys):
    assert main(["search", "--offline", "--json", "--id", "NCT07764978"]) == 0
    (row,) = lines(capsys)
    assert row["setting"] == "newly_diagnosed" and "car_t" in row["categories"]
