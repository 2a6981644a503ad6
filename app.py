"""Myeloma Trial Finder — the patient app (Streamlit). Widgets and drawing only.

Every decision lives in pure modules: trials/filters.py (choices and the link), trials/guidance.py
(relapse timing, the article), trials/view.py (what is shown, in which group), trials/cards.py (what
a card and its details say), trials/words.py (plain words, escaping). Record text is always shown
escaped (words.md_escape) or as plain text: never as HTML/Markdown.
Nothing the person types is logged or stored; the shareable link holds the filters.
"""
from __future__ import annotations

import datetime as dt
import logging
import traceback
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st

from trials import cards as C, failures, filters as F, guidance as G, view as V, words as W
from trials.annotate import annotate, annotate_all
from trials.client import base_url_from_env
from trials.design import design_in_words
from trials.errors import BadInput, TrialsError
from trials.fit import drug_names
from trials.geo import locate
from trials.query import PHASES, STATUSES, TrialQuery, api_url
from trials.sitemap import MAP_CAPTION, site_map
from trials.source import AnswerStore, fetch_study, search
from trials.vocabulary import FAMILIES, SETTINGS

APOLOGY = "Sorry, something went wrong on our side. Please try again later."

logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(name)s: %(message)s")  # once; later calls do nothing
log = logging.getLogger("trials.app")


