"""The real app in a real headless Chromium: `streamlit run app.py` against the local FakeApi.

Needs /usr/bin/chromium (Debian package; never `playwright install`). Skipped without it unless
REQUIRE_BROWSER=1, then it fails. Screenshots go to artifacts/ (git-ignored).

The fake API, the app's server and the browser start once for the module; each test opens its own
browser context (no cookies, storage or downloads shared) and its own app session.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.fake_api import FakeApi
from tests.helpers import HOSTILE_ID, fake_records

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = pytest.mark.browser


def shown(text: str) -> re.Pattern:
    """The text as the page shows it: word joiners (U+2060) may sit before URLs and "@"."""
    return re.compile("\u2060?".join(re.escape(c) for c in text), re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and REQUIRE_BROWSER=1 (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); set REQUIRE_BROWSER=1 to fail instead")


def launch_app(api_url: str, cache_dir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "CTGOV_API_URL": api_url, "XDG_CACHE_HOME": str(cache_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, port


def serving_url(proc: subprocess.Popen, port: int) -> str:
    # Streamlit prints its URL once the server listens: read until then (pytest-timeout bounds a hang),
    # then keep draining its output so a chatty server never blocks on a full pipe.
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if f":{port}" in line:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return f"http://127.0.0.1:{port}"
    proc.wait()
    raise RuntimeError("streamlit exited before serving: " + "".join(seen)[-2000:])


@pytest.fixture(scope="module")
def fake_api():
    api = FakeApi(fake_records())
    api.url = api.start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def app_url(fake_api, tmp_path_factory, request):
    need_chromium()  # without Chromium, skip before starting the app
    proc, port = launch_app(fake_api.url, tmp_path_factory.mktemp("app") / "cache")
    try:
        request.getfixturevalue("browser")  # Chromium starts while the app's server does
        yield serving_url(proc, port)
    finally:
        proc.kill()  # nothing of the server is kept (its cache is a temporary folder); a graceful stop waits 2-3 s
        proc.wait(timeout=10)


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, viewport: dict):
    pg = browser.new_context(viewport=viewport).new_page()  # a context of its own: a new app session
    pg.requested_hosts = set()
    pg.dialogs = []
    pg.on("request", lambda req: pg.requested_hosts.add(urlparse(req.url).hostname))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    return pg


@pytest.fixture
def page(browser):
    pg = new_page(browser, PHONE)
    yield pg
    pg.context.close()


@pytest.fixture
def desktop(browser):
    pg = new_page(browser, DESKTOP)
    yield pg
    pg.context.close()


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is (axe.min.js ships inside the
    axe-playwright-python package: nothing is fetched)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found
            if v["impact"] in BLOCKING]


def wait_until_idle(page) -> None:
    """Until Streamlit's "running" indicator is gone: a download button clicked during a rerun can
    point at a file the rerun has just replaced, and no download starts."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]')", timeout=60_000)


