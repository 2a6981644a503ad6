"""Command line: `python -m trials search|classify|snapshot|export|diff|sync|changes ...`.

Exit codes (for cron jobs): 0 ok (also when the answer came from saved data: a warning says so
on stderr), 2 bad input or a query ClinicalTrials.gov refused, 3 ClinicalTrials.gov unavailable
and no saved data allowed or available, or its list incomplete ("got N of M studies") without
--accept-partial, 1 anything unexpected.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sys
from glob import escape as glob_escape
from typing import Sequence

from . import failures, search_record
from .errors import ApiUnreachable, BadInput, BadResponse, IncompleteList, QueryRefused, StudyNotFound, TrialsError
from .query import (MYELOMA_CONDITIONS, PHASES, STATUSES, GeoFilter, TrialQuery, describe, essie_phrase,
                    parse_date, parse_nct_ids, parse_phases, parse_statuses)

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors share the bad-input exit code
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def add_filter_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (the same in search and export)")
    g.add_argument("--status", default=None, metavar="LIST",
                   help="overall statuses, comma-separated, or 'all' (default RECRUITING). "
                        f"Values: {', '.join(STATUSES)}")
    g.add_argument("--phase", default=None, metavar="LIST",
                   help="phases, comma-separated: 1, 2, 3, 4, early1, NA (default: any)")
    g.add_argument("--near", default=None, metavar="PLACE",
                   help="a US ZIP code or a city anywhere, e.g. 02115 or 'Lyon, France' (geocoded offline)")
    g.add_argument("--radius", default="50mi", metavar="DIST",
                   help="distance around --near, e.g. 50mi or 80km (default 50mi)")
    g.add_argument("--term", action="append", default=[], metavar="TEXT",
                   help="free text every study must match (repeatable), e.g. --term teclistamab")
    g.add_argument("--updated-since", default=None, metavar="YYYY-MM-DD",
                   help="only studies whose record was updated on or after this date")
    g.add_argument("--id", action="append", default=[], metavar="NCT",
                   help="only these NCT numbers (repeatable or comma-separated); "
                        "without --status, any status")
    g.add_argument("--condition", action="append", default=[], metavar="TEXT",
                   help=f"condition terms (default: {' OR '.join(MYELOMA_CONDITIONS)})")
    g.add_argument("--offline", action="store_true",
                   help="answer from the bundled snapshot only; no network")
    g.add_argument("--no-fallback", action="store_true",
                   help="exit 3 when ClinicalTrials.gov fails, instead of answering from a saved copy "
                        "or the bundled snapshot (for scheduled jobs)")
    g.add_argument("--accept-partial", action="store_true",
                   help="when ClinicalTrials.gov's pages end before its own count, go on with the studies "
                        "received (a warning says how many are missing) instead of exiting 3")


# flags whose empty value would otherwise quietly mean "no filter"
_NOT_EMPTY = ("status", "phase", "near", "radius", "updated_since", "id")


def _refuse_empty(args: argparse.Namespace) -> None:
    for name in _NOT_EMPTY:
        values = getattr(args, name)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and not value.strip():
                flag = "--" + name.replace("_", "-")
                raise BadInput(f"{flag} was given an empty value. Give a value, or leave {flag} out.")


def add_history_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("your treatment so far (optional; each study then gets a fit verdict: conflict / "
                             "check / no_conflict, with the criteria behind it; nothing is stored)")
    g.add_argument("--lines", default=None, metavar="N", help="number of earlier lines of treatment")
    g.add_argument("--had", action="append", default=[], metavar="DRUG[,…]",
                   help="treatments had (generic name, brand or code, or a class such as 'CAR T', 'bispecific')")
    g.add_argument("--refractory", action="append", default=[], metavar="DRUG[,…]",
                   help="treatments the myeloma stopped responding to (refractory)")
    g.add_argument("--transplant", default=None, metavar="KIND", help="auto, allo, auto,allo or none")
    g.add_argument("--transplant-months", default=None, metavar="N", help="months since the last transplant")
    g.add_argument("--age", default=None, metavar="N", help="age in years")
    g.add_argument("--crcl", default=None, metavar="N", help="creatinine clearance, mL/min")
    g.add_argument("--ecog", default=None, metavar="N", help="ECOG performance status 0-4")
    for name, words in (("cns", "myeloma in the brain or spinal cord"), ("pcl", "plasma cell leukaemia"),
                        ("amyloidosis", "AL amyloidosis")):
        g.add_argument(f"--{name}", default=None, metavar="yes|no", help=words)


def _number(text: str | None, flag: str, low: float, high: float, whole: bool = False) -> float | None:
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        value = float("nan")
    if not (low <= value <= high) or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        raise BadInput(f"{flag} takes {kind} from {low:g} to {high:g}, not {str(text)[:20]!r}")
    return int(value) if whole else value


def _yes_no(text: str | None, flag: str) -> bool | None:
    if text is None:
        return None
    answer = {"yes": True, "y": True, "no": False, "n": False}.get(str(text).strip().lower())
    if answer is None:
        raise BadInput(f"{flag} takes yes or no, not {str(text)[:20]!r}")
    return answer


def profile_from_args(args: argparse.Namespace):
    """The person's answers as a fit.Profile, or None when none was given; BadInput on bad values."""
    from .fit import Profile, parse_transplants, resolve_treatments

    profile = Profile(
        lines=_number(args.lines, "--lines", 0, 30, whole=True),
        had=resolve_treatments(args.had),
        refractory=resolve_treatments(args.refractory),
        transplants=parse_transplants(args.transplant) if args.transplant is not None else None,
        transplant_months=_number(args.transplant_months, "--transplant-months", 0, 600),
        age=_number(args.age, "--age", 0, 120),
        crcl=_number(args.crcl, "--crcl", 0, 300),
        ecog=_number(args.ecog, "--ecog", 0, 4, whole=True),
        cns=_yes_no(args.cns, "--cns"), pcl=_yes_no(args.pcl, "--pcl"),
        amyloidosis=_yes_no(args.amyloidosis, "--amyloidosis"),
    )
    return None if profile.is_empty() else profile


