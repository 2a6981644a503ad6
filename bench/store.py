"""The study store on a local replay: first sync, an incremental sync with 1 % changed, a warm
filtered search from the store against today's path, and exports of 1,000 studies from the store.

    python bench/store.py                       # N = 1000, 5000, 20000; 0.3 s latency per request
    python bench/store.py 5000 0.1              # one N, another latency

The replay is the local fake API (tests/fake_api.py) serving the complete real records of a
recorded myeloma search page (tests/fixtures/pages/cmkumar87…), replicated with synthetic NCT ids.
Sync and exports run in their own process (`python -m trials ...`, the client's polite
1 request/second pace included), so peak RSS is theirs alone. The store is a SQLite file.
Goals (issue 13): peak RSS <= 300 MB at 20,000; incremental requests <= ceil(changed/1000) + 1;
warm search of 5,000 <= 0.5 s; per-site xlsx of 1,000 studies <= 3 s and <= 300 MB; per-trial
CSV within 2x of a plain pandas write of the same rows.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeApi, replicate  # noqa: E402
from trials import store as store_module  # noqa: E402
from trials.annotate import annotate_all  # noqa: E402
from trials.client import Client  # noqa: E402
from trials.model import Study  # noqa: E402
from trials.query import TrialQuery  # noqa: E402
from trials.source import search  # noqa: E402
from trials.store import Store  # noqa: E402

PAGE = ROOT / "tests" / "fixtures" / "pages" / "cmkumar87__condition-briefing__multiple_myeloma__ctgov.json"
CHANGED_ON = "2026-11-25"  # after every real record's last update
QUERY = TrialQuery(phases=("PHASE2", "PHASE3"))  # recruiting (the default), phase 2 or 3
# Peak RSS from /proc/self/status VmHWM: getrusage's ru_maxrss survives exec on Linux, so a child
# would report the bench's own peak (the fake API holds every record).
MEASURED = ("import json, re, sys, time; from trials.cli import main; t = time.perf_counter(); "
            "rc = main(sys.argv[1:]); s = time.perf_counter() - t; "
            "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "print(json.dumps({'rc': rc, 'seconds': s, 'rss_mb': hwm / 1024}))")


def run_cli(args: list[str], env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURED, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"python -m trials {' '.join(args)} failed: {done.stderr[-800:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"python -m trials {' '.join(args)} exited {result['rc']}: {done.stderr[-800:]}")
    return result


def replay(n: int) -> list[dict]:
    """n studies from the real page. Each round of copies is dated a day earlier than the last
    (synthetic ids, synthetic dates): without it every copy of the newest real record would share
    its date, and a sync asking for "the last day" would get N/86 of them back, which the real
    registry, with its own date for each record, never does."""
    import datetime as dt

    real = json.loads(PAGE.read_text())["studies"]
    out = replicate(real, n)
    for i, raw in enumerate(out[len(real):], start=len(real)):
        posted = raw["protocolSection"]["statusModule"].get("lastUpdatePostDateStruct", {})
        if len(posted.get("date", "")) == 10:
            day = dt.date.fromisoformat(posted["date"]) - dt.timedelta(days=i // len(real))
            posted["date"] = day.isoformat()
    return out


def change_one_percent(api: FakeApi) -> int:
    changed = max(1, len(api.studies) // 100)
    for raw in api.studies[:: len(api.studies) // changed][:changed]:
        status = raw["protocolSection"]["statusModule"]
        status["overallStatus"] = "COMPLETED" if status.get("overallStatus") != "COMPLETED" else "RECRUITING"
        status["lastUpdatePostDateStruct"] = {"date": CHANGED_ON, "type": "ACTUAL"}
    return changed


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def bench(n: int, latency: float, workdir: Path) -> None:
    api = FakeApi(replay(n), latency=latency)
    url = api.start()
    db = f"sqlite:///{workdir / f'store-{n}.sqlite'}"
    env = {**os.environ, "CTGOV_API_URL": url, "TRIALS_DB_URL": db}
    try:
        first = run_cli(["sync"], env)
        requests = len(api.log)
        print(f"N={n:>6}  first sync:        {first['seconds']:6.1f} s  {requests:3d} requests  "
              f"peak RSS {first['rss_mb']:5.0f} MB")
        changed = change_one_percent(api)
        api.log.clear()
        incremental = run_cli(["sync"], env)
        goal = math.ceil(changed / 1000) + 1
        lists = sum(path.endswith("/studies") for path, _ in api.log)
        since = next(p["filter.advanced"] for path, p in api.log if path.endswith("/studies"))
        returned = len(api.matching({"filter.advanced": since}))
        print(f"N={n:>6}  incremental sync:  {incremental['seconds']:6.1f} s  {len(api.log):3d} requests "
              f"({lists} list pages for {returned} records: {changed} changed + those posted on the overlap day; "
              f"goal <= {goal})  peak RSS {incremental['rss_mb']:5.0f} MB")

        store = Store.open(db)
        store_module._parsed.clear()
        cold, cold_s = timed(lambda: _annotated_store_answer(store))
        warm, warm_s = timed(lambda: _annotated_store_answer(store))
        client = Client(base_url=url, cache_path=workdir / f"http-cache-{n}")
        client.search(QUERY)  # fills the HTTP cache: today's "warm" is nothing fetched, all re-parsed
        today, today_s = timed(lambda: annotate_all([Study.from_api(r) for r in client.search(QUERY).studies]))
        print(f"N={n:>6}  filtered search:   store warm {warm_s:5.2f} s ({len(warm)} studies), store first read "
              f"in a process {cold_s:5.2f} s; today's path (HTTP cache warm) {today_s:5.2f} s ({len(today)} "
              "studies before the phase filter the fake does not apply)")
        store.close()
    finally:
        api.stop()


def _annotated_store_answer(store: Store):
    result = search(QUERY, store=store)
    assert result.source == "store", result.banner
    return annotate_all(result.studies, known=result.annotations)


def bench_exports(workdir: Path, latency: float) -> None:
    n = 1000
    api = FakeApi(replicate(json.loads(PAGE.read_text())["studies"], n), latency=latency)
    url = api.start()
    env = {**os.environ, "CTGOV_API_URL": url, "TRIALS_DB_URL": f"sqlite:///{workdir / 'export.sqlite'}"}
    try:
        run_cli(["sync"], env)
        xlsx = run_cli(["export", "--status", "all", "--per", "site", "-o", str(workdir / "sites.xlsx")], env)
        csv_ = run_cli(["export", "--status", "all", "--per", "trial", "-o", str(workdir / "trials.csv")], env)
    finally:
        api.stop()
    from trials.export import to_csv_bytes, to_xlsx_bytes
    from trials.table import sites_frame, trials_frame

    store = Store.open(env["TRIALS_DB_URL"])
    result = search(TrialQuery(statuses=()), store=store)
    items = annotate_all(result.studies, None, known=result.annotations)
    trials = trials_frame(items, data_as_of=result.data_as_of, source=result.source)
    sites = sites_frame(items, data_as_of=result.data_as_of, source=result.source)
    _, xlsx_write = timed(lambda: to_xlsx_bytes(trials, sites))
    ours, plain = [], []
    for _ in range(5):  # alternated, medians: one run of 0.05 s is mostly noise on a shared machine
        ours.append(timed(lambda: to_csv_bytes(trials))[1])
        plain.append(timed(lambda: trials.to_csv(index=False).encode())[1])
    csv_write, plain_s = statistics.median(ours), statistics.median(plain)
    store.close()
    print(f"exports of {n} studies from the store ({len(sites)} site rows); whole command = process start, "
          "store read, rows, file:")
    print(f"  per-site xlsx: whole command {xlsx['seconds']:5.2f} s, peak RSS {xlsx['rss_mb']:4.0f} MB "
          f"({(workdir / 'sites.xlsx').stat().st_size / 1e6:.1f} MB file); the write itself {xlsx_write:5.2f} s")
    print(f"  per-trial CSV: whole command {csv_['seconds']:5.2f} s, peak RSS {csv_['rss_mb']:4.0f} MB; the write "
          f"itself {csv_write:5.2f} s vs a plain pandas write of the same frame {plain_s:5.2f} s "
          f"({csv_write / plain_s:.1f}x; goal <= 2x)")


def main() -> None:
    sizes = [int(sys.argv[1])] if len(sys.argv) > 1 else [1000, 5000, 20000]
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            bench(n, latency, Path(tmp))
        bench_exports(Path(tmp), latency)


if __name__ == "__main__":
    main()