def log_failure(what: str, exc: BaseException) -> None:
    """The exception's type and where it was raised, never its message: that could carry what a
    person typed, and nothing a person types is logged."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    log.error("%s failed: %s at %s", what, type(exc).__name__,
              f"{Path(where.filename).name}:{where.lineno}" if where else "?")


st.set_page_config(page_title="Myeloma Trial Finder", page_icon="🔎", layout="wide")

# The app's own static styling (no record text in it): less empty space above the title so the
# results start on the first screen, headings sized for reading, and a print layout without the
# page's controls.
STYLE = """<style>
.block-container { padding-top: 1.5rem; padding-bottom: 2rem; max-width: 1320px; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
h2 { font-size: 1.45rem !important; }
h3 { font-size: 1.15rem !important; }
@media print {
  header, [data-testid="stSidebar"], [data-testid="stToolbar"], .stButton, [data-testid="stPopover"] { display: none !important; }
}
</style>"""


# --- data at the I/O edge ---------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def answers() -> AnswerStore:
    """Shared by every session: live answers kept an hour, fallback answers (saved copy, snapshot)
    two minutes, so ClinicalTrials.gov is tried again soon while the first page stays fast."""
    return AnswerStore()


def load_studies(statuses: tuple[str, ...], progress=None) -> dict:
    """The search answer with its annotated studies ("items")."""
    def fetch() -> dict:
        from trials.snapshot import load_snapshot

        result = search(TrialQuery(statuses=statuses), progress=progress)
        return {"items": tuple(annotate_all(result.studies, known=result.annotations)), "source": result.source,
                "banner": result.banner, "notice": result.notice, "data_as_of": result.data_as_of,
                "shortfall": result.shortfall, "query": result.query,
                "snapshot_size": len(load_snapshot().raw) if result.source == "snapshot" else None}

    # a partial list is kept as briefly as a fallback answer, so the whole list is asked for again soon
    return answers().get(("search", tuple(statuses)), fetch, lambda d: d["source"] == "live" and not d["shortfall"])


def load_detail(nct_id: str, offline: bool) -> tuple:
    return answers().get(("detail", nct_id, offline), lambda: fetch_study(nct_id, offline=offline),
                         lambda r: r[1] == "live")


# --- state <-> link ---------------------------------------------------------------------------

def init_state() -> None:
    if st.session_state.get("_init"):
        return
    f, notes = F.filters_from_params(st.query_params.to_dict())
    st.session_state.update({**F.to_state(f), "starred": [], "_link_notes": notes, "_init": True})


def current_filters() -> F.Filters:
    return F.from_state(st.session_state)


def show_all_settings() -> None:
    st.session_state["settings"] = list(SETTINGS)


def relax_filters(changes: dict) -> None:
    """Apply the filter changes that bring a linked study into the list (view.why_left_out)."""
    st.session_state.update({k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()})


def toggle_study(nct_id: str) -> None:
    st.session_state["study"] = "" if st.session_state.get("study") == nct_id else nct_id


def pick_family(chip_key: str) -> None:
    """A family chip on a card: show that family only (the chip itself is not kept selected)."""
    family = st.session_state.get(chip_key)
    st.session_state[chip_key] = None
    if family:
        st.session_state["families"] = [family]


def toggle_star(nct_id: str) -> None:
    starred = [s for s in st.session_state.get("starred", []) if s != nct_id]
    if st.session_state.get(f"star_{nct_id}"):
        starred.append(nct_id)
    st.session_state["starred"] = starred


def set_print_view(on: bool) -> None:
    st.session_state["print_view"] = on


def page_link(f: F.Filters) -> str:
    """This page's address with the filters (st.context.url is the address the browser asked for)."""
    url = urlsplit(st.context.url or "http://localhost:8501/")
    query = urlencode(F.filters_to_params(f))
    return f"{url.scheme}://{url.netloc}{url.path}" + (f"?{query}" if query else "")


def small(text: str) -> None:
    """Secondary text at full contrast (st.caption's grey is under 4.5:1 on white)."""
    st.markdown(f":small[{text}]")


# --- drawing ----------------------------------------------------------------------------------

def draw_banner(data: dict) -> None:
    icon, box = {"live": ("🟢", st.success), "store": ("🗄️", st.success),
                 "cache": ("💾", st.info)}.get(data["source"], ("📦", st.warning))
    box(f"{icon} {W.md_escape(W.source_words(data['source'], data['banner'], data.get('snapshot_size')))}")
    if data["shortfall"]:
        st.warning(W.md_escape(f"This list is incomplete: {data['shortfall']}. Some studies may be missing; "
                               "try again later."), icon="⚠️")
    if data["source"] == "live" and not data["shortfall"]:
        return
    c1, c2 = st.columns([3, 1])
    if data["notice"]:
        with c1.expander("Technical detail", key="technical_detail"):
            st.text(data["notice"])
    if c2.button("Try ClinicalTrials.gov again", key="retry"):
        answers().clear()  # every kept answer, lists and details: the next run asks again
        st.rerun()


def draw_inputs(base_view: V.View) -> None:
    st.header("About you", anchor=False)
    how = st.radio("How long did the last remission last?", list(F.TIMING_WAYS), key="how", horizontal=True,
                   format_func={"months": "I know the months", "dates": "I know the dates", "unsure": "Not sure"}.get)
    if how == "months":
        st.number_input("Months from the start of the last remission to the relapse", min_value=0,
                        max_value=600, step=1, value=None, key="months", placeholder="e.g. 30")
    elif how == "dates":
        today = dt.date.today()
        c1, c2 = st.columns(2)
        c1.date_input("Remission started", value=None, min_value=G.EARLIEST_DATE, max_value=today,
                      key="remission", format="YYYY-MM-DD")
        c2.date_input("Relapse found", value=None, min_value=G.EARLIEST_DATE, max_value=today,
                      key="relapse", format="YYYY-MM-DD")

    st.text_input("Where: US ZIP code or a city anywhere (optional)", key="place", max_chars=200,
                  placeholder="e.g. 02115 or Lyon, France")
    c1, c2 = st.columns([3, 2])
    options = list(F.RADIUS_CHOICES)
    if st.session_state.get("radius") not in options:
        options.append(st.session_state.get("radius"))
    c1.selectbox("Distance to the nearest open site", options, key="radius",
                 format_func=lambda r: "Anywhere" if r == "anywhere" else f"{r} {F.UNITS[st.session_state.get('unit', 'mi')]}")
    c2.radio("Unit", list(F.UNITS), key="unit", format_func=F.UNITS.get, horizontal=True)

    with st.expander("About your treatment so far (optional)", key="history_panel"):
        st.markdown("Every answer is optional and stays in this page: it is not stored or logged. Each study's "
                    "criteria are then read for your answers, and its card lists the things to ask your care "
                    "team about. Studies with a criterion that conflicts with an answer are listed last, never "
                    "hidden. This is not a decision on whether you can join.")
        st.markdown("**Kinds of treatment you have had**")
        for k, p in F.PRIOR_TREATMENTS.items():
            st.checkbox(p.label[0].upper() + p.label[1:], key=f"prior_{k}")
        names = list(drug_names())
        st.multiselect("Drugs you have had (type to search: generic or brand name)",
                       F.picker_options(names, st.session_state.get("had")), key="had")
        st.multiselect("Drugs the myeloma stopped responding to (refractory)",
                       F.picker_options(names, st.session_state.get("refractory")), key="refractory")
        c1, c2 = st.columns(2)
        c1.number_input("Number of earlier lines of treatment", min_value=0, max_value=30, step=1, value=None,
                        key="lines", help="A line is one treatment plan, e.g. induction, transplant and "
                                          "maintenance together count as one line.")
        c2.number_input("Kidney function: creatinine clearance (mL/min), if you know it", min_value=0,
                        max_value=300, step=1, value=None, key="crcl")
        c1, c2 = st.columns(2)
        c1.selectbox("Stem cell transplant", list(F.TRANSPLANTS), key="transplant", format_func=F.TRANSPLANTS.get)
        c2.number_input("Months since the last transplant", min_value=0, max_value=600, step=1,
                        value=None, key="transplant_months")
        st.selectbox("Which describes your days best?", [None, *F.ECOG_WORDS], key="ecog",
                     format_func=lambda k: "Rather not say" if k is None else F.ECOG_WORDS[k])
        for key, question in (("cns", "Has myeloma been found in the brain or spinal cord (CNS)?"),
                              ("pcl", "Have you been told you have plasma cell leukaemia?"),
                              ("amyloidosis", "Have you been told you have AL amyloidosis?")):
            st.radio(question, list(F.YES_NO), key=key, format_func=F.YES_NO.get, horizontal=True)
        st.checkbox("Include my answers in the shareable link (off: the link holds the search only)",
                    key="share_answers")

    with st.expander("More filters: status, phase, age, sex, patient group", key="more_filters"):
        st.multiselect("Study status", list(STATUSES), key="statuses", format_func=STATUSES.get,
                       help="Recruiting studies are open to new participants now.")
        st.multiselect("Phase (leave empty for every phase)", list(PHASES), key="phases", format_func=PHASES.get)
        c1, c2 = st.columns(2)
        c1.number_input("Age (optional)", min_value=0, max_value=120, step=1, value=None, key="age")
        c2.selectbox("Sex (optional)", list(F.SEXES), key="sex", format_func=F.SEXES.get)
        st.multiselect("Patient groups the studies are for (leave empty for all)", list(SETTINGS), key="settings",
                       format_func=lambda s: f"{SETTINGS[s]} ({base_view.setting_counts.get(s, 0)})")
        st.button("Show every patient group", on_click=show_all_settings, key="all_settings")


def draw_guidance(view: V.View, timing: str, problem: str) -> None:
    """A short panel: the timing, what the article brings up, its source; the rest behind 'read more'."""
    g = G.guidance(timing)
    st.header("What the patient article says", anchor=False)
    with st.container(border=True):
        if problem:
            st.warning(W.md_escape(problem))
        st.markdown(f"**{g.title}**")
        st.markdown(G.guidance_summary(timing))
        with st.expander("Read more from the article", key="guidance_more"):
            if timing != "unknown":
                st.markdown(G.TIMING_WORDS[timing])
            st.markdown(g.intro)
            if g.points:
                st.markdown("\n".join(f"- {p}" for p in g.points))
                st.markdown("**Matching studies in these families** (marked ★):")
                st.markdown("\n".join(f"- {label}: {n}" for _, label, n in V.guidance_counts(view, timing)))
            st.markdown(g.disclaimer)
        small(g.source)


def draw_card(row: V.Row, timing: str, place, unit: str, offline: bool) -> None:
    """One study's card; a record that breaks it costs that card only, not the cards after it."""
    with st.container(border=True):
        try:
            draw_card_body(row, timing, place, unit, offline)
        except Exception as exc:
            failures.record(exc, "the study's card", row.study.nct_id)  # logged and counted; raised in tests
            st.warning(f"This study ({W.md_escape(row.study.nct_id)}) could not be shown in full here; its "
                       "ClinicalTrials.gov page has the whole record.")


def draw_card_body(row: V.Row, timing: str, place, unit: str, offline: bool) -> None:
    s, item = row.study, row.item
    st.subheader(W.md_escape(s.title), anchor=False)
    # one Markdown block per card (paragraphs): fewer page elements, a faster re-render
    parts = [W.md_escape(f"{W.status_words(s.overall_status)} · {W.phase_words(s.phases)} · {s.nct_id}")]
    parts += [W.md_escape(b) for b in (W.not_only_myeloma_badge(item.classification),
                                       C.made_for_badge(row.made_for), W.stale_badge(s)) if b]
    lines = C.fit_lines(row.fit)
    if lines:
        parts.append(f"**{W.md_escape(lines[0])}** (from the study's criteria, as we read them)")
        if lines[1:]:
            parts.append("\n".join(f"- {W.md_escape(x)}" for x in lines[1:]))
    if item.setting == "unknown":
        parts.append(W.md_escape("❔ " + V.GROUPS[V.MAYBE][0]))
    explained = V.explained_family(item, timing)
    if explained:
        why, comparator = C.why_in_family(item, explained)
        if why:
            parts.append(("**Comparator.** " if comparator else "**Why it is here:** ") + W.md_escape(why, limit=400))
    parts.append(W.md_escape(" ".join(design_in_words(item.design)), limit=400))
    parts.append("📍 " + W.md_escape(C.nearest_words(row, place, unit)))
    contact = C.reach_contact(row)
    if contact:
        parts.append("📞 " + contact_line(contact))
    parts.append(f":small[{W.md_escape(W.updated_words(s))}]")
    st.markdown("\n\n".join(parts))
    chips = V.chips(item, timing)
    chip_key = f"chips_{s.nct_id}"
    st.pills("Therapy families (choose one to show only that family)", [f for f, _ in chips], key=chip_key,
             format_func=lambda f: ("★ " if f in V.starred_families(item, timing) else "") + FAMILIES[f].label,
             on_change=pick_family, args=(chip_key,))
    c1, c2, c3 = st.columns(3)
    star_key = f"star_{s.nct_id}"
    if star_key not in st.session_state:
        st.session_state[star_key] = s.nct_id in st.session_state.get("starred", [])
    c1.checkbox("★ Add to my printout", key=star_key, on_change=toggle_star, args=(s.nct_id,))
    url = W.safe_url(s)
    if url:
        c2.link_button("ClinicalTrials.gov page", url)
    open_now = st.session_state.get("study") == s.nct_id
    c3.button("Hide details" if open_now else "Show details", key=f"detail_{s.nct_id}",
              on_click=toggle_study, args=(s.nct_id,))
    if open_now:
        draw_detail(s.nct_id, item, place, unit, offline)


def draw_detail(nct_id: str, item, place, unit: str, offline: bool) -> None:
    import pandas as pd

    try:
        try:
            study, source = load_detail(nct_id, offline)
        except TrialsError as e:
            if item is None:
                st.warning(W.md_escape(str(e)))
                return
            small("The full record could not be loaded; showing the record from the list.")
            study, source = item.study, "list"
        full = annotate(study, place)
        flags = full.flags
        st.markdown(f"#### Details of {W.md_escape(study.nct_id)}")
        small(f"Record from: {W.md_escape({'live': 'ClinicalTrials.gov (live)', 'cache': 'saved copy', 'snapshot': 'bundled snapshot', 'list': 'search list'}.get(source, source))}")
        draw_history(study.nct_id)
        tabs = st.tabs(["Summary", "Treatments", "Who can join", "Sites", "Contacts"])
        with tabs[0]:
            st.markdown(W.md_escape(study.brief_summary) or "No summary in the record.")
            small(f"Sponsor: {W.md_escape(study.lead_sponsor) or W.NOT_GIVEN}")
        with tabs[1]:
            st.markdown("\n".join(f"- {W.md_escape(w)}" for w in design_in_words(full.design))
                        or "The record does not describe its design.")
            if study.arm_groups:
                st.dataframe(pd.DataFrame(C.arm_rows(study)), hide_index=True)
            if study.interventions:
                st.dataframe(pd.DataFrame(C.intervention_rows(study)), hide_index=True)
        with tabs[2]:
            draw_criteria(study, flags)
        with tabs[3]:
            draw_sites(study, place, unit)
            draw_map(study, place)
        with tabs[4]:
            st.markdown("**Central contacts**")
            for c in study.central_contacts:
                st.markdown(contact_line(c))
            if not study.central_contacts:
                st.markdown("None listed.")
            st.markdown("**Key dates**")
            st.markdown("\n".join(f"- {k}: {W.md_escape(v)}" for k, v in C.key_dates(study)) or "None listed.")
    except Exception as exc:  # never a traceback in the page
        log_failure(f"the details of {nct_id}", exc)
        st.error(APOLOGY)


def contact_line(c) -> str:
    return " · ".join(x for x in (W.md_escape(c.name), W.md_escape(c.phone_text), W.email_link(c.email)) if x) \
        or "No name, phone or e-mail given"


def draw_criteria(study, flags) -> None:
    e = study.eligibility
    st.markdown(W.md_escape(f"Ages: {W.age_words(e.minimum_age, e.maximum_age)}. Sex: {W.sex_words(e.sex)}."))
    result = F.fit_for(study, flags, current_filters())
    if result is not None and result.reasons:
        st.markdown("**Things to ask your care team about**, with the criterion each rests on:")
        for r in result.reasons:
            st.markdown(f"- {'⚠️ Conflict' if r.status == 'conflict' else '❓ Ask'}: {W.md_escape(r.says)}"
                        + (f" — “{W.md_escape(r.sentence)}”" if r.sentence else ""))
    mentioned, silent = C.readings(flags)
    st.markdown("**Previous treatments and health, as read from the criteria** (check with the study team):")
    for r in mentioned:
        st.markdown(f"- **{W.md_escape(r.label)}**: {W.md_escape(r.says)}"
                    + (f" Condition: {W.md_escape(r.condition)}." if r.condition else "")
                    + (f" From the criteria: “{W.md_escape(r.sentence)}”" if r.sentence else ""))
    if silent:
        st.markdown(W.md_escape("Not mentioned in the criteria: " + "; ".join(silent) + "."))
    sections = C.criteria_sections(study.eligibility.criteria)
    for heading, items in sections:
        st.markdown(f"**{heading}**")
        st.markdown("\n".join(f"- {W.md_escape(i)}" for i in items))
    if not sections:
        st.markdown("No eligibility criteria in the record.")


def draw_sites(study, place, unit: str) -> None:
    entries = C.site_entries(study, place, unit)
    if not entries:
        st.markdown("No sites listed in the record.")
    for e in entries:
        st.markdown(f"**{W.md_escape(e.name)}** — {W.md_escape(e.status)}  \n"
                    + W.md_escape(e.where + (f" — {e.distance}" if e.distance else ""))
                    + "".join(f"  \n{contact_line(c)}" for c in e.contacts))


def draw_map(study, place) -> None:
    points = C.map_points(study)
    if points:
        st.vega_lite_chart(site_map(points, place), width="stretch")
        small(MAP_CAPTION)


def draw_linked_study(f: F.Filters, items, place, miles, offline: bool) -> None:
    """A linked study the filters leave out: which filters, a button that shows it, its details."""
    item = next((a for a in items if a.study.nct_id == f.study), None)
    if item is None:  # not among the loaded statuses, perhaps: its own record tells
        try:
            item = annotate(load_detail(f.study, offline)[0], place)
        except TrialsError:
            item = None
    sentence, relax = V.why_left_out(item, f, place, miles)
    with st.container(border=True):
        st.markdown(f"**{W.md_escape(f.study)}** — {W.md_escape(sentence)}")
        c1, c2 = st.columns(2)
        if relax:
            c1.button("Show it in the list", key="relax_filters", on_click=relax_filters, args=(relax,))
        if c2.button("Close details", key="close_detail"):
            st.session_state["study"] = ""
            st.rerun()
        draw_detail(f.study, None, place, f.unit, offline)


def draw_share(f: F.Filters, data: dict) -> None:
    """'Copy link' and 'Print / save as PDF', side by side above the list."""
    c1, c2 = st.columns(2)
    with c1.popover("🔗 Copy link", key="share_link"):
        st.markdown("This address opens the same search (your answers about treatment only if you ticked "
                    "\"Include my answers\"). The button at the right of the box copies it.")
        st.code(page_link(f), language=None, wrap_lines=True)
    n = len(st.session_state.get("starred", []))
    c2.button(f"🖨️ Print / save as PDF ({n} starred)", key="print_view_on", on_click=set_print_view, args=(True,))


def draw_print_view(view: V.View, f: F.Filters, data: dict, place) -> None:
    """The printable page: the starred studies, questions for the care team, and the search itself."""
    st.title("Studies to discuss with my care team", anchor=False)
    st.button("← Back to the list", key="print_view_off", on_click=set_print_view, args=(False,))
    st.markdown("To print it or save it as a PDF, use your browser's **Print** command (Ctrl+P, ⌘P, or "
                "Share → Print on a phone).")
    st.markdown(W.md_escape(f"Made on {dt.date.today().isoformat()} with the Myeloma Trial Finder. Data: "
                            f"{data['banner']}."))
    starred = st.session_state.get("starred", [])
    studies = C.print_studies(view.shown, starred, place, f.unit)
    left_out = len(set(starred) - {p.nct_id for p in studies})
    if left_out:  # starred, then hidden by a filter changed since: say so rather than print less quietly
        st.warning(f"{left_out} starred {'study is' if left_out == 1 else 'studies are'} not in the list with "
                   "the current choices, so not printed here. Go back and widen the choices to include "
                   f"{'it' if left_out == 1 else 'them'}.")
    elif not studies:
        st.markdown("No study is starred yet: tick \"★ Add to my printout\" on the studies you want to discuss, "
                    "then come back here.")
    for p in studies:
        st.header(W.md_escape(p.title), anchor=False)
        st.markdown(W.md_escape(f"{p.nct_id} · {p.status} · {p.phase}"))
        if p.url:
            st.markdown(W.md_escape(p.url))
        st.markdown("**Why it is in its therapy family**\n" + "\n".join(f"- {W.md_escape(w)}" for w in p.why))
        if p.fit:
            st.markdown(f"**{W.md_escape(p.fit[0])}**\n" + "\n".join(f"- {W.md_escape(x)}" for x in p.fit[1:]))
        st.markdown("**Nearest site:** " + W.md_escape(p.nearest))
        st.markdown("**Contact:** " + W.md_escape(p.contact))
    st.header("Questions to ask your care team", anchor=False)
    st.markdown("\n".join(f"- {q}" for q in C.QUESTIONS_TO_ASK))
    draw_search_used(data)
    st.markdown(W.md_escape(G.DISCLAIMER))


def draw_search_used(data: dict) -> None:
    st.header("The search behind this list", anchor=False)
    st.markdown("The app asked ClinicalTrials.gov for this (place, distance, therapy family, age and your "
                "answers are applied on this computer, never sent):")
    st.code(api_url(data["query"], base_url_from_env()), language=None, wrap_lines=True)
    # The website's own search-page address format is not documented in the API reference the
    # project codes against (only some of its aggFilters keys are observed), so no website search
    # link is built: each study's page link above opens its record on clinicaltrials.gov.
    st.markdown("Each study's ClinicalTrials.gov page is linked above; the address of the same search on "
                "the website is not documented, so it is not given here.")
def draw_history(nct_id: str) -> None:
    """The study's status history, as the local study store recorded it (only when there is one)."""
    from trials.changes import history_frame

    history = history_frame(nct_id)
    if history is not None and len(history):
        with st.expander(f"Status history ({len(history)} recorded changes)"):
            st.dataframe(history, hide_index=True)
            small("Recorded by the local study store's syncs with ClinicalTrials.gov; dates are the "
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
    small(f"{len(found)} changes recorded since {since.isoformat()} for the studies shown "
               "(new studies, status, sites, eligibility, studies gone).")
    if len(found):
        st.dataframe(found, hide_index=True)
        st.download_button("Download these changes (CSV)", to_csv_bytes(found),
                           file_name="myeloma-trial-changes-since.csv", mime="text/csv", key="dl_changes_since")


def draw_coordinator_tools(rows: tuple, data: dict, place, f) -> None:
    """Downloads of exactly the studies shown, and 'what changed' against an earlier export."""
    from trials import search_record
    from trials.diff import compare
    from trials.export import Export, to_csv_bytes, to_xlsx_bytes
    from trials.table import sites_frame, trials_frame

    # nearest RECRUITING site from the searched place (the column's documented meaning), even for
    # a study not yet recruiting, whose card shows its nearest listed site
    items = V.export_items(rows, place)
    search = search_record.from_app_filters(f)
    stamp = {"data_as_of": data["data_as_of"], "source": data["source"], "place": place, "search": search}

    def file_name(kind: str, extension: str) -> str:
        return search_record.file_name(kind, search, dt.date.today(), extension)

    with st.expander("For care coordinators: download this list, or see what changed", key="coordinators"):
        small(f"{len(items)} studies as shown above, with contacts, nearest recruiting site, "
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
            st.warning(W.md_escape(str(e)))
            return
        if changes.search_note:
            st.warning(W.md_escape(changes.search_note))
        st.text(changes.summary())
        if len(changes):
            st.dataframe(changes.frame, hide_index=True)
            st.download_button("Download the changes (CSV)", changes.to_csv_bytes(),
                               file_name="myeloma-trial-changes.csv", mime="text/csv", key="dl_changes")


def draw_footer() -> None:
    with st.expander("What the words mean"):
        st.markdown("\n".join(f"- {w}" for w in W.PHASE_EXPLAINED.values()))
        st.markdown("- Randomized: chance decides which group each participant joins, for example the new "
                    "treatment or the usual one (the comparator).")
        st.markdown("\n".join(f"- {W.md_escape(W.status_words(s))}" for s in ("RECRUITING", "NOT_YET_RECRUITING",
                                                               "ACTIVE_NOT_RECRUITING", "COMPLETED")))
        st.markdown("- ★ marks the therapy families the guidance above brings up for your relapse timing.")
        st.markdown("\n".join(f"- {fm.label}: {fm.plain}" for fm in FAMILIES.values()))
        st.markdown("\n".join(f"- {w}" for w in V.WORDS))
    small("Privacy: what you enter stays in this page and its link; it is not stored or logged. "
               "Only ClinicalTrials.gov is contacted. " + G.DISCLAIMER)


def draw_family_chips(base_view: V.View, timing: str) -> None:
    """The therapy-family filter, as chips with counts: ★ families for this relapse timing first."""
    counts = base_view.family_counts()
    chosen = list(st.session_state.get("families") or [])
    starred = set(G.guidance(timing).families)
    options = [f for f in G.family_order(timing) if counts.get(f) or f in chosen]
    st.pills("Therapy families (choose to show only those; ★ = brought up by the article for your timing)",
             options, selection_mode="multi", key="families", width="stretch",
             format_func=lambda f: ("★ " if f in starred else "") + f"{FAMILIES[f].label} ({counts.get(f, 0)})")


def draw_results(view: V.View, base_view: V.View, f: F.Filters, timing: str, data: dict, items, place,
                 miles) -> None:
    st.header(f"Matching studies: {len(view.shown)}", anchor=False)
    draw_share(f, data)
    draw_family_chips(base_view, timing)
    notes = V.hidden_notes(view, f)
    if notes:
        st.markdown("\n".join(f"- 🙈 {W.md_escape(n)}" for n in notes))
    if not view.shown:
        st.markdown("No study matches all the choices. Try a larger distance, another status or patient group.")
    offline = data["source"] == "snapshot"
    if f.study and f.study not in {r.study.nct_id for r in view.shown}:
        draw_linked_study(f, items, place, miles, offline)
    for group in V.groups(view, timing):
        if group.id != V.MATCHING:
            st.header(group.heading, anchor=False)
            st.markdown(W.md_escape(group.plain))
        for row in group.rows:
            draw_card(row, timing, place, f.unit, offline)


def main() -> None:
    st.html(STYLE)
    init_state()
    if not st.session_state.get("print_view"):  # the printable page has a title of its own
        st.title("Myeloma Trial Finder", anchor=False)
        small("Clinical trials for relapsed multiple myeloma, explained in plain words. Information to discuss "
              "with your care team, not medical advice.")
    for note in st.session_state.get("_link_notes", []):
        st.info(W.md_escape(note))
    f = current_filters()

    progress_box = st.empty()

    def progress(pages: int, studies: int, total: int | None) -> None:
        text = f"Loading studies from ClinicalTrials.gov: {studies}" + (f" of {total}" if total else "") + \
               f" (page {pages})"
        progress_box.progress(min(1.0, studies / total) if total else 0.0, text=text)

    try:
        with st.spinner("Loading studies…"):
            data = load_studies(f.statuses, progress=progress)
            items = data["items"]
    except TrialsError as e:
        progress_box.empty()
        st.error(W.md_escape(str(e)))
        return
    progress_box.empty()
    draw_banner(data)

    place, miles = None, None
    if f.place:
        try:
            place = locate(f.place)
        except BadInput as e:
            st.warning(W.md_escape(str(e)))
    try:
        miles = f.radius_miles()
    except BadInput as e:
        st.warning(W.md_escape(str(e)))
    st.query_params.from_dict(F.filters_to_params(f))
    timing, problem = F.timing_of(f)
    view = V.build_view(items, f, place, miles)
    if st.session_state.get("print_view"):
        draw_print_view(view, f, data, place)
        return
    # for the chips' and patient groups' counts, which don't depend on the answers about treatment
    base_view = V.build_view(items, f.with_(families=()).without_answers(), place, miles)

    left, right = st.columns([2, 3], gap="large")
    with left:
        draw_inputs(base_view)
        if place is not None:
            small(f"Distances from {W.md_escape(place.label)}.")
        elif miles is not None:
            small("Enter a ZIP code or city to use the distance.")
        draw_guidance(view, timing, problem)
    with right:
        draw_results(view, base_view, f, timing, data, items, place, miles)
    draw_coordinator_tools(view.shown, data, place, f)
    draw_footer()


try:
    main()
except Exception as exc:  # the page never shows a traceback
    log_failure("the page", exc)
    st.error(APOLOGY)
