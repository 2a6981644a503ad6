"""The filtered view of the studies: which are shown, in which group, what each filter hides and
why a linked study is left out. Pure functions, no streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from .annotate import Annotated
from .filters import UNITS, Filters, profile_of, required_for
from .fit import Fit, fit
from .geo import DISTANCE_UNKNOWN, OUTSIDE, NearestSite, Place, nearest_site, open_sites_only, reach
from .guidance import family_order, guidance
from .model import Study
from .query import STATUSES
from .vocabulary import FAMILIES, SETTINGS
from .words import NOT_ONLY_MYELOMA_EXPLAINED, join_or, phase_words, studies_words

# --- the filtered view -------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    item: Annotated
    nearest: NearestSite | None  # nearest open site (recruiting; or listed, for studies not recruiting: geo.open_sites_only)
    made_for: tuple[str, ...]  # previous treatments the study requires
    fit: Fit | None = None  # the person's answers against the criteria (None without answers)

    @property
    def study(self) -> Study:
        return self.item.study

    @property
    def miles(self) -> float | None:
        return self.nearest.miles if self.nearest else None


@dataclass
class View:
    rows: list[Row]  # shown under their therapy families
    total: int  # studies answered by the source (after the status filter)
    maybe: list[Row] = field(default_factory=list)  # setting "unknown": the record doesn't say which patients
    distance_unknown: list[Row] = field(default_factory=list)  # no open site placed in or out of the circle
    conflicts: list[Row] = field(default_factory=list)  # a criterion conflicts with an answer: listed last
    hidden_setting: dict[str, int] = field(default_factory=dict)
    setting_counts: dict[str, int] = field(default_factory=dict)  # every setting, before that filter
    hidden_phase: int = 0
    hidden_age: int = 0
    hidden_sex: int = 0
    hidden_family: int = 0
    hidden_distance: int = 0
    place: Place | None = None
    miles: float | None = None

    @property
    def shown(self) -> list[Row]:
        """Every study on the page, whichever group it is in."""
        return self.rows + self.maybe + self.distance_unknown + self.conflicts

    def family_counts(self) -> dict[str, int]:
        counts = {f: 0 for f in FAMILIES}
        for r in self.shown:
            for fam in r.item.families:
                counts[fam] = counts.get(fam, 0) + 1
        return counts


def nearest_open_site(study: Study, place: Place | None) -> NearestSite | None:
    """Nearest site that counts as open, by the rule the command line uses too (geo.open_sites_only)."""
    return nearest_site(study, place, recruiting_only=open_sites_only(study))


def _sort_key(row: Row):
    s = row.study
    return (row.miles is None, row.miles or 0.0, s.overall_status != "RECRUITING",
            _neg_date(s.last_update_posted), s.nct_id)


def _neg_date(text: str) -> str:
    # newest first with an ascending sort: invert the digits of the ISO date
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in (text or "0000"))


def _reach(a: Annotated, place: Place | None, miles: float | None) -> str:
    """geo.reach for the study's open sites; "within" when there is no circle to be in."""
    if place is None or miles is None:
        return "within"
    return reach(a.study, place, miles, recruiting_only=open_sites_only(a.study))


def leaving_out(a: Annotated, f: Filters, place: Place | None = None, miles: float | None = None, *,
                where: str | None = None) -> list[str]:
    """The filters that leave this study out of the view, in the order build_view applies them.
    A setting the record doesn't state ("unknown") and a distance that can't be measured never leave
    a study out: those studies have groups of their own. `where`: _reach's answer, if known."""
    s = a.study
    checks = (
        ("status", lambda: bool(f.statuses) and bool(s.overall_status) and s.overall_status not in f.statuses),
        ("setting", lambda: bool(f.settings) and a.setting != "unknown" and a.setting not in f.settings),
        ("phase", lambda: bool(f.phases) and not set(f.phases) & set(s.phases)),
        ("age", lambda: f.age is not None and not s.eligibility.admits_age(f.age)),
        ("sex", lambda: bool(f.sex) and not s.eligibility.admits_sex(f.sex)),
        ("family", lambda: bool(f.families) and not set(f.families) & set(a.families)),
        ("distance", lambda: (where or _reach(a, place, miles)) == OUTSIDE),
    )
    return [key for key, hides in checks if hides()]


