"""Issue 10 on the command line: answers about treatment give each study a fit verdict in
`search --json` and in exports; bad answers are refused with a clear message (exit 2)."""
import csv
import io
import json

import pytest

from trials.cli import main


def test_search_json_carries_the_verdict_and_its_reasons(capsys):
    assert main(["search", "--offline", "--json", "--status", "all", "--lines", "2", "--had", "Darzalex,teclistamab",
                 "--transplant", "auto", "--ecog", "1", "--cns", "no"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r["fit"]["verdict"] in ("conflict", "check", "no_conflict") for r in rows)
    reasons = [x for r in rows for x in r["fit"]["reasons"]]
    assert reasons and all({"criterion", "value", "sentence", "status"} <= set(x) for x in reasons)
    conflicts = [r for r in rows if r["fit"]["verdict"] == "conflict"]
    assert conflicts and all(any(x["status"] == "conflict" for x in r["fit"]["reasons"]) for r in conflicts)


def test_without_answers_search_json_has_no_verdict(capsys):
    assert main(["search", "--offline", "--json", "--status", "all"]) == 0
    assert all("fit" not in json.loads(line) for line in capsys.readouterr().out.splitlines())


@pytest.mark.parametrize("args, fragment", [
    (["--had", "daratumab"], "Did you mean: daratumumab"),
    (["--lines", "-1"], "--lines takes a whole number"),
    (["--ecog", "7"], "--ecog takes a whole number from 0 to 4"),
    (["--transplant", "kidney"], "--transplant takes auto, allo"),
    (["--cns", "maybe"], "--cns takes yes or no"),
])
def test_bad_answers_get_one_clear_line(capsys, args, fragment):
    assert main(["search", "--offline", *args]) == 2
    assert fragment in capsys.readouterr().err


def test_export_has_fit_columns_and_one_column_per_criterion(capsys):
    assert main(["export", "--offline", "--status", "all", "--had", "CAR T", "--lines", "1"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert rows
    for column in ("fit", "fit_reasons", "prior_gprc5d", "prior_autologous_transplant", "min_creatinine_clearance",
                   "max_ecog", "cns_involvement", "measurable_disease", "required_drugs", "excluded_drugs"):
        assert column in rows[0]
    assert {r["fit"] for r in rows} <= {"conflict", "check", "no_conflict"}
    assert any(r["fit_reasons"] for r in rows if r["fit"] != "no_conflict")
