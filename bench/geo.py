"""How well and how fast sites without coordinates are placed (trials.geo.site_point).

Run from the repo root:  python bench/geo.py [--repeat 20]

On the bundled snapshot's real sites that DO carry the registry's coordinates, the coordinates are
dropped (a copy of each site) and the site is placed from its ZIP or city alone, as a site without
coordinates would be. Prints how many are placed and by what, how far the estimate lands from the
registry's own point (median, 90th and 99th percentile, worst), then the cost: the first lookups
(which load the ZIP and city lists), a warm lookup, and the app's distance view over the snapshot.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trials import geo  # noqa: E402
from trials.annotate import annotate_all  # noqa: E402
from trials.filters import Filters  # noqa: E402
from trials.view import build_view  # noqa: E402
from trials.snapshot import load_snapshot  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20, help="distance views to time (default 20)")
    args = ap.parse_args()
    studies = load_snapshot().studies
    located = [s for study in studies for s in study.sites if s.has_coordinates]
    stripped = [dataclasses.replace(s, lat=None, lon=None) for s in located]

    t0 = time.perf_counter()
    points = [geo.site_point(s) for s in stripped]
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in stripped:
        geo.site_point(s)
    warm = (time.perf_counter() - t0) / max(1, len(stripped))

    bases = Counter(p.basis if p else geo.DISTANCE_UNKNOWN for p in points)
    errors = {basis: [geo.distance_miles(s.lat, s.lon, p.lat, p.lon) for s, p in zip(located, points)
                      if p and p.basis == basis] for basis in (geo.BY_ZIP, geo.BY_CITY)}
    print(f"{len(located)} real sites with registry coordinates in the snapshot, placed without them:")
    for basis, n in bases.most_common():
        print(f"  {basis:17s} {n:5d} ({n / len(located):.0%})")
    for basis, miles in errors.items():
        if miles:
            print(f"  {basis}: miles from the registry's point: median {statistics.median(miles):.1f}, "
                  f"p90 {_percentile(miles, .9):.1f}, p99 {_percentile(miles, .99):.1f}, worst {max(miles):.1f}")
    print(f"cost: first pass over {len(stripped)} sites {cold:.2f} s (loads the ZIP and city lists once, "
          f"as the first search with a place does); "
          f"warm lookup {warm * 1e6:.1f} µs per site (cached per ZIP and per city/state/country)")

    items = annotate_all(studies)
    boston = geo.locate("02115")
    f = Filters(statuses=(), settings=())  # every study of the snapshot
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        view = build_view(items, f, boston, 100.0)
        times.append(time.perf_counter() - t0)
    print(f"app distance view (02115, 100 mi) over {len(items)} studies: median "
          f"{statistics.median(times) * 1e3:.1f} ms; {len(view.rows)} shown, "
          f"{len(view.distance_unknown)} distance unknown, {view.hidden_distance} farther")


if __name__ == "__main__":
    main()