def build_view(items: Iterable[Annotated], f: Filters, place: Place | None = None,
               miles: float | None = None) -> View:
    """Apply the filters in a fixed order, counting what each one hides.

    Distance: a study is within the radius when one of its open sites (a recruiting study's
    recruiting sites; for any other status, its listed sites) is, placed by geo.site_point (the
    record's coordinates, else the site's ZIP or city). A study none of whose open sites is within
    the radius but some of which can't be placed (or that lists none) is not hidden: it goes to
    View.distance_unknown ("call to ask"). Studies whose setting the record doesn't state go to
    View.maybe, whatever the patient-group choice."""
    items = list(items)
    statuses = set(f.statuses)
    # a record without its status stays: the search asked for these statuses, and hiding it would lose it silently
    items = [a for a in items if not statuses or a.study.overall_status in statuses or not a.study.overall_status]
    view = View([], len(items), place=place, miles=miles)
    for a in items:
        view.setting_counts[a.setting] = view.setting_counts.get(a.setting, 0) + 1
    profile = profile_of(f)
    unfiltered_status = f.with_(statuses=())  # already applied above, before the total
    for a in items:
        s = a.study
        where = _reach(a, place, miles)
        out = leaving_out(a, unfiltered_status, place, miles, where=where)
        if out:
            first = out[0]
            if first == "setting":
                view.hidden_setting[a.setting] = view.hidden_setting.get(a.setting, 0) + 1
            else:
                setattr(view, f"hidden_{first}", getattr(view, f"hidden_{first}") + 1)
            continue
        verdict = fit(s, a.flags, profile) if profile is not None else None
        row = Row(a, nearest_open_site(s, place), required_for(a.flags), verdict)
        if verdict is not None and verdict.verdict == "conflict":
            view.conflicts.append(row)
        elif where == DISTANCE_UNKNOWN:
            view.distance_unknown.append(row)
        elif a.setting == "unknown":
            view.maybe.append(row)
        else:
            view.rows.append(row)
    for group in (view.rows, view.maybe, view.distance_unknown, view.conflicts):
        group.sort(key=_sort_key)
    return view


@dataclass(frozen=True)
class LeftOut:
    """Why a study is not in the view, and the filter change that brings it back."""
    sentence: str
    relax: dict  # Filters field -> value


def _left_out_sentence(key: str, a: Annotated, f: Filters) -> LeftOut:
    s = a.study
    if key == "status":
        return LeftOut(f"its status is {STATUSES.get(s.overall_status, s.overall_status or 'not given')}, and the "
                       f"list shows {join_or(STATUSES.get(x, x) for x in f.statuses)} studies",
                       {"statuses": tuple(dict.fromkeys((*f.statuses, s.overall_status)))})
    if key == "setting":
        return LeftOut(f"it is for {SETTINGS.get(a.setting, a.setting)}, a patient group not chosen",
                       {"settings": tuple(dict.fromkeys((*f.settings, a.setting)))})
    if key == "phase":
        return LeftOut(f"its phase ({phase_words(s.phases)}) is not among the phases chosen", {"phases": ()})
    if key == "age":
        return LeftOut(f"the age given ({f.age}) is outside its age limits", {"age": None})
    if key == "sex":
        return LeftOut("it is open to one sex only", {"sex": ""})
    if key == "family":
        return LeftOut("its kind of treatment is not among the therapy families chosen", {"families": ()})
    if key == "distance":
        return LeftOut(f"none of its open sites is within {f.radius} {UNITS.get(f.unit, f.unit)}",
                       {"radius": "anywhere"})
    return LeftOut("it is not among the studies shown", {})


def why_left_out(a: Annotated | None, f: Filters, place: Place | None = None,
                 miles: float | None = None) -> tuple[str, dict]:
    """For a linked study not in the view: the sentence saying which filters leave it out, and the
    filter changes that show it ({} when no filter is the reason, e.g. the search never found it)."""
    if a is None:
        return ("It is not among the studies this search found (ClinicalTrials.gov does not list it "
                "under myeloma, or it is not in this copy of the data).", {})
    reasons = [_left_out_sentence(k, a, f) for k in leaving_out(a, f, place, miles)]
    if not reasons:
        return "It is not among the studies this search found.", {}
    relax: dict = {}
    for r in reasons:
        relax.update(r.relax)
    return "It is not in the list shown: " + "; ".join(r.sentence for r in reasons) + ".", relax


def hidden_notes(view: View, f: Filters) -> list[str]:
    """One sentence per filter that hides studies, with the count: nothing disappears silently."""
    out = []
    if view.conflicts:
        out.append(f"{studies_words(len(view.conflicts))} {'has' if len(view.conflicts) == 1 else 'have'} a criterion that "
                   f"conflicts with your answers about your treatment: listed last, under \"{GROUPS[CONFLICTS][0]}\".")
    if view.hidden_distance:
        radius = f"{f.radius} {UNITS.get(f.unit, f.unit)}"
        out.append(f"{studies_words(view.hidden_distance)} hidden: no open site within {radius}. "
                   "Choose \"anywhere\" to see them.")
    if view.hidden_family:
        out.append(f"{studies_words(view.hidden_family)} hidden by the therapy-family choice.")
    if view.hidden_phase:
        out.append(f"{studies_words(view.hidden_phase)} hidden by the phase choice.")
    if view.hidden_age:
        out.append(f"{studies_words(view.hidden_age)} hidden: the age given is outside their age limits.")
    if view.hidden_sex:
        out.append(f"{studies_words(view.hidden_sex)} hidden: they are open to one sex only.")
    if view.hidden_setting:
        parts = ", ".join(f"{SETTINGS.get(s, s)} ({n})" for s, n in sorted(view.hidden_setting.items(),
                                                                          key=lambda kv: -kv[1]))
        out.append(f"{studies_words(sum(view.hidden_setting.values()))} for other groups of patients not shown: "
                   f"{parts}.")
    return out