def query_from_args(args: argparse.Namespace):
    """TrialQuery and the searched place (or None) from the filter flags; BadInput on bad values."""
    _refuse_empty(args)
    nct_ids = parse_nct_ids(args.id)
    statuses = parse_statuses(args.status) if (args.status or not nct_ids) else ()
    place = None
    near = None
    if args.near is not None:
        from .geo import locate, parse_radius

        place = locate(args.near)
        miles = parse_radius(args.radius)
        if miles is not None:
            near = GeoFilter(place.lat, place.lon, miles)
    for text in (*args.condition, *args.term):
        essie_phrase(text)  # the same check live and offline: text that is empty once cleaned is refused
    query = TrialQuery(
        conditions=tuple(args.condition) or MYELOMA_CONDITIONS,
        statuses=statuses,
        phases=parse_phases(args.phase),
        near=near,
        terms=tuple(args.term),
        updated_since=parse_date(args.updated_since),
        nct_ids=nct_ids,
    )
    return query, place


def run_search(args, *, progress=None):
    """(result, place, unplaced): with --near, result.studies are those with an open site inside the
    circle, then those whose open sites can't be placed (their NCT ids in `unplaced`): listed, never
    dropped."""
    from .source import search

    query, place = query_from_args(args)
    # The place is matched here, not by ClinicalTrials.gov: filter.geo only sees sites that carry
    # the registry's coordinates, and would silently drop studies whose sites have only a ZIP or city.
    result = search(query.with_(near=None), offline=args.offline, progress=progress)
    result.query = query
    if args.no_fallback and (result.failure or result.source == "snapshot"):
        raise ApiUnreachable(result.failure or "ClinicalTrials.gov was not asked (--offline).")
    if result.notice:
        print(f"warning: {result.notice}", file=sys.stderr)
    _check_whole(result.shortfall, args.accept_partial)
    unplaced: set[str] = set()
    if query.near is not None:
        result.studies, unplaced = _near_open_sites(result.studies, place, query.near.miles)
    return result, place, unplaced


