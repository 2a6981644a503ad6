"""Myeloma Trial Finder — the patient app (Streamlit). Widgets and drawing only.

Every decision (relapse timing, guidance, filters, grouping, words) lives in trials/patient.py.
Record text is always shown escaped (patient.md_escape) or inside tables: never as HTML/Markdown.
Nothing the person types is logged or stored; the shareable link holds the filters.
"""
from __future__ import annotations

import datetime as dt
import logging
import traceback
from pathlib import Path

import streamlit as st

from trials import patient as P
from trials.annotate import annotate, annotate_all
from trials.vocabulary import FAMILIES, SETTINGS
from trials.eligibility import split_criteria
from trials.errors import BadInput, TrialsError
from trials.fit import drug_names
from trials.geo import locate
from trials.query import PHASES, STATUSES, TrialQuery
from trials.source import fetch_study, search

APOLOGY = "Sorry, something went wrong on our side. Please try again later."

logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(name)s: %(message)s")  # once; later calls do nothing
log = logging.getLogger("trials.app")


def log_failure(what: str, exc: BaseException) -> None:
    """The exception's type and where it was raised, never its message: that could carry what a
    person typed, and nothing a person types is logged."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    log.error("%s failed: %s at %s", what, type(exc).__name__,
              f"{Path(where.filename).name}:{where.lineno}" if where else "?")

st.set_page_config(page_title="Myeloma Trial Finder", page_icon="🔎", layout="centered")


# --- data at the I/O edge ---------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def answers() -> P.AnswerStore:
    """Shared by every session: live answers kept an hour, fallback answers (saved copy, snapshot)
    two minutes, so ClinicalTrials.gov is tried again soon while the first page stays fast."""
    return P.AnswerStore()


def load_studies(statuses: tuple[str, ...], progress=None) -> dict:
    """The search answer with its annotated studies ("items")."""
    def fetch() -> dict:
        result = search(TrialQuery(statuses=statuses), progress=progress)
        return {"items": tuple(annotate_all(result.studies, known=result.annotations)), "source": result.source,
                "banner": result.banner, "notice": result.notice, "data_as_of": result.data_as_of,
                "shortfall": result.shortfall}

    # a partial list is kept as briefly as a fallback answer, so the whole list is asked for again soon
    return answers().get(("search", tuple(statuses)), fetch, lambda d: d["source"] == "live" and not d["shortfall"])


def load_detail(nct_id: str, offline: bool) -> tuple:
    return answers().get(("detail", nct_id, offline), lambda: fetch_study(nct_id, offline=offline),
                         lambda r: r[1] == "live")


# --- state <-> link ---------------------------------------------------------------------------

def init_state() -> None:
    if st.session_state.get("_init"):
        return
    f, notes = P.filters_from_params(st.query_params.to_dict())
    how = "dates" if (f.months is None and f.remission_start) else "months"
    st.session_state.update({
        "how": how, "months": f.months, "remission": f.remission_start, "relapse": f.relapse,
        "place": f.place, "radius": f.radius, "unit": f.unit, "statuses": list(f.statuses),
        "phases": list(f.phases), "age": f.age, "sex": f.sex, "families": list(f.families),
        "settings": list(f.settings), "study": f.study,
        **{f"prior_{k}": k in f.prior for k in P.PRIOR_TREATMENTS},
        "lines": f.lines, "had": list(f.had), "refractory": list(f.refractory), "transplant": f.transplant,
        "transplant_months": f.transplant_months, "crcl": f.crcl, "ecog": f.ecog, "cns": f.cns, "pcl": f.pcl,
        "amyloidosis": f.amyloidosis, "share_answers": f.share_answers,
        "_link_notes": notes, "_init": True,
    })


def current_filters() -> P.Filters:
    s = st.session_state
    how = s.get("how", "months")
    return P.Filters(
        months=s.get("months") if how == "months" else None,
        remission_start=s.get("remission") if how == "dates" else None,
        relapse=s.get("relapse") if how == "dates" else None,
        place=(s.get("place") or "").strip(), radius=s.get("radius") or "anywhere", unit=s.get("unit") or "mi",
        statuses=tuple(s.get("statuses") or ()) or P.DEFAULT_STATUSES, phases=tuple(s.get("phases") or ()),
        age=s.get("age"), sex=s.get("sex") or "", families=tuple(s.get("families") or ()),
        settings=tuple(s.get("settings") or ()),
        prior=tuple(k for k in P.PRIOR_TREATMENTS if s.get(f"prior_{k}")),
        lines=s.get("lines"), had=tuple(s.get("had") or ()), refractory=tuple(s.get("refractory") or ()),
        transplant=s.get("transplant") or "", transplant_months=s.get("transplant_months"), crcl=s.get("crcl"),
        ecog=s.get("ecog"), cns=s.get("cns") or "", pcl=s.get("pcl") or "", amyloidosis=s.get("amyloidosis") or "",
        share_answers=bool(s.get("share_answers")), study=s.get("study") or "",
    )


def show_all_settings() -> None:
    st.session_state["settings"] = list(SETTINGS)


def relax_filters(changes: dict) -> None:
    """Apply the filter changes that bring a linked study into the list (patient.why_left_out)."""
    st.session_state.update({k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()})


def toggle_study(nct_id: str, family: str) -> None:
    if st.session_state.get("study") == nct_id:
        st.session_state["study"] = ""
    else:
        st.session_state["study"] = nct_id
        st.session_state["study_family"] = family


# --- drawing ----------------------------------------------------------------------------------

def draw_banner(data: dict) -> None:
    icon, box = {"live": ("🟢", st.success), "store": ("🗄️", st.success),
                 "cache": ("💾", st.info)}.get(data["source"], ("📦", st.warning))
    box(f"{icon} Data: {P.md_escape(data['banner'])}")
    if data["notice"]:
        st.caption(P.md_escape(data["notice"]))
    if data["shortfall"]:
        st.warning(P.md_escape(f"This list is incomplete: {data['shortfall']}. Some studies may be missing; "
                               "try again later."), icon="⚠️")
    if (data["source"] != "live" or data["shortfall"]) and st.button("Try ClinicalTrials.gov again", key="retry"):
        answers().clear()  # every kept answer, lists and details: the next run asks again
        st.rerun()


def draw_inputs(base_view: P.View, family_counts: dict[str, int]) -> None:
    st.subheader("About the relapse")
    st.radio("How long did the last remission last?", ["months", "dates", "unsure"], key="how", horizontal=True,
             format_func={"months": "I know the months", "dates": "I know the dates", "unsure": "Not sure"}.get)
    how = st.session_state.get("how")
    if how == "months":
        st.number_input("Months from the start of the last remission to the relapse", min_value=0.0,
                        max_value=600.0, step=1.0, value=None, key="months", placeholder="e.g. 30")
    elif how == "dates":
        today = dt.date.today()
        c1, c2 = st.columns(2)
        c1.date_input("Remission started", value=None, min_value=P.EARLIEST_DATE, max_value=today,
                      key="remission", format="YYYY-MM-DD")
        c2.date_input("Relapse found", value=None, min_value=P.EARLIEST_DATE, max_value=today,
                      key="relapse", format="YYYY-MM-DD")

    st.subheader("Where")
    st.text_input("US ZIP code or a city anywhere (optional)", key="place", max_chars=200,
                  placeholder="e.g. 02115 or Lyon, France")
    c1, c2 = st.columns([2, 1])
    options = list(P.RADIUS_CHOICES)
    if st.session_state.get("radius") not in options:
        options.append(st.session_state.get("radius"))
    c1.selectbox("Distance to the nearest open site", options, key="radius",
                 format_func=lambda r: "Anywhere" if r == "anywhere" else f"{r} {P.UNITS[st.session_state.get('unit', 'mi')]}")
    c2.radio("Unit", list(P.UNITS), key="unit", format_func=P.UNITS.get, horizontal=True)

    with st.expander("About your treatment so far (optional)"):
        st.caption("Every answer is optional and stays in this page: it is not stored or logged. Each study's "
                   "criteria are then read for your answers, and its card lists the things to ask your care "
                   "team about. Studies with a criterion that conflicts with an answer are listed last, never "
                   "hidden. This is not a decision on whether you can join.")
        st.markdown("**Kinds of treatment you have had**")
        for k, p in P.PRIOR_TREATMENTS.items():
            st.checkbox(p.label[0].upper() + p.label[1:], key=f"prior_{k}")
        names = list(drug_names())
        st.multiselect("Drugs you have had (type to search: generic or brand name)", names, key="had")
        st.multiselect("Drugs the myeloma stopped responding to (refractory)", names, key="refractory")
        c1, c2 = st.columns(2)
        c1.number_input("Number of earlier lines of treatment", min_value=0, max_value=30, step=1, value=None,
                        key="lines", help="A line is one treatment plan, e.g. induction, transplant and "
                                          "maintenance together count as one line.")
        c2.number_input("Kidney function: creatinine clearance (mL/min), if you know it", min_value=0,
                        max_value=300, step=1, value=None, key="crcl")
        c1, c2 = st.columns(2)
        c1.selectbox("Stem cell transplant", list(P.TRANSPLANTS), key="transplant", format_func=P.TRANSPLANTS.get)
        c2.number_input("Months since the last transplant", min_value=0.0, max_value=600.0, step=1.0,
                        value=None, key="transplant_months")
        st.selectbox("Which describes your days best?", [None, *P.ECOG_WORDS], key="ecog",
                     format_func=lambda k: "Rather not say" if k is None else P.ECOG_WORDS[k])
        for key, question in (("cns", "Has myeloma been found in the brain or spinal cord (CNS)?"),
                              ("pcl", "Have you been told you have plasma cell leukaemia?"),
                              ("amyloidosis", "Have you been told you have AL amyloidosis?")):
            st.radio(question, list(P.YES_NO), key=key, format_func=P.YES_NO.get, horizontal=True)
        st.checkbox("Include my answers in the shareable link (off: the link holds the search only)",
                    key="share_answers")

    with st.expander("More filters: status, phase, age, sex, therapy family, patient group"):
        st.multiselect("Study status", list(STATUSES), key="statuses", format_func=STATUSES.get,
                       help="Recruiting studies are open to new participants now.")
        st.multiselect("Phase (leave empty for every phase)", list(PHASES), key="phases", format_func=PHASES.get)
        c1, c2 = st.columns(2)
        c1.number_input("Age (optional)", min_value=0, max_value=120, step=1, value=None, key="age")
        c2.selectbox("Sex (optional)", list(P.SEXES), key="sex", format_func=P.SEXES.get)
        st.multiselect("Therapy families (leave empty for all)", list(FAMILIES), key="families",
                       format_func=lambda f: f"{FAMILIES[f].label} ({family_counts.get(f, 0)})")
        st.multiselect("Patient groups the studies are for (leave empty for all)", list(SETTINGS), key="settings",
                       format_func=lambda s: f"{SETTINGS[s]} ({base_view.setting_counts.get(s, 0)})")
        st.button("Show every patient group", on_click=show_all_settings, key="all_settings")


def draw_guidance(view: P.View, timing: str, problem: str) -> None:
    g = P.guidance(timing)
    with st.container(border=True):
        if problem:
            st.warning(P.md_escape(problem))
        st.markdown(f"#### {g.title}")
        if timing != "unknown":
            st.caption(P.TIMING_WORDS[timing])
        st.write(g.intro)
        if g.points:
            st.markdown("\n".join(f"- {p}" for p in g.points))
            counts = P.guidance_counts(view, timing)
            st.markdown("**Matching studies in these families** (shown first below, marked ★):")
            st.markdown("\n".join(f"- {label}: {n}" for _, label, n in counts))
        st.caption(g.source)
        st.info(g.disclaimer, icon="ℹ️")


def draw_card(row: P.Row, family: str, place, unit: str, offline: bool) -> None:
    s, item = row.study, row.item
    with st.container(border=True):
        st.markdown(f"**{P.md_escape(s.title)}**")
        st.caption(f"{P.md_escape(s.nct_id)} · {P.md_escape(P.phase_words(s.phases))}")
        st.markdown(P.md_escape(P.status_words(s.overall_status)))
        for badge in (P.not_only_myeloma_badge(item.classification), P.made_for_badge(row.made_for),
                      P.stale_badge(s)):
            if badge:
                st.markdown(P.md_escape(badge))
        lines = P.fit_lines(row.fit)
        if lines:
            st.markdown(f"**{P.md_escape(lines[0])}** (from the study's criteria, as we read them)")
            if lines[1:]:
                st.markdown("\n".join(f"- {P.md_escape(x)}" for x in lines[1:]))
        explained = P.card_family(item, family)
        if item.setting == "unknown" and family != P.MAYBE:
            st.markdown(P.md_escape("❔ " + P.GROUPS[P.MAYBE][0]))
        why, comparator = P.why_in_family(item, explained)
        if why:
            st.markdown(("**Comparator.** " if comparator else "**Why here:** ") + P.md_escape(why, limit=400))
        st.markdown(P.md_escape(P.design_words(s), limit=400))
        others = P.other_families_words(item, explained)
        if others:
            st.caption(P.md_escape(others))
        st.markdown("📍 " + P.md_escape(P.nearest_words(row, place, unit)))
        st.caption(P.md_escape(P.updated_words(s)))
        c1, c2 = st.columns(2)
        url = P.safe_url(s)
        if url:
            c1.link_button("ClinicalTrials.gov page", url)
        open_now = st.session_state.get("study") == s.nct_id and st.session_state.get("study_family", family) == family
        c2.button("Hide details" if open_now else "Show details", key=f"detail_{family}_{s.nct_id}",
                  on_click=toggle_study, args=(s.nct_id, family))
        if open_now:
            draw_detail(s.nct_id, item, place, unit, offline)


def draw_detail(nct_id: str, item, place, unit: str, offline: bool) -> None:
    import altair as alt  # imported on first use: ~0.5 s off the first page load
    import pandas as pd

    try:
        try:
            study, source = load_detail(nct_id, offline)
        except TrialsError as e:
            if item is None:
                st.warning(P.md_escape(str(e)))
                return
            st.caption("The full record could not be loaded; showing the record from the list.")
            study, source = item.study, "list"
        full = annotate(study, place)
        flags = full.flags
        st.markdown(f"##### Details of {P.md_escape(study.nct_id)}")
        st.caption(f"Record from: {P.md_escape({'live': 'ClinicalTrials.gov (live)', 'cache': 'saved copy', 'snapshot': 'bundled snapshot', 'list': 'search list'}.get(source, source))}")
        draw_history(study.nct_id)
        tabs = st.tabs(["Summary", "Treatments", "Who can join", "Sites and map", "Contacts and dates"])
        with tabs[0]:
            st.markdown(P.md_escape(study.brief_summary) or "No summary in the record.")
            st.caption(f"Sponsor: {P.md_escape(study.lead_sponsor) or 'not given'}")
        with tabs[1]:
            st.markdown(P.md_escape(P.design_words(study)))
            if study.arm_groups:
                st.dataframe(pd.DataFrame(P.arm_rows(study)), hide_index=True)
            if study.interventions:
                st.dataframe(pd.DataFrame(P.intervention_rows(study)), hide_index=True)
        with tabs[2]:
            e = study.eligibility
            st.markdown(P.md_escape(f"Ages: {e.minimum_age or 'no minimum'} to {e.maximum_age or 'no maximum'}. "
                                    f"Sex: {P.SEXES.get(e.sex, 'all') if e.sex != 'ALL' else 'all'}."))
            reasons = P.fit_rows(P.fit_for(study, flags, current_filters()))
            if reasons:
                st.markdown("**Things to ask your care team about**, with the criterion each rests on:")
                st.dataframe(pd.DataFrame(reasons), hide_index=True)
            st.markdown("**Previous treatments, as read from the criteria** (check with the study team):")
            st.dataframe(pd.DataFrame(P.flag_rows(flags)), hide_index=True)
            crit = split_criteria(e.criteria)
            for title, items in (("Inclusion criteria (who can join)", crit.inclusion),
                                 ("Exclusion criteria (who cannot join)", crit.exclusion),
                                 ("Other criteria text", crit.other)):
                if items:
                    st.markdown(f"**{title}**")
                    st.markdown("\n".join(f"- {P.md_escape(i)}" for i in items))
            if not (crit.inclusion or crit.exclusion or crit.other):
                st.caption("No eligibility criteria in the record.")
        with tabs[3]:
            rows = P.site_rows(study, place, unit)
            if rows:
                st.dataframe(pd.DataFrame(rows), hide_index=True)
            else:
                st.caption("No sites listed in the record.")
            points = pd.DataFrame(P.map_points(study))
            if not points.empty:
                if place is not None:
                    points = pd.concat([points, pd.DataFrame([{"lat": place.lat, "lon": place.lon, "site": "You",
                                                               "status": "your place", "open": "Your place"}])])
                chart = (alt.Chart(points).mark_point(filled=True, size=90)
                         .encode(longitude="lon:Q", latitude="lat:Q",
                                 shape=alt.Shape("open:N", title="Site"), color=alt.Color("open:N", title="Site"),
                                 tooltip=["site:N", "status:N"])
                         .project(type="equirectangular").properties(height=320))
                st.altair_chart(chart, width="stretch")
                st.caption("Map of site positions only (no background map, nothing loaded from other sites). "
                           "Sites placed from their ZIP code or city are drawn at its centre (approximate); "
                           "sites that can't be placed are in the table, not on the map.")
        with tabs[4]:
            st.markdown("**Central contacts**")
            if study.central_contacts:  # a table: e-mail addresses stay exactly as written, to copy
                st.dataframe(pd.DataFrame(P.contact_rows(study.central_contacts)), hide_index=True)
            else:
                st.markdown("None listed.")
            st.markdown("**Key dates**")
            st.markdown("\n".join(f"- {k}: {P.md_escape(v)}" for k, v in P.key_dates(study)) or "None listed.")
    except Exception as exc:  # never a traceback in the page
        log_failure(f"the details of {nct_id}", exc)
        st.error(APOLOGY)


def draw_linked_study(f: P.Filters, items, place, miles, offline: bool) -> None:
    """A linked study the filters leave out: which filters, a button that shows it, its details."""
    item = next((a for a in items if a.study.nct_id == f.study), None)
    if item is None:  # not among the loaded statuses, perhaps: its own record tells
        try:
            item = annotate(load_detail(f.study, offline)[0], place)
        except TrialsError:
            item = None
    sentence, relax = P.why_left_out(item, f, place, miles)
    with st.container(border=True):
        st.markdown(f"**{P.md_escape(f.study)}** — {P.md_escape(sentence)}")
        c1, c2 = st.columns(2)
        if relax:
            c1.button("Show it in the list", key="relax_filters", on_click=relax_filters, args=(relax,))
        if c2.button("Close details", key="close_detail"):
            st.session_state["study"] = ""
            st.rerun()
        draw_detail(f.study, None, place, f.unit, offline)


def draw_history(nct_id: str) -> None:
    """The study's status history, as the local study store recorded it (only when there is one)."""
    from trials.changes import history_frame

    history = history_frame(nct_id)
    if history is not None and len(history):
        with st.expander(f"Status history ({len(history)} recorded changes)"):
            st.dataframe(history, hide_index=True)
            st.caption("Recorded by the local study store's syncs with ClinicalTrials.gov; dates are the "
                       "registry's own version dates.")


