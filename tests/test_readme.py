"""The README stays true: its first commands, the CI script, and the CLI flags it documents."""
import re
from pathlib import Path

from trials.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_lines_are_the_two_setup_commands_and_ci_runs_the_test_one():
    commands = [line.strip() for line in README.splitlines()[:5] if line.startswith("    ")]
    assert commands == ["pip install -r requirements.txt && streamlit run app.py",
                        "pip install -r requirements-dev.txt && python -m pytest"]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_every_flag_the_readme_documents_exists():
    parser = build_parser()
    known = set()
    for action in parser._subparsers._group_actions[0].choices.values():
        for a in action._actions:
            known.update(a.option_strings)
    documented = set(re.findall(r"`(--[a-z-]+)", README))
    assert documented and documented <= known, documented - known
