"""Mutation check: how many one-line changes to trials/ no test notices. Not run in CI (it takes
tens of minutes); run it before trusting a module's tests, and after adding tests.

    pip install "mutmut>=3,<4"
    python scripts/mutation_check.py                      # client query geo diff
    python scripts/mutation_check.py client eligibility   # any modules of trials/

Configuration: the [mutmut] section of setup.cfg (which tests run; mutmut runs, for each mutant,
only the tests that reach the mutated function). Results stay in mutants/ (git-ignored), so a
second run only re-checks what changed; `python -m mutmut browse` shows each survivor.
Prints, per module, mutants killed / survived / other (timeout, no test reaches it, ...) and the
share that survived (goal: at most 5 %).

Read survivors with care: mutmut forks each mutant from a process that has already run the tests,
so a function whose result is cached (lru_cache: geo's place indexes, the parsed snapshot) is not
run again and its mutants survive whatever the tests check.
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULES = ("client", "query", "geo", "diff")


def run(modules: list[str], children: int) -> None:
    patterns = [f"trials.{m}.*" for m in modules]
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *patterns]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=False)


def tally(modules: list[str]) -> dict[str, collections.Counter]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    counts: dict[str, collections.Counter] = {m: collections.Counter() for m in modules}
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        parts = name.split(".")
        if len(parts) > 2 and parts[0] == "trials" and parts[1] in counts:
            counts[parts[1]][status] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", default=list(DEFAULT_MODULES), help="modules of trials/")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--report-only", action="store_true", help="print the last run's results")
    args = parser.parse_args()
    if not args.report_only:
        run(args.modules, args.children)
    total = collections.Counter()
    print(f"\n{'module':<12}{'mutants':>8}{'killed':>8}{'survived':>9}{'other':>7}{'survived % of tested':>22}")
    for module, c in tally(args.modules).items():
        total += c
        _line(module, c)
    _line("all", total)
    print("\n'other': timeouts, mutants no selected test reaches, not checked yet. "
          "Survivors: python -m mutmut results; one in full: python -m mutmut show NAME")


def _line(label: str, c: collections.Counter) -> None:
    n = sum(c.values())
    killed, survived = c["killed"], c["survived"]
    share = f"{100 * survived / (killed + survived):.1f}" if killed + survived else "-"
    print(f"{label:<12}{n:>8}{killed:>8}{survived:>9}{n - killed - survived:>7}{share:>22}")


if __name__ == "__main__":
    main()