def draw_changes_since(items) -> None:
    """'Changes since …' from the local study store, for the studies shown (no file needed)."""
    import datetime as dt

    from trials.changes import changes_since_frame
    from trials.export import to_csv_bytes
    from trials.source import configured_store

    if configured_store() is None:
        return
    since = st.date_input("Changes since", value=dt.date.today() - dt.timedelta(days=7), key="changes_since")
    found = changes_since_frame(since, [a.study.nct_id for a in items])
    if found is None:
        return
    st.caption(f"{len(found)} changes recorded since {since.isoformat()} for the studies shown "
               "(new studies, status, sites, eligibility, studies gone).")
    if len(found):
        st.dataframe(found, hide_index=True)
        st.download_button("Download these changes (CSV)", to_csv_bytes(found),
                           file_name="myeloma-trial-changes-since.csv", mime="text/csv", key="dl_changes_since")


def draw_coordinator_tools(rows: tuple, data: dict, place, f) -> None:
    """Downloads of exactly the studies shown, and 'what changed' against an earlier export."""
    import datetime as dt

    from trials import search_record
    from trials.diff import compare
    from trials.export import Export, to_csv_bytes, to_xlsx_bytes
    from trials.table import sites_frame, trials_frame

    # nearest RECRUITING site from the searched place (the column's documented meaning), even for
    # a study not yet recruiting, whose card shows its nearest listed site
    items = P.export_items(rows, place)
    search = search_record.from_app_filters(f)
    stamp = {"data_as_of": data["data_as_of"], "source": data["source"], "place": place, "search": search}

    def file_name(kind: str, extension: str) -> str:
        return search_record.file_name(kind, search, dt.date.today(), extension)

    with st.expander("For care coordinators: download this list, or see what changed"):
        st.caption(f"{len(items)} studies as shown above, with contacts, nearest recruiting site, "
                   "eligibility flags and the date the data is from. Cells a spreadsheet could run as a "
                   "formula start with a ' (see README).")
        cols = st.columns(3)
        cols[0].download_button("CSV, one row per study", lambda: to_csv_bytes(trials_frame(items, **stamp)),
                                file_name=file_name("trials", "csv"), mime="text/csv", key="dl_trials")
        cols[1].download_button("CSV, one row per site", lambda: to_csv_bytes(sites_frame(items, **stamp)),
                                file_name=file_name("sites", "csv"), mime="text/csv", key="dl_sites")
        cols[2].download_button(
            "Excel (.xlsx)", lambda: to_xlsx_bytes(trials_frame(items, **stamp), sites_frame(items, **stamp)),
            file_name=file_name("trials", "xlsx"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
        draw_changes_since(items)
        old = st.file_uploader("Compare with an earlier export (.csv or .xlsx written by this tool)",
                               type=["csv", "xlsx"], key="old_export")
        if old is None:
            return
        try:
            now = Export(trials=trials_frame(items, **stamp), sites=sites_frame(items, **stamp), name="this list")
            changes = compare(old.getvalue(), now, old_name=old.name, new_name="this list")
        except TrialsError as e:
            st.warning(P.md_escape(str(e)))
            return
        if changes.search_note:
            st.warning(P.md_escape(changes.search_note))
        st.text(changes.summary())
        if len(changes):
            st.dataframe(changes.frame, hide_index=True)
            st.download_button("Download the changes (CSV)", changes.to_csv_bytes(),
                               file_name="myeloma-trial-changes.csv", mime="text/csv", key="dl_changes")


def draw_footer() -> None:
    with st.expander("What the words mean"):
        st.markdown("\n".join(f"- {w}" for w in P.PHASE_EXPLAINED.values()))
        st.markdown("- Randomized: chance decides which group each participant joins, for example the new "
                    "treatment or the usual one (the comparator).")
        st.markdown("\n".join(f"- {P.md_escape(P.status_words(s))}" for s in ("RECRUITING", "NOT_YET_RECRUITING",
                                                               "ACTIVE_NOT_RECRUITING", "COMPLETED")))
        st.markdown("- ★ marks the therapy families the guidance above brings up for your relapse timing.")
        st.markdown("\n".join(f"- {w}" for w in P.WORDS))
    st.caption("Privacy: what you enter stays in this page and its link; it is not stored or logged. "
               "Only ClinicalTrials.gov is contacted. " + P.DISCLAIMER)


def main() -> None:
    st.title("Myeloma Trial Finder")
    st.caption("Clinical trials for relapsed multiple myeloma, grouped by kind of treatment and explained "
               "in plain words.")
    init_state()
    for note in st.session_state.get("_link_notes", []):
        st.info(P.md_escape(note))
    pre = current_filters()

    progress_box = st.empty()

    def progress(pages: int, studies: int, total: int | None) -> None:
        text = f"Loading studies from ClinicalTrials.gov: {studies}" + (f" of {total}" if total else "") + \
               f" (page {pages})"
        progress_box.progress(min(1.0, studies / total) if total else 0.0, text=text)

    try:
        with st.spinner("Loading studies…"):
            data = load_studies(pre.statuses, progress=progress)
            items = data["items"]
    except TrialsError as e:
        progress_box.empty()
        st.error(P.md_escape(str(e)))
        return
    progress_box.empty()
    draw_banner(data)

    place, miles = None, None
    if pre.place:
        try:
            place = locate(pre.place)
        except BadInput as e:
            st.warning(P.md_escape(str(e)))
    try:
        miles = pre.radius_miles()
    except BadInput as e:
        st.warning(P.md_escape(str(e)))
    base_view = P.build_view(items, pre.with_(families=()), place, miles)
    draw_inputs(base_view, base_view.family_counts())

    f = current_filters()
    st.query_params.from_dict(P.filters_to_params(f))
    if place is not None:
        st.caption(f"Distances from {P.md_escape(place.label)}.")
    elif miles is not None:
        st.caption("Enter a ZIP code or city to use the distance.")
    timing, problem = P.timing_of(f)
    view = P.build_view(items, f, place, miles)

    st.subheader("What the patient article says")
    draw_guidance(view, timing, problem)

    st.subheader(f"Matching studies: {len(view.shown)}")
    notes = P.hidden_notes(view, f)
    for note in notes:
        st.info(P.md_escape(note), icon="🙈")
    if not view.shown:
        st.write("No study matches all the choices. Try a larger distance, another status or patient group.")
    offline = data["source"] == "snapshot"
    shown = {r.study.nct_id for r in view.shown}
    if f.study and f.study not in shown:
        draw_linked_study(f, items, place, miles, offline)
    secs = P.sections(view, timing)
    # the open study's details are drawn in one of its families: the one it was opened from
    homes = [sec.family for sec in secs if any(r.study.nct_id == f.study for r in sec.rows)]
    if homes and st.session_state.get("study_family") not in homes:
        st.session_state["study_family"] = homes[0]
    for sec in secs:
        open_here = sec.family in homes and st.session_state.get("study_family") == sec.family
        with st.expander(sec.heading, expanded=open_here):
            st.caption(sec.plain)
            for row in sec.rows:
                draw_card(row, sec.family, place, f.unit, offline)
    draw_coordinator_tools(view.shown, data, place, f)
    draw_footer()


try:
    main()
except Exception as exc:  # the page never shows a traceback
    log_failure("the page", exc)
    st.error(APOLOGY)
