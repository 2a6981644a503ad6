"""What changed between two exports: change tracking without accounts.

The previous export (CSV or .xlsx bytes, or a frame) is the memory. Exports are read back with
``trials.export.read_export``, which undoes the neutralising quote, so real values are compared.

Changes found (one row each in ``Changes.frame``, columns CHANGE_COLUMNS):
* ``new_study``        a study in the new export only;
* ``study_left``       a study in the old export only (it closed, or no longer matches the filters);
* ``status_changed``   overall status differs (field ``status``, e.g. RECRUITING -> ACTIVE_NOT_RECRUITING);
* ``updated``          ``last_update_posted`` differs (the record was updated since);
* ``site_recruiting``  a site of a study in both exports whose own status became RECRUITING
                       (a site that is new and recruiting counts too);
* ``site_closed``      a site that was RECRUITING and is no longer (or is no longer listed).
Site changes need per-site rows on both sides (``export --per site``, or an .xlsx with its "sites"
sheet); without them ``Changes.sites_compared`` is False and the summary says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .export import Export, read_export, to_csv_bytes

CHANGE_COLUMNS: tuple[str, ...] = ("change", "nct_id", "title", "site", "field", "old", "new")
CHANGE_KINDS: dict[str, str] = {
    "new_study": "new studies",
    "study_left": "studies no longer in the results (closed, or no longer matching the filters)",
    "status_changed": "status changes",
    "updated": "studies updated since (last update posted changed)",
    "site_recruiting": "newly recruiting sites",
    "site_closed": "sites no longer recruiting",
}
SITE_KEY = ("facility", "city", "state", "zip", "country")
SITES_NOT_COMPARED = ("Sites were not compared: that needs per-site exports on both sides "
                      "(python -m trials export --per site, or an .xlsx with a \"sites\" sheet).")


@dataclass(frozen=True)
class Changes:
    frame: pd.DataFrame  # CHANGE_COLUMNS, one row per change
    sites_compared: bool
    old_label: str = ""
    new_label: str = ""
    notes: tuple[str, ...] = field(default=())
    search_note: str = ""  # the two lists come from different searches, or one doesn't say which

    def __len__(self) -> int:
        return len(self.frame)

    def count(self, change: str) -> int:
        return int((self.frame["change"] == change).sum())

    def to_csv_bytes(self) -> bytes:
        """The changes as CSV (UTF-8 with BOM, neutralised like every export)."""
        return to_csv_bytes(self.frame)

    def summary(self) -> str:
        """A readable text summary, one section per kind of change."""
        lines = [f"Changes from {self.old_label or 'the old export'} to {self.new_label or 'the new export'}:"]
        if self.search_note:
            lines.append(f"  {self.search_note}")
        if not len(self.frame):
            lines.append("  No changes.")
        for kind, words in CHANGE_KINDS.items():
            rows = self.frame[self.frame["change"] == kind]
            if not len(rows):
                continue
            lines.append(f"  {len(rows)} {words}:")
            for r in rows.itertuples(index=False):
                if kind in ("new_study", "study_left"):
                    detail = f" ({r.new or r.old})" if (r.new or r.old) else ""
                    lines.append(f"    {r.nct_id}{detail}  {r.title}")
                elif kind in ("status_changed", "updated"):
                    lines.append(f"    {r.nct_id}: {r.old or '(none)'} -> {r.new or '(none)'}  {r.title}")
                else:
                    lines.append(f"    {r.nct_id}: {r.site}: {r.old or '(no status)'} -> {r.new or '(no status)'}")
        if not self.sites_compared:
            lines.append(f"  {SITES_NOT_COMPARED}")
        lines.extend(f"  Note: {n}" for n in self.notes)
        return "\n".join(lines)


def _as_export(value, name: str) -> Export:
    return value if isinstance(value, Export) else read_export(value, name)


def _studies(export: Export) -> pd.DataFrame:
    """nct_id -> title, status, last_update_posted (from the trial rows, else the site rows)."""
    frame = export.trials if export.trials is not None else export.sites
    cols = ["nct_id", "title", "status", "last_update_posted"]
    frame = frame[[c for c in cols if c in frame.columns]].copy()
    for c in cols:
        if c not in frame:
            frame[c] = ""
    return frame.drop_duplicates("nct_id").set_index("nct_id")


def _site_label(key: tuple) -> str:
    facility, city, state, zip_code, country = key
    return ", ".join(p for p in (facility, city, state, country) if p) or "(unnamed site)"


def _sites(export: Export) -> dict[tuple, str]:
    """(nct_id, facility, city, state, zip, country) -> site status, for rows that name a site."""
    out: dict[tuple, str] = {}
    frame = export.sites
    named = frame[(frame["facility"] != "") | (frame["city"] != "")]
    cols = [c if c in named.columns else None for c in SITE_KEY]
    for row in named.to_dict("records"):
        key = (row["nct_id"], *(str(row[c]).strip() if c else "" for c in cols))
        out.setdefault(key, str(row.get("site_status", "")).strip())
    return out


def compare(old, new, *, old_name: str = "old export", new_name: str = "new export") -> Changes:
    """Changes from `old` to `new`. Each is an Export, export bytes (CSV or .xlsx) or a frame
    (a trials_frame or sites_frame). BadInput (naming the file) when one is not an export."""
    old_e, new_e = _as_export(old, old_name), _as_export(new, new_name)
    a, b = _studies(old_e), _studies(new_e)
    rows: list[dict] = []

    def add(change, nct_id, title, fld="", before="", after="", site=""):
        rows.append({"change": change, "nct_id": nct_id, "title": title, "site": site,
                     "field": fld, "old": before, "new": after})

    for nct in b.index.difference(a.index, sort=False):
        add("new_study", nct, b.at[nct, "title"], "status", "", b.at[nct, "status"])
    for nct in a.index.difference(b.index, sort=False):
        add("study_left", nct, a.at[nct, "title"], "status", a.at[nct, "status"], "")
    both = [n for n in b.index if n in a.index]
    for nct in both:
        if a.at[nct, "status"] != b.at[nct, "status"]:
            add("status_changed", nct, b.at[nct, "title"], "status", a.at[nct, "status"], b.at[nct, "status"])
    for nct in both:
        if a.at[nct, "last_update_posted"] != b.at[nct, "last_update_posted"]:
            add("updated", nct, b.at[nct, "title"], "last_update_posted",
                a.at[nct, "last_update_posted"], b.at[nct, "last_update_posted"])

    sites_compared = old_e.sites is not None and new_e.sites is not None
    if sites_compared:
        old_sites, new_sites = _sites(old_e), _sites(new_e)
        in_both = set(both)
        for key, status in new_sites.items():
            before = old_sites.get(key)
            if key[0] in in_both and status == "RECRUITING" and before != "RECRUITING":
                add("site_recruiting", key[0], b.at[key[0], "title"], "site_status",
                    before if before is not None else "(not listed)", status, _site_label(key[1:]))
        for key, before in old_sites.items():
            after = new_sites.get(key)
            if key[0] in in_both and before == "RECRUITING" and after != "RECRUITING":
                add("site_closed", key[0], b.at[key[0], "title"], "site_status", before,
                    after if after is not None else "(not listed)", _site_label(key[1:]))

    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)).astype(str)
    if len(frame):
        frame = frame.sort_values(["change", "nct_id", "site"], key=lambda s: s.map(order) if s.name == "change" else s,
                                  kind="stable").reset_index(drop=True)
    notes = []
    if old_e.source and new_e.source and (old_e.source == "snapshot") != (new_e.source == "snapshot"):
        notes.append("one side came from the bundled offline snapshot, the other from ClinicalTrials.gov: "
                     "some differences may only reflect the snapshot's age.")
    return Changes(frame, sites_compared, _label(old_e, old_name), _label(new_e, new_name), tuple(notes),
                   search_note(old_e, new_e))


def search_note(old: Export, new: Export) -> str:
    """A warning when the exports record different searches; a softer note when one of them
    records none (files written before exports recorded their search, or edited)."""
    before, after = old.search, new.search
    if before is not None and after is not None:
        if before.same_search(after):
            return ""
        return (f"Warning: these lists come from different searches: {before.describe()} vs {after.describe()}; "
                "differences may come from the search, not the registry.")
    unrecorded = [e.name or "one file" for e, r in ((old, before), (new, after)) if r is None]
    which = "neither list records" if len(unrecorded) == 2 else f"{unrecorded[0]} doesn't record"
    return (f"Note: {which} the search that made it; if the two lists come from different searches, "
            "differences may come from the search, not the registry.")


def _label(e: Export, name: str) -> str:
    bits = [b for b in (f"data as of {e.data_as_of}" if e.data_as_of else "", e.source) if b]
    return f"{name} ({', '.join(bits)})" if bits else name