# --- the groups of cards: one card per study ---------------------------------------------------

@dataclass(frozen=True)
class Group:
    id: str
    label: str
    plain: str  # what the group means ("" for the main list)
    rows: tuple[Row, ...]

    @property
    def heading(self) -> str:
        return f"{self.label} — {studies_words(len(self.rows))}"


def starred_families(item: Annotated, timing: str) -> tuple[str, ...]:
    """The study's families the guidance brings up for this relapse timing (marked ★)."""
    return tuple(f for f in guidance(timing).families if f in item.families)


def chips(item: Annotated, timing: str) -> list[tuple[str, bool]]:
    """(family, starred) for each family of the study: ★ families first, in the guidance's order."""
    order = {f: i for i, f in enumerate(family_order(timing))}
    starred = set(starred_families(item, timing))
    return [(f, f in starred) for f in sorted(item.families, key=lambda f: order.get(f, len(order)))]


def explained_family(item: Annotated, timing: str) -> str | None:
    """The family a card's "why it is here" explains: its first chip whose treatment the study
    tests (not only compares against), else its first chip."""
    order = [f for f, _ in chips(item, timing)]
    tested = [f for f in order if not item.classification.comparator_only(f)]
    return (tested or order or [None])[0]


def groups(view: View, timing: str) -> list[Group]:
    """Every study once: the matching studies (those in a ★ family first, each part in the view's
    order: nearest first), then the groups the filters can't place: "May be for you" (the record
    doesn't say which patients), "Distance unknown — call to ask" and the conflicts, last."""
    first = [r for r in view.rows if starred_families(r.item, timing)]
    rest = [r for r in view.rows if not starred_families(r.item, timing)]
    out = [Group(MATCHING, "Matching studies", "", tuple(first + rest))] if view.rows else []
    for group, rows in ((MAYBE, view.maybe), (DISTANCE_GROUP, view.distance_unknown), (CONFLICTS, view.conflicts)):
        if rows:
            out.append(Group(group, GROUPS[group][0], GROUPS[group][1], tuple(rows)))
    return out


MATCHING = "matching"
MAYBE, DISTANCE_GROUP, CONFLICTS = "maybe_for_you", "distance_unknown", "conflicts"
GROUPS = {  # section id -> (heading, what it means)
    MAYBE: ("May be for you: the record doesn't say which patients",
            "These records don't say whether the study is for relapsed, newly diagnosed or other patients "
            "with myeloma, so no patient-group choice hides them. The study team can say whether it is open "
            "to you."),
    DISTANCE_GROUP: ("Distance unknown — call to ask",
                     "These studies have open sites that can't be placed on the map (the record gives no "
                     "map position, and no ZIP code or city we know), or list no open site. They may be "
                     "near you: the study's contacts can say where it runs."),
    CONFLICTS: ("Studies whose criteria conflict with your answers",
                "Something you told us about your treatment goes against one of these studies' criteria, as we "
                "read them (the sentence is quoted on each card). Reading criteria is hard and criteria change: "
                "ask your care team before ruling a study out."),
}

WORDS = (  # "What the words mean": the words the lists use for places and patient groups
    "Distance: measured to the site's map position in its ClinicalTrials.gov record. When the record has "
    "none, it is measured from the centre of the site's US ZIP code area (\"from the site's ZIP code\") or of "
    "its city (\"from the site's city centre\"): approximate, usually within a few miles.",
    "Distance unknown: a site without a map position whose ZIP code or city can't be placed either. A distance "
    "choice never hides such a study: it is listed under \"Distance unknown — call to ask\".",
    "May be for you: the record doesn't say which patients the study is for (relapsed, newly diagnosed, …). "
    "These studies are always listed, in a group of their own.",
    NOT_ONLY_MYELOMA_EXPLAINED,
    "Things to ask your care team about: when you answer questions about your treatment so far, each study's "
    "criteria are read for them. A conflict means a criterion, as written in the study record, goes against "
    "an answer; a question means a criterion depends on something you did not answer, or carries a condition. "
    "It is never a decision on whether you can join: only the study team can say that.",
)


def guidance_counts(view: View, timing: str) -> list[tuple[str, str, int]]:
    """(family id, label, matching studies) for the families the guidance brings up."""
    counts = view.family_counts()
    return [(fam, FAMILIES[fam].label, counts.get(fam, 0)) for fam in guidance(timing).families if fam in FAMILIES]


# --- the export --------------------------------------------------------------------------------

def export_items(rows: Iterable[Row], place: Place | None) -> list[Annotated]:
    """The rows shown, as the exports take them. The export's nearest_site is documented as the
    nearest site that is itself RECRUITING, so it is measured with recruiting sites only, also for
    a study not yet recruiting (whose card shows its nearest listed site instead)."""
    return [replace(r.item, nearest=nearest_site(r.study, place)) for r in rows]