def _check_whole(shortfall: str, accept_partial: bool) -> None:
    """A list missing studies stops the run (a scheduled export must not shrink quietly) unless
    the user accepted a partial list; then it is a warning."""
    if not shortfall:
        return
    if not accept_partial:
        raise IncompleteList(f"{shortfall}. Try again later, or add --accept-partial to keep the studies received.")
    print(f"warning: incomplete list: {shortfall}.", file=sys.stderr)


def _near_open_sites(studies, place, miles):
    """Studies with an open site (geo.open_sites_only) inside the circle, then those whose open sites
    can't be placed ("distance unknown"), and the ids of the latter; the rest are counted on stderr."""
    from .geo import DISTANCE_UNKNOWN, WITHIN, open_sites_only, reach

    where = {s.nct_id: reach(s, place, miles, recruiting_only=open_sites_only(s)) for s in studies}
    near = [s for s in studies if where[s.nct_id] == WITHIN]
    unknown = [s for s in studies if where[s.nct_id] == DISTANCE_UNKNOWN]
    left_out = len(studies) - len(near) - len(unknown)
    if left_out:
        print(f"note: {left_out} studies left out: no open (recruiting) site within {miles:g} miles",
              file=sys.stderr)
    if unknown:
        print(f"note: {len(unknown)} studies listed under \"distance unknown — call to ask\": their open "
              "sites have no map position, ZIP code or city that can be placed (or none is listed)",
              file=sys.stderr)
    return near + unknown, {s.nct_id for s in unknown}


