"""trials.sitemap: the sites' map draws bundled outlines and loads nothing from anywhere else."""
from __future__ import annotations

import hashlib
import json
import re

import altair as alt
import pytest
from hypothesis import given, settings, strategies as st

from trials import cards as C
from trials.geo import locate
from trials.sitemap import (MAPS, MIN_SPAN_DEGREES, NOT_RECRUITING, RECRUITING, STATES, STYLE, YOU, Box, frame_of,
                            outlines_near, site_map, visible_region)
from trials.snapshot import load_snapshot

MIAMI_STUDY = "NCT07772024"  # one recruiting site in Miami (the app test opens it too)


@pytest.fixture(scope="module")
def mapped():
    """The snapshot's studies that have sites to draw, with their points."""
    return {s.nct_id: C.map_points(s) for s in load_snapshot().studies if C.map_points(s)}


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def _points_layer(spec: dict) -> dict:
    return next(layer for layer in _layers(spec) if layer["mark"]["type"] == "point")


def _outline_names(spec: dict, feature: str) -> set[str]:
    layer = next(layer for layer in _layers(spec) if layer["data"].get("format", {}).get("feature") == feature)
    return {g["properties"]["name"] for g in layer["data"]["values"]["objects"][feature]["geometries"]}


# --- the bundled files ----------------------------------------------------------------------------

def test_bundled_outlines_are_the_files_their_provenance_names_and_stay_small():
    note = (MAPS / "PROVENANCE.md").read_text(encoding="utf-8")
    named = dict(re.findall(r"^\| `([\w.-]+\.json)` \|.*\| `([0-9a-f]{64})` \|$", note, re.MULTILINE))
    files = sorted(MAPS.glob("*.json"))
    assert {f.name for f in files} == set(named), "every bundled outline file, and only those, is in PROVENANCE.md"
    for f in files:
        assert hashlib.sha256(f.read_bytes()).hexdigest() == named[f.name], f.name
    assert sum(f.stat().st_size for f in files) < 1_500_000
    assert (MAPS / "LICENSE-world-atlas").is_file() and (MAPS / "LICENSE-us-atlas").is_file()


# --- nothing loaded from elsewhere ------------------------------------------------------------------

@pytest.mark.parametrize("with_place", [False, True])
def test_every_snapshot_map_carries_its_data_inline_and_names_no_url(mapped, with_place):
    place = locate("02115") if with_place else None
    assert mapped
    for nct_id, points in mapped.items():
        spec = site_map(points, place)
        assert not [node for node in _walk(spec) if "url" in node], nct_id  # Vega-Lite's only way to fetch data
        for layer in _layers(spec):
            assert "values" in layer["data"] or layer["data"] == {"sphere": True}, (nct_id, layer["data"])
        assert "http" not in json.dumps(_layers(spec)[:3]), nct_id  # outlines and ocean: nothing that looks like an address


def test_the_map_is_a_spec_vega_lite_accepts(mapped):
    most = max(mapped.values(), key=len)  # the study with the most sites, and a person far from most of them
    # the whole spec against Vega-Lite's schema (the check from_dict makes first, without building
    # an Altair object per node: 0.04 s instead of 0.5 s)
    alt.LayerChart.validate(site_map(most, locate("Lyon, France")))


# --- what the map shows ---------------------------------------------------------------------------

def test_recruiting_sites_are_larger_and_coloured_other_sites_small_and_grey():
    assert STYLE[RECRUITING]["size"] > 2 * STYLE[NOT_RECRUITING]["size"]
    assert STYLE[RECRUITING]["color"] != STYLE[NOT_RECRUITING]["color"] != STYLE[YOU]["color"]
    sites = [{"lat": 48.85, "lon": 2.35, "site": "Paris", "status": "Recruiting", "open": RECRUITING},
             {"lat": 45.76, "lon": 4.83, "site": "Lyon", "status": "Completed", "open": NOT_RECRUITING}]
    enc = _points_layer(site_map(sites))["encoding"]
    assert enc["color"]["scale"] == {"type": "ordinal", "domain": [RECRUITING, NOT_RECRUITING],
                                     "range": [STYLE[RECRUITING]["color"], STYLE[NOT_RECRUITING]["color"]]}
    assert enc["size"]["scale"]["range"] == [STYLE[RECRUITING]["size"], STYLE[NOT_RECRUITING]["size"]]
    assert "legend" in enc["color"] and enc["color"]["title"] == enc["size"]["title"] == enc["shape"]["title"]


