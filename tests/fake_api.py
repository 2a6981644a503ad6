"""A local stand-in for ClinicalTrials.gov API v2, for end-to-end tests, benches and the browser test.

It implements what the project uses, as the official spec documents it: GET /version,
GET /studies (cursor paging with nextPageToken, pageSize capped at 1000 (or at a lower `max_page_size`,
so that paging tests page through tens of studies instead of thousands), countTotal on the first
page, a final empty page when the total is a multiple of the page size, 400 text for unknown
parameters, `fields` projection on top-level paths, `filter.advanced`'s
AREA[LastUpdatePostDate]RANGE[date,MAX] as the one advanced filter it applies) and GET /studies/{nctId} (404 text).
It can be told to misbehave: `faults` maps a request's sequence number (1 = the first request
it receives) to "429", "503", "reset", "html", "truncated" (a short body with a matching length)
or "cutoff" (the full length announced, half the body sent, then the connection closed);
`always` fails every request. Paging can be broken too: `repeat_token_on_page` (1 = the first page)
makes that page send the previous page's token again, and `reported_total` replaces the true
totalCount. Run alone: `python tests/fake_api.py PORT [N]`.
"""
from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).parent / "fixtures"
KNOWN_PARAMS = {"format", "markupFormat", "query.cond", "query.term", "query.locn", "query.titles", "query.intr",
                "query.outc", "query.spons", "query.lead", "query.id", "query.patient", "filter.overallStatus",
                "filter.geo", "filter.ids", "filter.advanced", "filter.synonyms", "postFilter.overallStatus",
                "postFilter.geo", "postFilter.ids", "postFilter.advanced", "postFilter.synonyms", "aggFilters",
                "geoDecay", "fields", "sort", "countTotal", "pageSize", "pageToken"}


def real_studies() -> list[dict]:
    """The real recorded myeloma-search studies in tests/fixtures (complete records first), read afresh on
    each call: a caller may edit them without copying."""
    out: dict[str, dict] = {}
    for name in ("pages/cmkumar87__condition-briefing__multiple_myeloma__ctgov.json",
                 "pages/rayyanshuda__ctgov-viz-agent__myeloma_page.json"):
        for raw in json.loads((FIXTURES / name).read_text(encoding="utf-8"))["studies"]:
            out.setdefault(raw["protocolSection"]["identificationModule"]["nctId"], raw)
    return list(out.values())


def replicate(studies: list[dict], n: int) -> list[dict]:
    """n studies made by cycling real records and giving each copy its own NCT id (a synthetic id,
    clearly out of the real range: NCT9xxxxxxx)."""
    out = []
    for i in range(n):
        raw = json.loads(json.dumps(studies[i % len(studies)]))
        if i >= len(studies):
            raw["protocolSection"]["identificationModule"]["nctId"] = f"NCT9{i:07d}"
        out.append(raw)
    return out


def project(raw: dict, fields: list[str]) -> dict:
    """Keep only the requested dotted paths (a subset of the API's `fields` behaviour)."""
    out: dict = {}
    for path in fields:
        keys = path.split(".")
        src, dst = raw, out
        for i, key in enumerate(keys):
            if not isinstance(src, dict) or key not in src:
                break
            if i == len(keys) - 1:
                dst[key] = src[key]
            else:
                src = src[key]
                dst = dst.setdefault(key, {})
    return out


def _last_update(raw: dict) -> str:
    return (raw["protocolSection"].get("statusModule", {}).get("lastUpdatePostDateStruct", {}).get("date") or "")


