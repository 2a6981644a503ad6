"""Requests, bytes and seconds to fetch N studies from a local fake API with realistic latency,
with the list `fields` projection the app uses and without it (full records).

    python bench/fetch.py            # N = 500, 1000, 2500, 5000
    python bench/fetch.py 5000 0.4   # one N, latency in seconds per request

The fake serves the real complete recruiting records of a recorded myeloma search page
(tests/fixtures/pages/cmkumar87…), replicated with synthetic NCT ids. The client keeps its
polite 1 request/second pace, so seconds are dominated by that pace plus latency.
Goal: list requests at the ceil(N/1000) floor; projected bytes <= ~60 % of full-record bytes.
"""
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeApi, replicate  # noqa: E402
from trials.client import Client  # noqa: E402
from trials.query import TrialQuery  # noqa: E402

PAGE = ROOT / "tests" / "fixtures" / "pages" / "cmkumar87__condition-briefing__multiple_myeloma__ctgov.json"


def fetch(n: int, latency: float, projected: bool) -> tuple[int, int, float, int]:
    api = FakeApi(replicate(json.loads(PAGE.read_text())["studies"], n), latency=latency)
    url = api.start()
    try:
        client = Client(base_url=url, cache_path=None)
        started = time.perf_counter()
        result = client.search(TrialQuery(statuses=()), fields=None if projected else ())
        seconds = time.perf_counter() - started
    finally:
        api.stop()
    lists = sum(1 for path, _ in api.log if path.endswith("/studies"))
    assert len(result.studies) == n, (len(result.studies), n)
    return lists, api.bytes_sent, seconds, len(api.log) - lists


def main() -> None:
    sizes = [int(sys.argv[1])] if len(sys.argv) > 1 else [500, 1000, 2500, 5000]
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    print(f"latency {latency:.2f} s/request; client pace 1 request/s")
    print(f"{'N':>6} {'fields':>9} {'list req':>8} {'floor':>5} {'other':>5} {'bytes':>12} {'seconds':>8} {'bytes %':>8}")
    for n in sizes:
        full = fetch(n, latency, projected=False)
        proj = fetch(n, latency, projected=True)
        for label, (lists, size, seconds, other) in (("full", full), ("projected", proj)):
            share = 100 * size / full[1]
            print(f"{n:>6} {label:>9} {lists:>8} {math.ceil(n / 1000):>5} {other:>5} {size:>12,} {seconds:>8.2f} {share:>7.1f}%")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