def test_the_persons_place_is_drawn_last_and_named_in_the_legend(mapped):
    place = locate("02115")
    spec = site_map(mapped[MIAMI_STUDY], place)
    values = _points_layer(spec)["data"]["values"]
    assert values[-1] == {"lat": place.lat, "lon": place.lon, "site": YOU, "status": place.label, "open": YOU}
    assert _points_layer(spec)["encoding"]["color"]["scale"]["domain"] == [RECRUITING, YOU]
    assert YOU not in json.dumps(site_map(mapped[MIAMI_STUDY]))


def test_a_single_site_is_framed_with_its_region_not_its_street(mapped):
    (site,) = mapped[MIAMI_STUDY]
    fit = site_map([site])["projection"]["fit"]["geometry"]["coordinates"]
    lons, lats = [c[0] for c in fit], [c[1] for c in fit]
    assert max(lons) - min(lons) >= MIN_SPAN_DEGREES and max(lats) - min(lats) >= MIN_SPAN_DEGREES
    assert min(lons) < site["lon"] < max(lons) and min(lats) < site["lat"] < max(lats)


def test_the_frame_holds_every_site_and_the_person_with_a_margin():
    box = frame_of([(-80.2, 25.8), (-71.1, 42.3), (2.35, 48.85)])
    assert box.west < -80.2 and box.east > 2.35 and box.south < 25.8 and box.north > 48.85
    assert box.east - box.west < (2.35 + 80.2) * 1.5  # a margin, not the world


def test_outlines_are_those_around_the_sites_not_the_whole_world(mapped):
    spec = site_map(mapped[MIAMI_STUDY])
    states, countries = _outline_names(spec, "states"), _outline_names(spec, "countries")
    assert "Florida" in states and "Washington" not in states and "Alaska" not in states
    assert {"United States of America", "Bahamas"} <= countries and "Australia" not in countries


def test_cut_outlines_keep_their_exact_arcs_in_both_directions():
    """The cut topology renumbers arcs; resolving each kept reference must give the original arc,
    reversed references (~i) included, or borders would be drawn between wrong points."""
    original = json.loads((MAPS / STATES).read_text(encoding="utf-8"))
    cut = outlines_near(STATES, "states", Box(-90.0, 24.0, -80.0, 31.0))

    def resolved(topo, refs):
        return [(topo["arcs"][~i], "reversed") if i < 0 else (topo["arcs"][i], "forward") for i in refs]

    by_name = {g["properties"]["name"]: g for g in original["objects"]["states"]["geometries"]}
    kept = cut["objects"]["states"]["geometries"]
    assert {g["properties"]["name"] for g in kept} >= {"Florida", "Alabama"}
    for g in kept:
        polygons = by_name[g["properties"]["name"]]["arcs"]
        polygons = [polygons] if by_name[g["properties"]["name"]]["type"] == "Polygon" else polygons
        original_rings = [resolved(original, ring) for poly in polygons for ring in poly]
        for poly in g["arcs"]:
            for ring in poly:
                assert resolved(cut, ring) in original_rings
    used = {~i if i < 0 else i for g in kept for poly in g["arcs"] for ring in poly for i in ring}
    assert used == set(range(len(cut["arcs"])))  # every kept arc is used, no reference dangles


def test_the_visible_region_covers_the_frame_on_any_screen_shape():
    frame = Box(-82.0, 24.0, -78.0, 28.0)
    region = visible_region(frame)
    assert region.west < frame.west and region.east > frame.east
    assert region.south <= frame.south and region.north >= frame.north
    assert region.east - region.west >= 4 * (frame.east - frame.west)  # a wide desktop shows far more longitude


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180), st.booleans()), min_size=1, max_size=6))
def test_any_sites_on_earth_give_a_map_framing_them(sites):
    points = [{"lat": lat, "lon": lon, "site": "S", "status": "", "open": RECRUITING if rec else NOT_RECRUITING}
              for lat, lon, rec in sites]
    fit = site_map(points)["projection"]["fit"]["geometry"]["coordinates"]
    lons, lats = [c[0] for c in fit], [c[1] for c in fit]
    for lat, lon, _ in sites:
        assert min(lons) <= lon <= max(lons) and min(lats) <= max(-85.0, min(lat, 85.0)) <= max(lats)