def study_json(study, result, place=None, unplaced=frozenset(), profile=None) -> dict:
    """One study as a JSON object; with a searched place, also its nearest open site's distance; with
    the person's answers, the fit verdict and its reasons."""
    from .annotate import annotate
    from .design import design_json

    a = annotate(study, profile=profile, reading=(result.annotations or {}).get(study.nct_id))  # stored, from a store
    c = a.classification
    row = {
        "nct_id": study.nct_id,
        "title": study.title,
        "status": study.overall_status,
        "phases": list(study.phases),
        "conditions": list(study.conditions),
        "url": study.url,
        "last_update_posted": study.last_update_posted or None,
        "categories": list(c.families),
        "setting": c.setting,
        "myeloma_only": c.myeloma_only,
        "design": design_json(a.design),
        "source": result.source,
        "data_as_of": result.data_as_of,
    }
    if a.fit is not None:
        row["fit"] = a.fit.as_json()
    if place is not None:
        from .geo import DISTANCE_UNKNOWN, nearest_site, open_sites_only

        nearest = nearest_site(study, place, recruiting_only=open_sites_only(study))
        known = nearest is not None and nearest.miles is not None and study.nct_id not in unplaced
        row["distance_mi"] = round(nearest.miles, 1) if known else None
        row["distance_basis"] = nearest.basis if known else DISTANCE_UNKNOWN
    return row


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Record text for a terminal: control characters (escape sequences) removed."""
    return _CONTROL.sub("", text)


def print_table(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> None:
    rows = [tuple(printable(c).replace("\n", " ").replace("\t", " ") for c in r) for r in rows]
    width = shutil.get_terminal_size((120, 20)).columns
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers[:-1])]
    title_room = max(20, width - sum(widths) - 2 * len(widths) - 1)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[-1])
    for r in rows:
        title = r[-1] if len(r[-1]) <= title_room else r[-1][: title_room - 1] + "…"
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + title)


def cmd_search(args) -> int:
    profile = profile_from_args(args)  # bad answers are refused before any search
    result, place, unplaced = run_search(args)
    if args.json:
        for study in result.studies:
            print(json.dumps(study_json(study, result, place, unplaced, profile), ensure_ascii=False))
        print(f"{len(result.studies)} studies; source: {result.banner}", file=sys.stderr)
        return EXIT_OK
    fits = {}
    if profile is not None:
        from .annotate import annotate_all

        annotated = annotate_all(result.studies, profile=profile, known=result.annotations)
        fits = {a.study.nct_id: a.fit.verdict.replace("_", " ") for a in annotated}

    def rows(studies):
        return [(s.nct_id, STATUSES.get(s.overall_status, s.overall_status or "?"),
                 "/".join(PHASES.get(p, p) for p in s.phases) or "-", *((fits[s.nct_id],) if fits else ()), s.title)
                for s in studies]

    headers = ("NCT id", "Status", "Phase", *(("Fit",) if fits else ()), "Title")
    print_table(rows([s for s in result.studies if s.nct_id not in unplaced]), headers)
    if unplaced:
        print(f"\nDistance unknown — call to ask ({len(unplaced)} studies: their open sites can't be placed):")
        print_table(rows([s for s in result.studies if s.nct_id in unplaced]), headers)
    print(f"\n{len(result.studies)} studies ({describe(result.query)}). Source: {result.banner}.")
    return EXIT_OK


def _records_in(path: str) -> list[dict]:
    """The study objects in a file: a v2 study, a v2 search page, or a JSON list of studies."""
    data = _read_file(path, MAX_STUDY_FILE_BYTES,
                      f"{path}: larger than {MAX_STUDY_FILE_BYTES // 2**20} MB; split it into smaller files")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{path}: not a JSON file ({type(exc).__name__})") from None
    if isinstance(body, dict) and isinstance(body.get("studies"), list):
        return [s for s in body["studies"] if isinstance(s, dict)]
    if isinstance(body, dict) and "protocolSection" in body:
        return [body]
    if isinstance(body, list):
        return [s for s in body if isinstance(s, dict)]
    raise BadInput(f"{path}: neither a ClinicalTrials.gov v2 study nor a search response")


def cmd_classify(args) -> int:
    from .classify import classification_json, classify
    from .design import design_facts, design_json
    from .eligibility import eligibility_flags, flags_as_json
    from .model import Study

    failed = 0
    for path in args.files:
        try:
            records = _records_in(path)
        except BadInput as exc:  # report it, keep going: one bad file loses nothing else
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        for raw in records:
            study = Study.from_api(raw)
            with failures.reading(study.nct_id):
                row = classification_json(classify(study))
                row["eligibility"] = flags_as_json(eligibility_flags(study.eligibility.criteria))
                row["design"] = design_json(design_facts(study))
            print(json.dumps(row, ensure_ascii=False))
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_snapshot(args) -> int:
    from pathlib import Path

    from . import source
    from .snapshot import write_snapshot

    client = source.default_client(cache=not args.no_cache)
    query = TrialQuery(statuses=())
    progress = _progress_to_stderr()
    fetched = client.search(query, progress=progress)
    if progress:
        print(file=sys.stderr)
    _check_whole(fetched.shortfall, args.accept_partial)
    path = write_snapshot(
        fetched.studies, data_as_of=source.as_of_text(fetched.data_as_of),
        note=f"Every study of the myeloma condition search, all statuses, from {client.base_url}.",
        provenance=[{"origin": client.base_url, "what": describe(query), "studies_added": len(fetched.studies)}],
        path=Path(args.output) if args.output else None,
    )
    print(f"wrote {path}: {len(fetched.studies)} studies in {fetched.pages} requests, data as of {fetched.data_as_of}")
    return EXIT_OK


# --- export and diff (coordinators: spreadsheets and what changed since last time) -------------

def _progress_to_stderr():
    """Page progress on stderr, only for a person at a terminal (never in a cron job's mail)."""
    if not sys.stderr.isatty():
        return None

    def progress(pages, count, total):
        print(f"\rpage {pages}: {count} of {total if total is not None else '?'} studies", end="", file=sys.stderr)
    return progress


def _annotated(args):
    """Run the search of the filter flags; (annotated studies, frame stamp, result)."""
    from .annotate import annotate_all

    profile = profile_from_args(args) if hasattr(args, "had") else None
    progress = _progress_to_stderr()
    result, place, _ = run_search(args, progress=progress)
    if progress:
        print(file=sys.stderr)
    annotated = annotate_all(result.studies, place, profile, known=result.annotations)
    stamp = {"data_as_of": result.data_as_of, "source": result.source, "place": place,
             "search": search_record.from_query(result.query, args.near)}
    return annotated, stamp, result


def _export_frames(args, per: str):
    """Run the search of the filter flags; (trials frame, sites frame or None, result)."""
    from .table import sites_frame, trials_frame

    annotated, stamp, result = _annotated(args)
    return trials_frame(annotated, **stamp), sites_frame(annotated, **stamp) if per == "site" else None, result


def _output_format(path: str) -> str:
    if path == "-":
        return "csv"
    suffix = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    if suffix not in ("csv", "xlsx"):
        raise BadInput(f'"{path}": the output file name must end in .csv or .xlsx (or use "-o -" for CSV on stdout)')
    return suffix


def _export_bytes(fmt: str, trials, sites) -> bytes:
    """xlsx with every sheet, or CSV of the finest level exported (sites when there are any)."""
    from .export import to_csv_bytes, to_xlsx_bytes

    return to_xlsx_bytes(trials, sites) if fmt == "xlsx" else to_csv_bytes(trials if sites is None else sites)


def _write_bytes(path: str, data: bytes) -> None:
    """To stdout for "-", else atomically (a failed run never leaves half a file behind). A file
    made read-only is refused, not replaced; temp files a killed run left beside it are removed."""
    import os
    import stat
    from pathlib import Path

    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.exists() and not target.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise BadInput(f"cannot write {path}: the file is read-only, so it was left as it is")
    _remove_stale_temp_files(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _remove_stale_temp_files(target) -> None:
    """`.NAME.PID.tmp` files beside the target whose process is gone (an export that was killed)."""
    import os

    for tmp in target.parent.glob(f".{glob_escape(target.name)}.*.tmp"):
        pid = tmp.name[len(target.name) + 2:-len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another export is writing it
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):  # alive under another user, or not a pid at all
            continue
        tmp.unlink(missing_ok=True)


def _output_path(args) -> str:
    """Where the export goes: -o as given; a directory, or a name that is only an extension
    (".xlsx"), gets the default name (day and search); without -o, stdout when it is piped (scripts),
    else a file with the default name in the current directory (CSV on a terminal helps nobody)."""
    import datetime as dt
    import os
    from pathlib import Path

    output = args.output
    if output is None:
        output = "-" if not sys.stdout.isatty() else ""
    if output == "-":
        return output
    path = Path(output)
    extension = path.name.lower() if path.name.lower() in (".csv", ".xlsx") else None
    if not (output == "" or extension or path.is_dir() or output.endswith(("/", os.sep))):
        return output
    query, _ = query_from_args(args)
    name = search_record.file_name("sites" if args.per == "site" else "trials",
                                   search_record.from_query(query, args.near), dt.date.today(), extension or "csv")
    return str((path.parent if extension else path) / name)


def cmd_export(args) -> int:
    from .table import sites_frame, trials_frame

    args.output = _output_path(args)
    fmt = _output_format(args.output)
    annotated, stamp, result = _annotated(args)
    # only the frames the file holds: a per-site CSV has no per-study rows
    trials = trials_frame(annotated, **stamp) if fmt == "xlsx" or args.per == "trial" else None
    sites = sites_frame(annotated, **stamp) if args.per == "site" else None
    _write_bytes(args.output, _export_bytes(fmt, trials, sites))
    rows = f", {len(sites)} site rows" if sites is not None else ""
    where = "stdout" if args.output == "-" else args.output
    print(f"wrote {where}: {len(annotated)} studies{rows}; source: {result.banner}", file=sys.stderr)
    return EXIT_OK


# study files for `classify`: a full page of 1000 complete records is ~60 MB
MAX_STUDY_FILE_BYTES = 256 * 1024 * 1024


def _read_file(path: str, limit: int, too_big: str) -> bytes:
    """The file's bytes, reading at most `limit` + 1 of them (a stream like /dev/zero never ends);
    BadInput(too_big) when there are more."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: a directory, not a file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise BadInput(too_big)
    return data


def _search_filter_defaults() -> dict:
    """Defaults of the flags that change what is searched (not how: --offline, --no-fallback)."""
    p = argparse.ArgumentParser(add_help=False)
    add_filter_flags(p)
    defaults = vars(p.parse_args([]))
    for how in ("offline", "no_fallback", "accept_partial"):
        defaults.pop(how)
    return defaults


def cmd_diff(args) -> int:
    from .diff import compare
    from .export import MAX_EXPORT_BYTES, Export, read_export, too_big

    def read(path: str):
        return read_export(_read_file(path, MAX_EXPORT_BYTES, too_big(path)), path)

    old = read(args.old)
    changed_filters = [k for k, v in _search_filter_defaults().items() if getattr(args, k) != v]
    if args.new:
        if changed_filters or args.save:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed_filters) or "--save"
            raise BadInput(f"give either NEW (a second export) or filters to search now, not both ({flags})")
        new = read(args.new)
        new_name = args.new
    else:
        # the same level of detail as the old export: sites only when it has them
        trials, sites, result = _export_frames(args, "site" if old.sites is not None else "trial")
        new = Export(trials, sites, "search now")
        new_name = "search now"
        if args.save:
            _write_bytes(args.save, _export_bytes(_output_format(args.save), trials, sites))
            print(f"saved the new export to {args.save}", file=sys.stderr)
    changes = compare(old, new, old_name=args.old, new_name=new_name)
    if args.output:
        _write_bytes(args.output, changes.to_csv_bytes())
        print(printable(changes.summary()), file=sys.stderr if args.output == "-" else sys.stdout)
    else:
        print(printable(changes.summary()))
    return EXIT_OK


# --- the study store: sync and changes (the work is in trials.sync and trials.changes) ----------

def cmd_sync(args) -> int:
    from .changes import run_sync

    return run_sync(full=args.full)


def cmd_changes(args) -> int:
    from .changes import run_changes

    return run_changes(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m trials",
        description="Find relapsed multiple myeloma clinical trials on ClinicalTrials.gov (API v2). "
                    "Works offline from a bundled snapshot of real records. Information to discuss "
                    "with your care team, not medical advice.",
        epilog="Exit codes: 0 ok (a warning on stderr when saved data answered), 2 bad input or "
               "refused query, 3 ClinicalTrials.gov unavailable and no fallback allowed, or its list incomplete "
               "without --accept-partial, 1 unexpected error. "
               "Set CTGOV_API_URL to use a mirror or a test server.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail on stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("search", help="list matching studies",
                       description="List the studies matching the filters: NCT id, status, phases, title, "
                                   "then a line naming the data source and its date.")
    add_filter_flags(p)
    add_history_flags(p)
    p.add_argument("--json", action="store_true",
                   help="one JSON object per study per line (nct_id, title, status, phases, conditions, url, "
                        "last_update_posted, categories, setting, design (randomised, comparator, first in human, dose finding, "
                        "hospital stay, staying near the centre: words and the record's sentence), source, data_as_of; with --near also "
                        "distance_mi and distance_basis; with answers about your treatment, fit)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("classify", help="therapy families, setting and eligibility flags of study files",
                       description="Each FILE is a ClinicalTrials.gov v2 study object or a v2 search response. "
                                   "Prints one JSON object per study per line: nct_id, categories (therapy family "
                                   "ids), setting, evidence (why each family), eligibility (prior-therapy flags "
                                   "with the deciding sentence), design (facts patients weigh, each with its source).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("snapshot", help="rebuild the bundled offline snapshot from the live API",
                       description="Fetch every myeloma study (all statuses) from the live API and write "
                                   "the bundled snapshot (needs network).")
    p.add_argument("--output", default=None,
                   help="where to write (default: the bundled snapshot inside trials/, or $TRIALS_SNAPSHOT)")
    p.add_argument("--no-cache", action="store_true", help="bypass the local HTTP cache")
    p.add_argument("--accept-partial", action="store_true",
                   help="write the snapshot even when ClinicalTrials.gov's pages end before its own count")
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("export", help="write the matching studies to a CSV or .xlsx file",
                       description="Export the studies matching the filters for a spreadsheet: one row per study "
                                   "(--per trial) or per study and site (--per site), with contacts, nearest "
                                   "recruiting site (with --near), status, eligibility flags and the date the data "
                                   "is from. Columns are stable from week to week. Cells a spreadsheet could run "
                                   "as a formula get a leading single quote.")
    add_filter_flags(p)
    add_history_flags(p)
    p.add_argument("--per", choices=("trial", "site"), default="trial",
                   help="one row per study (default) or one row per study and site")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="FILE.csv or FILE.xlsx (sheets: all, one per therapy family, sites with --per site, "
                        "and search); '-' writes CSV to stdout. A directory, or only '.csv' / '.xlsx' (also "
                        "DIR/.xlsx), gets the default name: myeloma-trials|sites-DAY-SEARCH. Without -o: "
                        "CSV to stdout when it is piped, else a file with the default name here")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("diff", help="what changed since an earlier export",
                       description="Compare an earlier export (OLD, .csv or .xlsx) with a newer one (NEW) or, "
                                   "without NEW, with the search of the filters run now. Reports new studies, "
                                   "studies that left, status changes, updated records and (with per-site exports "
                                   "on both sides) newly recruiting and closed sites. Run the search with the same "
                                   "filters as the old export, or every unmatched study shows as new or gone.")
    p.add_argument("old", metavar="OLD", help="an earlier export (.csv or .xlsx written by `export`)")
    p.add_argument("new", metavar="NEW", nargs="?", default=None,
                   help="a newer export; without it the filters below are searched now")
    add_filter_flags(p)
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="also write the changes as CSV (columns change, nct_id, title, site, field, old, new); "
                        "'-' writes the CSV to stdout and the summary to stderr")
    p.add_argument("--save", default=None, metavar="FILE",
                   help="without NEW: also save the fresh export (.csv or .xlsx, same kind as OLD), e.g. "
                        "to compare against next time")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("sync", help="bring the local study store up to date (for cron)",
                       description="Pull every myeloma study (all statuses) into the study store, then on later "
                                   "runs only what changed since, recording each change (new study, status, "
                                   "sites, eligibility, study gone). Store: TRIALS_DB_URL, or a SQLite file in "
                                   "the user's data directory. Progress on stderr. A second sync started while "
                                   "one runs exits at once with a message.")
    p.add_argument("--full", action="store_true",
                   help="read the whole list again (done automatically once a week; finds studies gone)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("changes", help="what changed in the study store since a date",
                       description="Changes the study store recorded since DATE for the studies matching the "
                                   "filters (any status unless --status is given): new_study, status_changed, "
                                   "site_opened, site_closed, site_status_changed, eligibility_changed, "
                                   "study_gone. A table on screen, a JSON list with --json, or CSV/xlsx with -o.")
    p.add_argument("--since", required=True, metavar="YYYY-MM-DD", help="changes dated on or after this day")
    add_filter_flags(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects (nct_id, change, old, new, date, site, version_date, "
                        "seen_at, title)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write FILE.csv or FILE.xlsx ('-' for CSV on stdout)")
    p.set_defaults(func=cmd_changes)
    return parser


def _joined_values(argv: Sequence[str]) -> list[str]:
    """'--radius -5mi' -> '--radius=-5mi': argparse reads a value starting with '-' as an option,
    and would answer with its usage text instead of the project's message about the distance."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in _VALUE_FLAGS and _NEGATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


_VALUE_FLAGS = ("--radius",)
_NEGATIVE = re.compile(r"-[\d.]")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_joined_values(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr)
    failures.reset()
    try:
        code = args.func(args)
        if failures.count():
            print(f"warning: {failures.summary()}", file=sys.stderr)
        return code
    except (BadInput, QueryRefused, StudyNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ApiUnreachable, BadResponse) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except TrialsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNEXPECTED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `| head` closed the pipe: not an error for the user
        return EXIT_OK
    except Exception as exc:  # a bug of ours: say so plainly, without a traceback
        print(f"error: unexpected problem ({type(exc).__name__}: {exc}). Please report it.", file=sys.stderr)
        return EXIT_UNEXPECTED
