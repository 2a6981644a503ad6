"""The map of a study's sites, drawn offline: country and US state outlines under the sites.

The outlines are TopoJSON files bundled in ``trials/data/maps`` (Natural Earth countries at 1:50m and
1:110m, US Census states; see PROVENANCE.md there). Every layer's data is inline in the chart: the browser
loads no tiles and calls no one, so a person's place never leaves the page. Only the outlines near
the sites are sent (the topology is cut down to the polygons around the frame): a map of three
Boston hospitals carries New England, not Siberia.

The view frames the sites and the person's place, never closer than ``MIN_SPAN_DEGREES`` so that a
single site is shown with its region around it. Recruiting sites are large and strongly coloured;
other sites small and grey; the person's place is a blue diamond. One legend says which is which.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

from .geo import Place

__all__ = ["site_map", "frame_of", "visible_region", "outlines_near", "MAP_CAPTION", "MIN_SPAN_DEGREES", "MAPS"]

MAPS = Path(__file__).parent / "data" / "maps"
# Country outlines by how wide the view is (degrees of longitude): detail where it shows, a light file elsewhere.
COUNTRIES_BY_WIDTH = ((45.0, "countries-50m.json"), (math.inf, "countries-110m.json"))
STATES = "states-10m.json"

MIN_SPAN_DEGREES = 4.0  # about 280 miles north-south: one site is shown with its region, not its street
MARGIN = 0.15  # of the sites' extent, on each side, so edge sites are not cut by the frame
HEIGHT = 360
ASPECTS = (0.8, 4.5)  # the chart's width / height: a phone (about 340 x 360 px) to a wide desktop (1600 x 360)

RECRUITING, NOT_RECRUITING, YOU = "Recruiting", "Not recruiting", "Your place"
# Legend entry -> how it is drawn. Recruiting sites stand out; the others recede; the person's place is apart.
STYLE = {
    RECRUITING: {"color": "#c2410c", "size": 150, "shape": "circle"},
    NOT_RECRUITING: {"color": "#8c8c8c", "size": 60, "shape": "circle"},
    YOU: {"color": "#1d4ed8", "size": 220, "shape": "diamond"},
}
OCEAN, LAND, BORDER, STATE_LINE = "#e6eff6", "#f6f3ec", "#8f8f8f", "#bcbcbc"

MAP_CAPTION = ("Country and US state outlines: Natural Earth and US Census Bureau, drawn in your browser from "
               "files shipped with this app (no map service, nothing loaded from other sites). Sites placed from "
               "their ZIP code or city are drawn at its centre (approximate); sites that can't be placed are in "
               "the table, not on the map.")


class Box(NamedTuple):
    west: float
    south: float
    east: float
    north: float

    def overlaps(self, other: "Box") -> bool:
        return (self.west <= other.east and other.west <= self.east
                and self.south <= other.north and other.south <= self.north)


def frame_of(points: Iterable[tuple[float, float]]) -> Box:
    """The box the view fits: the (lon, lat) points with a margin, at least MIN_SPAN_DEGREES each way."""
    lons, lats = zip(*points)
    box = []
    for low, high, limit in ((min(lons), max(lons), 180.0), (min(lats), max(lats), 85.0)):
        half = max((high - low) * (1 + 2 * MARGIN), MIN_SPAN_DEGREES) / 2
        middle = (low + high) / 2
        box.append((max(-limit, middle - half), min(limit, middle + half)))
    (west, east), (south, north) = box
    return Box(west, south, east, north)


def _mercator_y(lat: float) -> float:
    return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def _mercator_lat(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(math.radians(y))) - math.pi / 2)


def visible_region(frame: Box) -> Box:
    """What the chart can show around its frame. Fitting keeps the frame whole, and the chart's shape
    (width / height between ASPECTS) adds room along one axis: outlines are needed out to there."""
    low, high = ASPECTS
    width, height = frame.east - frame.west, _mercator_y(frame.north) - _mercator_y(frame.south)
    half_w, half_h = max(width, height * high) / 2, max(height, width / low) / 2
    mid_x, mid_y = (frame.west + frame.east) / 2, (_mercator_y(frame.north) + _mercator_y(frame.south)) / 2
    return Box(mid_x - half_w, _mercator_lat(mid_y - half_h), mid_x + half_w, _mercator_lat(mid_y + half_h))


# --- outlines: the bundled topology, parsed once per process, cut to what the view needs ------------

@lru_cache(maxsize=None)
def _topology(file: str) -> dict:
    return json.loads((MAPS / file).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _arc_boxes(file: str) -> tuple[Box, ...]:
    """Each arc's bounds in degrees (arcs are quantized and delta-encoded: positions are running sums)."""
    topo = _topology(file)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    boxes = []
    for arc in topo["arcs"]:
        x = y = 0
        xs, ys = [], []
        for dx, dy in arc:
            x += dx
            y += dy
            xs.append(x)
            ys.append(y)
        boxes.append(Box(min(xs) * sx + tx, min(ys) * sy + ty, max(xs) * sx + tx, max(ys) * sy + ty))
    return tuple(boxes)


