"""How fast the patient app shows results, in a real headless Chromium, on the bundled snapshot.

Run from the repo root:  python bench/app.py [--runs 3]
The API address points at a closed local port, so the app takes its real offline path: the
connection is refused, it falls back to the bundled snapshot (data as of 2026-09-18).
Prints, per run: seconds from `streamlit run` to the server answering, to the first results
visible in the browser, and from a filter change (months typed: the guidance and the family
order change) to the re-rendered page. Goals: first results <= 2 s, filter change <= 0.3 s.
The filter change is timed inside the page (performance.now()): from the Enter key to the first
DOM change showing the new ★ family ("shown"), and to the last DOM change before the page stays
still for 0.5 s ("settled"). Waiting from Python instead would measure Playwright's polling
(it re-checks at 100 ms, then 500 ms steps), not the app.
`--empty` times, the same way, a two-widget Streamlit script instead of the app: what Streamlit
and the browser cost before the app does anything (the floor under both figures).
Needs /usr/bin/chromium (apt-get install -y chromium).
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


EMPTY_SCRIPT = """import streamlit as st
st.title("Empty")
months = st.number_input("Months from the start of the last remission to the relapse", value=None, key="months")
st.markdown(f"value {months}")
"""


# Installed before each change: page-time stamps of the Enter key, of the first DOM change whose
# text holds `wanted`, and of the latest DOM change.
WATCH = """wanted => {
  window.__pressed = null; window.__shown = null; window.__last = null;
  if (!window.__watching) {
    window.__watching = true;
    document.addEventListener('keydown', e => {
      if (e.key === 'Enter' && window.__pressed === null) window.__pressed = performance.now();
    }, {capture: true});
    new MutationObserver(records => {
      if (window.__pressed === null) return;
      const now = performance.now();
      window.__last = now;
      if (window.__shown !== null) return;
      for (const r of records) {
        const nodes = r.type === 'childList' ? [...r.addedNodes] : [r.target];
        if (nodes.some(n => (n.textContent || '').includes(window.__wanted))) { window.__shown = now; return; }
      }
    }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  }
  window.__wanted = wanted;
}"""


def timed_change(page, box, value: str, wanted: str) -> tuple[float, float, float]:
    """(shown, settled) seconds, page time, from pressing Enter with `value` typed in `box`, and the
    browser's main-thread busy time over the change (includes the 0.5 s quiet wait's own checks;
    CPU time, so it holds better than the wall clock on a loaded machine)."""
    page.evaluate(WATCH, wanted)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    busy0 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}  # CPU seconds
    box.fill(value)
    box.press("Enter")
    page.get_by_text(wanted, exact=False).first.wait_for(timeout=30_000)
    while True:  # settled: no DOM change for 0.5 s
        quiet = page.evaluate("() => performance.now() - (window.__last ?? window.__pressed)")
        if quiet > 500:
            break
        time.sleep(0.1)
    shown, last, pressed = page.evaluate("() => [window.__shown, window.__last, window.__pressed]")
    busy1 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    cdp.detach()
    return ((shown - pressed) / 1000, ((last or pressed) - pressed) / 1000,
            busy1["TaskDuration"] - busy0["TaskDuration"])


def one_run(browser, empty: bool = False) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CTGOV_API_URL": f"http://127.0.0.1:{free_port()}/api/v2", "XDG_CACHE_HOME": cache}
        t0 = time.perf_counter()
        script = Path(cache) / "empty.py" if empty else ROOT / "app.py"
        if empty:
            script.write_text(EMPTY_SCRIPT)
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script),
                                 "--server.port", str(port), "--server.headless", "true",
                                 "--server.address", "127.0.0.1"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                        break
                except OSError:
                    if time.perf_counter() - t0 > 60:
                        raise RuntimeError("server did not start")
                    time.sleep(0.02)
            t_server = time.perf_counter() - t0
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(url)
            if empty:
                return {"server": t_server, **_empty_page(page, t0)}
            page.get_by_text("offline — bundled snapshot", exact=False).wait_for(timeout=60_000)
            page.locator("h3").first.wait_for(timeout=60_000)  # the first study card
            t_first = time.perf_counter() - t0

            box = page.get_by_label("Months from the start of the last remission to the relapse")
            out = {"server": t_server, "first_results": t_first}
            for key, value, wanted in (("filter_change", "10", "★ CAR T-cell therapy ("),
                                       ("filter_change_2", "30", "★ Immunomodulatory drug (IMiD or CELMoD) (")):
                out[key], out[key + "_settled"], out[key + "_busy"] = timed_change(page, box, value, wanted)
            page.close()
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _empty_page(page, t0: float) -> dict[str, float]:
    page.get_by_text("value None").wait_for(timeout=60_000)
    t_first = time.perf_counter() - t0
    box = page.get_by_label("Months from the start of the last remission to the relapse")
    out = {"first_results": t_first}
    for key, value in (("filter_change", "10"), ("filter_change_2", "30")):
        out[key], out[key + "_settled"], out[key + "_busy"] = timed_change(page, box, value, f"value {value}")
    page.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--empty", action="store_true", help="time a two-widget Streamlit script instead of the app")
    args = ap.parse_args()
    if not os.access("/usr/bin/chromium", os.X_OK):
        sys.exit("needs /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for i in range(args.runs):
            r = one_run(browser, empty=args.empty)
            results.append(r)
            print(f"run {i + 1}: server up {r['server']:.2f} s | first results visible {r['first_results']:.2f} s "
                  f"(goal 2 s) | filter change shown {r['filter_change']:.2f} s, {r['filter_change_2']:.2f} s, "
                  f"settled {r['filter_change_settled']:.2f} s, {r['filter_change_2_settled']:.2f} s (goal 0.3 s), "
                  f"browser busy {r['filter_change_busy']:.2f} s, {r['filter_change_2_busy']:.2f} s",
                  flush=True)
        browser.close()
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"median of {len(results)}: server up {med['server']:.2f} s, first results {med['first_results']:.2f} s, "
          f"filter change shown {min(med['filter_change'], med['filter_change_2']):.2f}-"
          f"{max(med['filter_change'], med['filter_change_2']):.2f} s, settled "
          f"{min(med['filter_change_settled'], med['filter_change_2_settled']):.2f}-"
          f"{max(med['filter_change_settled'], med['filter_change_2_settled']):.2f} s, browser busy "
          f"{min(med['filter_change_busy'], med['filter_change_2_busy']):.2f}-"
          f"{max(med['filter_change_busy'], med['filter_change_2_busy']):.2f} s")


if __name__ == "__main__":
    main()