class FakeApi:
    def __init__(self, studies: list[dict], *, latency: float = 0.0, data_timestamp: str = "2026-11-20T09:00:05",
                 wait: Callable[[float], None] = time.sleep, max_page_size: int = 1000):
        self.studies = studies
        self.max_page_size = max_page_size  # larger pageSize values are silently capped, as the API caps them at 1000
        self.latency = latency  # network delay each answer simulates (benches only; tests keep 0)
        self.wait = wait
        self.data_timestamp = data_timestamp
        self.faults: dict[int, str] = {}
        self.always: str | None = None
        self.repeat_token_on_page: int | None = None
        self.reported_total: int | None = None
        self.log: list[tuple[str, dict]] = []  # (path, params) of every request, faults included
        self.on_request: Callable[[int], None] | None = None  # called with each request's number, before answering
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- lifecycle --
    def start(self, port: int = 0) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                api.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        # stop() waits for the serving loop to notice: a short poll keeps that well under 0.5 s (the default)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # -- behaviour --
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            self.log.append((url.path, params))
            fault = self.always or self.faults.get(len(self.log))
            number = len(self.log)
        if self.on_request:
            self.on_request(number)
        if self.latency:
            self.wait(self.latency)
        if fault == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            h.connection.close()
            return
        if fault == "429":
            return self.send(h, 429, b"Too Many Requests", "text/plain", {"Retry-After": "1"})
        if fault == "503":
            return self.send(h, 503, b"Service Unavailable", "text/plain")
        if fault == "html":
            return self.send(h, 200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", "application/json")
        path = url.path.removeprefix("/api/v2")
        if path == "/version":
            return self.send_json(h, {"apiVersion": "2.0.5", "dataTimestamp": self.data_timestamp}, fault)
        if path == "/studies":
            return self.list_studies(h, params, fault)
        if path.startswith("/studies/"):
            nct = path.rsplit("/", 1)[-1].upper()
            for raw in self.studies:
                if raw["protocolSection"]["identificationModule"]["nctId"] == nct:
                    return self.send_json(h, raw, fault)
            return self.send(h, 404, f"Study {nct} not found".encode(), "text/plain")
        return self.send(h, 404, b"Not found", "text/plain")

    def matching(self, params: dict) -> list[dict]:
        studies = self.studies
        statuses = params.get("filter.overallStatus")
        if statuses:
            wanted = set(statuses.replace("|", ",").split(","))
            studies = [s for s in studies if s["protocolSection"].get("statusModule", {}).get("overallStatus") in wanted]
        since = re.search(r"AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),\s*MAX\]",
                          params.get("filter.advanced", ""))
        if since:  # RANGE never matches a study without the date (Essie syntax page)
            studies = [s for s in studies if _last_update(s) and _last_update(s) >= since.group(1)]
        ids = params.get("filter.ids")
        if ids:
            wanted = set(ids.replace("|", ",").split(","))
            studies = [s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] in wanted]
        return studies

    def list_studies(self, h, params: dict, fault: str | None) -> None:
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            return self.send(h, 400, f"`{unknown[0]}` is unknown parameter".encode(), "text/plain")
        studies = self.matching(params)
        size = int(params.get("pageSize") or 10) or 10
        size = min(size, self.max_page_size)
        start = int(params["pageToken"].removeprefix("tok")) if params.get("pageToken") else 0
        page = studies[start:start + size]
        if params.get("fields"):
            page = [project(s, params["fields"].split(",")) for s in page]
        body: dict = {"studies": page}
        if start + size <= len(studies) and len(page) == size:  # no look-ahead, like the real API
            body["nextPageToken"] = f"tok{start + size}"
            if self.repeat_token_on_page == start // size + 1:
                body["nextPageToken"] = f"tok{max(0, start)}"
        if params.get("countTotal") == "true" and not params.get("pageToken"):
            body["totalCount"] = len(studies) if self.reported_total is None else self.reported_total
        self.send_json(h, body, fault)

    def send_json(self, h, body, fault: str | None) -> None:
        data = json.dumps(body).encode()
        if fault == "truncated":
            data = data[: len(data) // 2]
        if fault == "cutoff":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.connection.close()
            h.close_connection = True
            return
        self.send(h, 200, data, "application/json")

    def send(self, h, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        with self._lock:
            self.bytes_sent += len(data)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    base = real_studies()
    api = FakeApi(replicate(base, n) if n else base)
    print(api.start(port), flush=True)
    threading.Event().wait()  # serve until killed