def _polygons(geometry: dict) -> list:
    return {"Polygon": [geometry.get("arcs")], "MultiPolygon": geometry.get("arcs")}.get(geometry.get("type")) or []


def _arc_index(i: int) -> int:
    return ~i if i < 0 else i  # TopoJSON: ~i is arc i reversed


def outlines_near(file: str, obj: str, region: Box) -> dict:
    """A topology with only the polygons of `obj` whose bounds overlap `region`, and only their arcs."""
    topo, boxes = _topology(file), _arc_boxes(file)
    renumbered: dict[int, int] = {}
    arcs: list = []

    def keep(i: int) -> int:
        j = _arc_index(i)
        if j not in renumbered:
            renumbered[j] = len(arcs)
            arcs.append(topo["arcs"][j])
        return ~renumbered[j] if i < 0 else renumbered[j]

    geometries = []
    for g in topo["objects"][obj]["geometries"]:
        near = [poly for poly in _polygons(g)
                if any(boxes[_arc_index(i)].overlaps(region) for ring in poly for i in ring)]
        if near:
            geometries.append({"type": "MultiPolygon", "id": g.get("id"), "properties": g.get("properties", {}),
                               "arcs": [[[keep(i) for i in ring] for ring in poly] for poly in near]})
    return {"type": "Topology", "transform": topo["transform"], "arcs": arcs,
            "objects": {obj: {"type": "GeometryCollection", "geometries": geometries}}}


# --- the chart: a Vega-Lite spec, drawn by the browser ---------------------------------------------

def _outlines(file: str, obj: str, region: Box, mark: dict) -> dict:
    return {"data": {"values": outlines_near(file, obj, region), "format": {"type": "topojson", "feature": obj}},
            "mark": {"type": "geoshape", "clip": True, **mark}}


def _points(sites: Iterable[Mapping], person: Place | None) -> list[dict]:
    """Sites (keys lat, lon, site, status, open) and the person's place, drawn in this order so
    recruiting sites and the person's place are on top of the others."""
    rows = [{k: site[k] for k in ("lat", "lon", "site", "status", "open")} for site in sites]
    if person is not None:
        rows.append({"lat": person.lat, "lon": person.lon, "site": YOU, "status": person.label, "open": YOU})
    rank = {NOT_RECRUITING: 0, RECRUITING: 1, YOU: 2}
    return sorted(rows, key=lambda row: rank.get(row["open"], 0))


def site_map(sites: Iterable[Mapping], person: Place | None = None) -> dict:
    """A Vega-Lite spec (for st.vega_lite_chart): the sites, as cards.map_points gives them, over
    country and state outlines, framed on them and the person's place. All data is inline: no URL.

    A plain spec rather than an Altair chart: Altair's to_dict walks every outline number (~0.2 s a
    map) and costs ~0.5 s to import."""
    points = _points(sites, person)
    if not points:
        raise ValueError("site_map needs at least one site or the person's place")
    frame = frame_of((p["lon"], p["lat"]) for p in points)
    region = visible_region(frame)
    countries = next(file for width, file in COUNTRIES_BY_WIDTH if region.east - region.west <= width)
    shown = [k for k in STYLE if any(p["open"] == k for p in points)]

    def scale(prop: str) -> dict:
        return {"field": "open", "type": "nominal", "title": "On the map",
                # ordinal: a nominal size scale would otherwise be a "point" scale, spreading sizes between two ends
                "scale": {"type": "ordinal", "domain": shown, "range": [STYLE[k][prop] for k in shown]}}

    corners = [[frame.west, frame.south], [frame.east, frame.north], [frame.west, frame.north], [frame.east, frame.south]]
    return {
        "height": HEIGHT,
        "autosize": {"type": "pad"},  # the legend goes below the map, not into its height (the fit uses all of it)
        "projection": {"type": "mercator",
                       "fit": {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": corners}}},
        "layer": [
            {"data": {"sphere": True}, "mark": {"type": "geoshape", "clip": True, "fill": OCEAN, "stroke": None}},
            _outlines(countries, "countries", region, {"fill": LAND, "stroke": BORDER, "strokeWidth": 0.7}),
            _outlines(STATES, "states", region, {"filled": False, "stroke": STATE_LINE, "strokeWidth": 0.5}),
            {"data": {"values": points},
             "mark": {"type": "point", "filled": True, "opacity": 0.95, "stroke": "white", "strokeWidth": 0.8,
                      "clip": True},
             "encoding": {
                 "longitude": {"field": "lon", "type": "quantitative"},
                 "latitude": {"field": "lat", "type": "quantitative"},
                 "color": {**scale("color"), "legend": {"orient": "bottom"}},
                 "size": scale("size"),
                 "shape": scale("shape"),
                 "tooltip": [{"field": "site", "type": "nominal", "title": "Site"},
                             {"field": "status", "type": "nominal", "title": "Status"}]}},
        ],
    }
