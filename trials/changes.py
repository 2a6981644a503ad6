"""What the CLI's `sync` and `changes` commands do, over trials.sync and trials.store."""
from __future__ import annotations

import json
import sys

from . import source
from .client import Client
from .errors import BadInput, SyncBusy
from .query import describe, parse_date
from .source import SOURCE_LABELS, as_of_text
from .store import CHANGE_COLUMNS, CHANGE_KINDS, Change, Store, safe_url
from .sync import SyncReport, sync


def run_sync(full: bool = False, *, client: Client | None = None, url: str | None = None) -> int:
    store = Store.open(url, create=True)
    client = client or source.default_client(cache=False)  # the store is the copy: no HTTP cache in between
    print(f"sync: {safe_url(store.url)} from {client.base_url}", file=sys.stderr, flush=True)

    def progress(report: SyncReport) -> None:
        print(report.line(), file=sys.stderr, flush=True)

    try:
        r = sync(store, client, full=full, progress=progress)
    except SyncBusy as exc:
        print(f"note: {exc}", file=sys.stderr)
        return 0
    finally:
        store.close()
    since = f" since {r.since}" if r.since else ""
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(r.counts.items())) or "none"
    print(f"sync done ({r.kind}{since}): {r.studies} records in {r.pages} pages; {r.new} new, {r.changed} changed, "
          f"{r.gone} gone; change events: {kinds}. Data as of {as_of_text(r.data_as_of) or 'unknown'}."
          + (f" {r.reread} stored studies read again by this version of the tool." if r.reread else ""),
          file=sys.stderr)
    return 0


def changes_frame(changes: list[Change]):
    """The changes as a pandas frame, columns CHANGE_COLUMNS (pandas imported here: `sync` never needs it)."""
    import pandas as pd

    return pd.DataFrame([[getattr(c, k) for k in CHANGE_COLUMNS] for c in changes], columns=list(CHANGE_COLUMNS),
                        dtype=object)


def _shown(c: Change) -> str:
    old, new = c.old, c.new
    if c.change == "eligibility_changed":
        old, new = "(criteria text)", f"(criteria text, {len(new)} characters)"
    arrow = f"{old or '-'} -> {new or '-'}"
    return f"{c.site}: {arrow}" if c.site else arrow


def run_changes(args) -> int:
    from .cli import print_table, query_from_args, _output_format, _write_bytes
    from .export import to_csv_bytes, to_xlsx_bytes

    since = parse_date(args.since)
    query, _ = query_from_args(args)
    if args.status is None:  # a closed study must still show its closure
        query = query.with_(statuses=())
    store = Store.open()
    if store is None:
        raise BadInput("There is no study store yet: run `python -m trials sync` first "
                       "(or set TRIALS_DB_URL to a shared one).")
    state = store.state()
    ids = {s.study.nct_id for s in store.studies(query, include_gone=True)}
    found = [c for c in store.changes(since) if c.nct_id in ids]
    source = f"{SOURCE_LABELS['store']}, data as of {as_of_text(state.data_as_of) or 'unknown'} ({state.age_text()})"
    if args.output:
        fmt = _output_format(args.output)
        frame = changes_frame(found)
        _write_bytes(args.output, to_xlsx_bytes(frame) if fmt == "xlsx" else to_csv_bytes(frame))
        print(f"wrote {'stdout' if args.output == '-' else args.output}: {len(found)} changes; source: {source}",
              file=sys.stderr)
    elif args.json:
        print(json.dumps([c.as_json() for c in found], ensure_ascii=False))
        print(f"{len(found)} changes; source: {source}", file=sys.stderr)
    else:
        print_table([(c.date, c.nct_id, c.change, _shown(c)) for c in found], ("Date", "NCT id", "Change", "Was -> now"))
        counts = {k: sum(c.change == k for c in found) for k in CHANGE_KINDS}
        summary = "; ".join(f"{n} {CHANGE_KINDS[k]}" for k, n in counts.items() if n) or "no changes"
        print(f"\n{summary} since {since.isoformat()} ({describe(query)}). Source: {source}.")
    return 0


# --- for the app: the configured store's history, as frames (None when there is no store) ------

def _store():
    from .source import configured_store

    return configured_store()


def history_frame(nct_id: str):
    """One study's recorded changes, newest first (date, change, site, old, new)."""
    store = _store()
    if store is None:
        return None
    found = store.history(nct_id)
    return changes_frame(found[::-1])[["date", "change", "site", "old", "new"]]


def changes_since_frame(since, nct_ids):
    """The changes recorded since a date for the given studies, oldest first."""
    store = _store()
    if store is None:
        return None
    return changes_frame(store.changes(since, nct_ids=list(nct_ids)))
