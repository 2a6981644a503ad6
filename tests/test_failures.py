"""A record reader's catch-all logs the study and the exception once, counts it, and re-raises in
strict mode (the suite's mode), so odd records never stop a list and bugs never hide."""
import json
import logging

import pytest

from trials import classify as classify_module
from trials import eligibility as eligibility_module
from trials import failures
from trials.annotate import annotate
from trials.cli import main
from trials.model import Study
from tests.fake_api import real_studies


def _study() -> Study:
    return Study.from_api(real_studies()[0])


def _broken(*_args, **_kwargs):
    raise RuntimeError("bug under test")


def test_strict_mode_re_raises_so_never_raises_tests_can_fail(monkeypatch):
    monkeypatch.setattr(classify_module, "_families", _broken)
    with pytest.raises(RuntimeError, match="bug under test"):
        classify_module.classify(_study())


def test_lenient_mode_logs_the_study_once_counts_it_and_answers_a_default(lenient, monkeypatch, caplog):
    monkeypatch.setattr(classify_module, "_families", _broken)
    monkeypatch.setattr(eligibility_module, "_flags", _broken)
    study = _study()
    with caplog.at_level(logging.WARNING, logger="trials.failures"):
        annotated = annotate(study)
    assert annotated.families == ("unclassified",)
    assert annotated.flags["prior_car_t"].value == "not_mentioned"
    assert annotated.flags["min_prior_lines"].value is None
    # classification and eligibility both failed: one line and one count for the one study
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and study.nct_id in lines[0] and "bug under test" in lines[0]
    assert failures.count() == 1 and failures.failed_ids() == (study.nct_id,)


def test_cli_classify_says_how_many_records_could_not_be_read(lenient, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(eligibility_module, "_flags", _broken)
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"studies": real_studies()[:2]}), encoding="utf-8")
    assert main(["classify", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2  # nothing lost: both studies still printed
    assert "warning: 2 records could not be fully read" in err


def test_cli_is_silent_when_every_record_was_read(tmp_path, capsys):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(real_studies()[0]), encoding="utf-8")
    assert main(["classify", str(path)]) == 0
    assert "could not be fully read" not in capsys.readouterr().err
