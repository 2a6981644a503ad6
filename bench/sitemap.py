"""What the sites' map costs: building it, and what it sends to the browser.

Run from the repo root:  python bench/sitemap.py [--repeat 5]

For every bundled-snapshot study with sites to draw (and a person in Boston): the first map built
in the process (which reads and indexes the bundled outlines once), then the median build time of
a map and the median and largest size of the spec sent to the browser (outlines cut to the view).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trials import cards as C  # noqa: E402
from trials.geo import locate  # noqa: E402
from trials.sitemap import MAPS, site_map  # noqa: E402
from trials.snapshot import load_snapshot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="builds of each map to time (default 5)")
    args = ap.parse_args()
    place = locate("02115")
    points = [p for p in (C.map_points(s) for s in load_snapshot().studies) if p]
    t = time.perf_counter()
    site_map(points[0], place)
    first = time.perf_counter() - t
    times, sizes = [], []
    for pts in points:
        for _ in range(args.repeat):
            t = time.perf_counter()
            spec = site_map(pts, place)
            times.append(time.perf_counter() - t)
        sizes.append(len(json.dumps(spec)))
    bundled = sum(f.stat().st_size for f in MAPS.glob("*.json"))
    print(f"bundled outlines: {bundled / 1e6:.2f} MB in {MAPS.relative_to(ROOT)}")
    print(f"{len(points)} maps; first build in the process (reads the outlines it uses): {first * 1000:.0f} ms")
    print(f"build: median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"spec sent to the browser: median {statistics.median(sizes) / 1000:.0f} KB, max {max(sizes) / 1000:.0f} KB")


if __name__ == "__main__":
    main()
