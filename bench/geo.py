"""Speed of offline geocoding (trials.geo.locate) once its indexes are built.

    python bench/geo.py

Prints milliseconds per repeated city lookup and per ZIP lookup (goal: under 2 ms per city,
under 20 ms per ZIP on this machine class; the machine is shared, so runs vary).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trials.geo import locate  # noqa: E402


def per_lookup(places: tuple[str, ...], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for place in places:
            locate(place)
    return (time.perf_counter() - started) / (rounds * len(places))


def main() -> None:
    started = time.perf_counter()
    locate("Boston, MA")
    locate("02115")
    print(f"first lookups (indexes built): {time.perf_counter() - started:.2f} s")
    print(f"city: {per_lookup(('Boston, MA', 'Paris, France'), 200) * 1000:.3f} ms per lookup (goal < 2 ms)")
    print(f"ZIP:  {per_lookup(('02115',), 50) * 1000:.3f} ms per lookup (goal < 20 ms)")


if __name__ == "__main__":
    main()