def download_file(page, button: str):
    """Click a download button once the page is idle; once more if a rerun still swallowed the click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        wait_until_idle(page)
        try:
            with page.expect_download(timeout=20_000) as info:
                page.get_by_role("button", name=button).click()
            return info.value
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def wait_for_cards(page, url: str) -> int:
    """Open the page and wait until every card is drawn; the number of studies it says it shows."""
    page.goto(url)
    page.get_by_text("live from ClinicalTrials.gov", exact=False).first.wait_for(timeout=30_000)
    heading = page.get_by_role("heading", name=re.compile(r"^Matching studies: \d+$"))
    heading.wait_for(timeout=30_000)
    shown = int(heading.inner_text().split(": ")[1])
    # Streamlit draws the page in pieces: wait for the last card, don't sample it once
    page.locator("h3").nth(shown - 1).wait_for(timeout=30_000)
    page.get_by_text("What the words mean").wait_for(timeout=30_000)
    # and the widgets, which Streamlit draws after a placeholder
    page.get_by_label("Months from the start of the last remission to the relapse").wait_for(timeout=30_000)
    page.get_by_text("★ Add to my printout").nth(shown - 1).wait_for(timeout=30_000)
    page.get_by_role("button", name="Show details").nth(shown - 1).wait_for(timeout=30_000)
    return shown


def test_families_and_a_study_detail_in_a_real_browser(app_url, page, fake_api):
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    wait_for_cards(page, app_url)
    page.get_by_text("Anti-CD38 antibody (3)").first.wait_for(timeout=15_000)
    page.get_by_text("Early or late relapse?").wait_for(timeout=15_000)
    assert page.get_by_text("Traceback").count() == 0

    page.get_by_role("button", name="Show details").first.click()
    page.get_by_role("tab", name="Who can join").click()
    page.get_by_text("Inclusion criteria — who can join").first.wait_for(timeout=15_000)
    page.get_by_text("Exclusion criteria — who cannot join").first.wait_for(timeout=15_000)
    page.get_by_role("tab", name="Sites").click()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=15_000)
    page.screenshot(path=str(artifacts / "app-detail.png"), full_page=True)
    assert "study=NCT" in page.url  # the detail is in the shareable link

    # a record whose text tries to load a remote image, run a script or a spreadsheet formula:
    # shown as text, nothing fetched, nothing run
    page.goto(f"{app_url}/?study={HOSTILE_ID}")
    # shown as written (an invisible word joiner goes before each URL: GFM would autolink it)
    page.get_by_text(shown("Hostile ![x](http://third-party.example/title.png)")).first.wait_for(timeout=30_000)
    page.get_by_text(shown("<img src=x onerror=alert(1)>")).first.wait_for(timeout=15_000)
    page.get_by_text(shown('=HYPERLINK("http://third-party.example/h","click")')).first.wait_for(timeout=15_000)
    # phases, site name, sponsor and contacts too (the hand-made record's other hostile fields)
    page.get_by_text(shown("Phase 3 and ![X](Http://Third-Party.Example/P.Png)")).first.wait_for(timeout=15_000)
    page.get_by_text(shown("Site ![s](http://third-party.example/site.png)")).first.wait_for(timeout=15_000)
    page.get_by_text(shown("Sponsor [sp](http://third-party.example/sponsor)")).first.wait_for(timeout=15_000)
    page.get_by_role("tab", name="Contacts").click()
    page.get_by_text("Central contacts").first.wait_for(timeout=15_000)
    assert page.locator("img[src*='third-party'], img[src='x']").count() == 0
    # only e-mail links (mailto: opens the mail app, fetches nothing) may name the record's addresses
    assert page.locator("a[href*='third-party']:not([href^='mailto:'])").count() == 0
    assert page.dialogs == []
    page.screenshot(path=str(artifacts / "app-hostile-record.png"), full_page=True)

    assert page.requested_hosts <= LOCAL_HOSTS, f"third-party requests: {page.requested_hosts - LOCAL_HOSTS}"
    assert any(path.startswith("/api/v2/studies") for path, _ in fake_api.log)


def test_results_on_the_first_desktop_screen_one_card_per_study_and_a_printout_of_the_starred(app_url, desktop):
    page = desktop
    shown = wait_for_cards(page, f"{app_url}/?months=10")
    first_card = page.locator("h3").first.bounding_box()
    assert first_card["y"] + first_card["height"] <= DESKTOP["height"], first_card  # no scrolling needed
    titles = page.locator("h3").all_inner_texts()
    assert len(titles) == shown  # one card per study, whatever its number of families
    id_lines = page.get_by_text(re.compile(r" · NCT\d{8}$")).all_inner_texts()
    ids = [line.rsplit(" ", 1)[-1] for line in id_lines]
    assert len(ids) == shown == len(set(ids))
    assert blocking_violations(page) == []

    for n, box in enumerate(page.get_by_text("★ Add to my printout").all()[:2], start=1):
        box.click()
        page.get_by_role("button", name=f"Print / save as PDF ({n} starred)").wait_for(timeout=15_000)
    page.get_by_role("button", name="Print / save as PDF (2 starred)").click()
    page.get_by_role("heading", name="Studies to discuss with my care team").wait_for(timeout=15_000)
    page.get_by_role("heading", name="Questions to ask your care team").wait_for(timeout=15_000)
    printed = page.get_by_role("heading", level=2).all_inner_texts()
    assert printed[:2] == titles[:2]
    assert blocking_violations(page) == []


def test_the_phone_layout_passes_the_accessibility_check(app_url, page):
    wait_for_cards(page, f"{app_url}/?months=30&place=02115")
    page.get_by_role("button", name="Show details").first.click()
    page.get_by_role("tab", name="Who can join").wait_for(timeout=15_000)
    assert blocking_violations(page) == []


def test_a_coordinator_downloads_the_list_and_sees_what_changed(app_url, page, tmp_path):
    import io

    import pandas as pd

    wait_for_cards(page, app_url)
    page.get_by_text("For care coordinators", exact=False).click()
    download = page.get_by_role("button", name="CSV, one row per study")
    download.wait_for(timeout=15_000)
    # filter changes above, even one that adds a message to the page, do not fold the panel away
    months = page.get_by_label("Months from the start of the last remission to the relapse")
    months.fill("10")
    months.press("Enter")
    page.get_by_text(re.compile(r"^★ CAR T-cell therapy \(\d+\)$")).wait_for(timeout=30_000)
    place = page.get_by_label("Where: US ZIP code or a city anywhere (optional)")
    place.fill("Qwxzzy")
    place.press("Enter")
    page.get_by_text("Try a 5-digit US ZIP code", exact=False).wait_for(timeout=30_000)
    download.wait_for(state="visible", timeout=60_000)  # the rerun may still be drawing the lower page; a folded panel never shows it
    place.fill("")
    place.press("Enter")
    page.get_by_text("Try a 5-digit US ZIP code", exact=False).wait_for(state="detached", timeout=30_000)
    info = download_file(page, "CSV, one row per study")
    # named by the day and the search, like the command line's exports
    assert re.fullmatch(r"myeloma-trials-\d{4}-\d{2}-\d{2}-recruiting[a-z0-9-]*\.csv", info.suggested_filename)
    saved = tmp_path / info.suggested_filename
    info.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel keeps the accents
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(frame) > 0 and (frame["source"] == "live").all()

    # last week's list, as the test makes it: the first study was not in it yet. Padded past 1 MB
    # with an extra column (ignored by the comparison): real per-site exports are 1-5 MB
    last_week = tmp_path / "last-week.csv"
    older = frame.iloc[1:].copy()
    older["padding"] = "x" * (1_500_000 // len(older) + 1)
    last_week.write_bytes(b"\xef\xbb\xbf" + older.to_csv(index=False).encode())
    assert last_week.stat().st_size > 1_400_000
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(last_week))
    page.get_by_text("1 new stud", exact=False).first.wait_for(timeout=30_000)
    # the first row, which records the search, was dropped: the comparison says it can't tell
    assert page.get_by_text("doesn't record the search that made it", exact=False).count() > 0
    assert page.get_by_text(frame.iloc[0]["nct_id"], exact=False).count() > 0
