"""trials.geo: offline place lookup, radius parsing, distances, nearest recruiting site."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from trials import geo
from trials.errors import BadInput
from trials.geo import (MAX_RADIUS_MILES, NearestSite, Place, distance_miles, locate,
                        nearest_site, parse_radius, sites_by_distance, within_radius)
from trials.model import Site, Study

FIXTURES = Path(__file__).parent / "fixtures" / "complete"


def load(nct_id: str) -> Study:
    with open(FIXTURES / f"{nct_id}.json", encoding="utf-8") as fh:
        return Study.from_api(json.load(fh))


def miles_from(place: Place, lat: float, lon: float) -> float:
    return distance_miles(place.lat, place.lon, lat, lon)


# --- locate: ZIP codes -----------------------------------------------------------------------

@pytest.mark.parametrize("text, lat, lon, label", [
    ("02115", 42.339, -71.094, "02115 — Boston, MA"),        # Longwood medical area
    ("10065", 40.765, -73.963, "10065 — New York, NY"),      # Upper East Side
    ("55905", 44.022, -92.466, "55905 — Rochester, MN"),     # Mayo Clinic
    ("02115-1234", 42.339, -71.094, "02115 — Boston, MA"),   # ZIP+4 uses the 5-digit part
    (" 10065 ", 40.765, -73.963, "10065 — New York, NY"),
    ("０２１１５", 42.339, -71.094, "02115 — Boston, MA"),      # full-width digits
])
def test_zip_codes_land_on_the_right_place(text, lat, lon, label):
    place = locate(text)
    assert miles_from(place, lat, lon) < 3
    assert place.label == label
    assert place.country == "United States"


@pytest.mark.parametrize("text", ["00000", "99999"])
def test_unknown_zip_is_bad_input_naming_it(text):
    with pytest.raises(BadInput, match=text) as info:
        locate(text)
    assert "ZIP" in str(info.value)


def test_decommissioned_zip_is_bad_input():
    # 01133 (Springfield, MA) is in the zipcodes data but marked inactive
    with pytest.raises(BadInput, match="01133.*no longer in use"):
        locate("01133")


@pytest.mark.parametrize("text", ["1234", "123456", "0211"])
def test_wrong_length_number_explains_zip_format(text):
    with pytest.raises(BadInput, match="5 digits") as info:
        locate(text)
    assert text in str(info.value)


# --- locate: cities --------------------------------------------------------------------------

@pytest.mark.parametrize("text, lat, lon, country", [
    ("Boston", 42.36, -71.06, "United States"),
    ("Boston, MA", 42.36, -71.06, "United States"),
    ("boston ma", 42.36, -71.06, "United States"),
    ("Boston, Massachusetts, USA", 42.36, -71.06, "United States"),
    ("Boston, UK", 52.98, -0.03, "United Kingdom"),           # Lincolnshire
    ("Paris, France", 48.86, 2.35, "France"),
    ("Paris", 48.86, 2.35, "France"),                          # most populous Paris
    ("Paris, TX", 33.66, -95.56, "United States"),
    ("Paris Texas", 33.66, -95.56, "United States"),
    ("São Paulo", -23.55, -46.63, "Brazil"),
    ("Sao Paulo", -23.55, -46.63, "Brazil"),
    ("SAO   PAULO,,  brazil", -23.55, -46.63, "Brazil"),
    ("lyon", 45.75, 4.85, "France"),
    ("  Lyon!! ", 45.75, 4.85, "France"),
    ("Rochester", 43.15, -77.62, "United States"),             # NY is bigger than MN
    ("Rochester, MN", 44.02, -92.47, "United States"),
    ("Rochester Minnesota", 44.02, -92.47, "United States"),
    ("Toronto, CA", 43.70, -79.40, "Canada"),                  # CA = Canada or California
    ("Los Angeles, CA", 34.05, -118.24, "United States"),
    ("London", 51.51, -0.13, "United Kingdom"),
    ("London, Ontario", 42.98, -81.23, "Canada"),
    ("Manchester, England", 53.48, -2.24, "United Kingdom"),
    ("Manchester, NH", 42.99, -71.45, "United States"),
    ("Seoul, Korea, Republic of", 37.57, 126.98, "South Korea"),  # ClinicalTrials.gov spelling
    ("Montreal", 45.51, -73.59, "Canada"),                     # GeoNames: "Montréal"
    ("Köln", 50.93, 6.95, "Germany"),
    ("Koeln", 50.93, 6.95, "Germany"),                         # alternate name
    ("Cologne", 50.93, 6.95, "Germany"),
    ("St Louis", 38.63, -90.20, "United States"),
    ("Saint Louis, MO", 38.63, -90.20, "United States"),
    ("Winston Salem", 36.10, -80.24, "United States"),
    ("Boston, MA 02115", 42.36, -71.06, "United States"),      # trailing ZIP ignored
    ("Hershey, PA", 40.29, -76.65, "United States"),           # < 15,000 people: second tier
    ("San Juan, Puerto Rico", 18.47, -66.11, "Puerto Rico"),
    ("Amsterdam, Netherlands", 52.37, 4.89, "Netherlands"),
])
def test_cities(text, lat, lon, country):
    place = locate(text)
    assert miles_from(place, lat, lon) < 10, place
    assert place.country == country


def test_city_labels():
    assert locate("boston").label == "Boston, MA"
    assert locate("lyon").label == "Lyon, France"
    assert locate("sao paulo").label == "São Paulo, Brazil"


@pytest.mark.parametrize("text", ["Springfeld", "Xyzzyville", "Lyon, Narnia"])
def test_unknown_city_is_bad_input_naming_it(text):
    with pytest.raises(BadInput) as info:
        locate(text)
    message = str(info.value)
    assert text.split(",")[-1].strip() in message
    assert "Lyon, France" in message or "e.g." in message


def test_unknown_city_message_is_friendly():
    with pytest.raises(BadInput) as info:
        locate("Springfeld")
    assert str(info.value).startswith('No US ZIP code or city called "Springfeld" was found.')


def test_qualifier_that_excludes_every_match_is_bad_input():
    with pytest.raises(BadInput, match="Lyon, Texas"):
        locate("Lyon, Texas")


def test_country_alone_asks_for_a_city():
    with pytest.raises(BadInput, match="add a city"):
        locate("France")


@pytest.mark.parametrize("text", [
    "", "   ", "!!!", "😀😀", "\x00\x01abc", "Boston\x07", ",", ", France", "-----",
    "a" * 201, "Boston " * 100, "<script>alert(1)</script>", "'; DROP TABLE sites; --",
    "\u202eBoston",  # right-to-left override
])
def test_garbage_is_bad_input(text):
    with pytest.raises(BadInput):
        locate(text)


@pytest.mark.parametrize("value", [None, 2115, 42.0, b"02115", ["02115"]])
def test_non_text_is_bad_input(value):
    with pytest.raises(BadInput):
        locate(value)  # type: ignore[arg-type]


def test_long_input_message_is_bounded():
    with pytest.raises(BadInput) as info:
        locate("x" * 10_000)
    assert len(str(info.value)) < 300


def test_no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("geo must not open network connections")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert locate("Lyon, France").country == "France"
    assert locate("55905").label.startswith("55905")


# --- parse_radius ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, miles", [
    ("50mi", 50.0), ("50 mi", 50.0), ("50 miles", 50.0), ("50 Miles", 50.0), ("1 mile", 1.0),
    ("100", 100.0), (" 100 ", 100.0), ("12.5", 12.5), ("12.5mi", 12.5),
    ("80km", 80 / 1.609344), ("80 km", 80 / 1.609344), ("80 kilometres", 80 / 1.609344),
    (25, 25.0), (25.5, 25.5), ("500", 500.0), (500, 500.0), ("804 km", 804 / 1.609344),
    ("anywhere", None), ("Anywhere", None), ("", None), ("  ", None), (None, None),
])
def test_parse_radius(text, miles):
    result = parse_radius(text)
    if miles is None:
        assert result is None
    else:
        assert result == pytest.approx(miles)


@pytest.mark.parametrize("text", [
    "0", 0, "-5", -5, "-5 mi", 0.0, "abc", "50 parsecs", "50 m", "mi", "5 0", "1e3",
    float("nan"), float("inf"), True, "x" * 500, "50mi50", [50],
])
def test_parse_radius_rejects(text):
    with pytest.raises(BadInput):
        parse_radius(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["501", 501, "1000 mi", "900 km"])
def test_parse_radius_above_cap_is_refused_not_clamped(text):
    with pytest.raises(BadInput, match="500 miles") as info:
        parse_radius(text)
    assert "anywhere" in str(info.value)
    assert MAX_RADIUS_MILES == 500


# --- distance_miles --------------------------------------------------------------------------

def test_haversine_known_distances():
    boston, new_york = (42.3601, -71.0589), (40.7128, -74.0060)
    assert distance_miles(*boston, *new_york) == pytest.approx(190, abs=5)
    assert distance_miles(*new_york, *boston) == pytest.approx(distance_miles(*boston, *new_york))
    assert distance_miles(*boston, *boston) == 0
    # London - Paris is about 213 miles
    assert distance_miles(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(213, abs=3)
    # antipodes: half the Earth's circumference (~12,430 mi), no math domain error
    assert distance_miles(0, 0, 0, 180) == pytest.approx(12_436, abs=10)


def test_zip_to_zip_distance():
    assert miles_from(locate("02115"), locate("10065").lat, locate("10065").lon) == \
        pytest.approx(188, abs=6)


# --- nearest_site / sites_by_distance / within_radius ---------------------------------------

BOSTON = Place(42.3427, -71.0922, "02115 — Boston, MA", "United States")


def site(city: str, status: str, lat: float | None, lon: float | None) -> Site:
    return Site(facility=f"{city} Hospital", city=city, status=status, lat=lat, lon=lon)


def test_nearest_site_is_by_distance_not_list_order_real_record():
    # NCT07648264 lists Coral Springs FL (recruiting) before Bethesda MD (recruiting)
    study = load("NCT07648264")
    recruiting = [s.city for s in study.sites if s.is_recruiting]
    assert recruiting.index("Coral Springs") < recruiting.index("Bethesda")
    near = nearest_site(study, BOSTON)
    assert near.site.city == "Bethesda"
    assert near.site.is_recruiting
    assert near.miles == pytest.approx(distance_miles(BOSTON.lat, BOSTON.lon, 38.98, -77.10), abs=2)
    assert nearest_site(study, locate("Miami")).site.city == "Coral Springs"
    # Copenhagen's own site is TERMINATED: from Copenhagen the nearest open site is Bethesda
    assert [s.status for s in study.sites if s.city == "Copenhagen"] == ["TERMINATED"]
    assert nearest_site(study, locate("Copenhagen")).site.city == "Bethesda"
    assert nearest_site(study, locate("Copenhagen"), recruiting_only=False).site.city == "Copenhagen"


def test_nearest_site_respects_per_site_status_real_record():
    # NCT07764978: 124 sites, only Fitzroy (Australia) is recruiting; dozens of
    # not-yet-recruiting US sites are much closer to Boston.
    study = load("NCT07764978")
    assert len(study.sites) == 124
    near = nearest_site(study, BOSTON)
    assert near.site.city == "Fitzroy" and near.site.country == "Australia"
    assert near.miles > 10_000
    # with recruiting_only=False the nearest of all is a US site
    any_site = nearest_site(study, BOSTON, recruiting_only=False)
    assert any_site.site.country == "United States"
    assert any_site.site.city == "New Haven"
    assert any_site.miles < 150


def test_completed_study_has_no_recruiting_site_real_record():
    study = load("NCT03412565")  # COMPLETED: 64 sites, none with a status
    assert len(study.sites) == 64
    assert all(s.status == "" for s in study.sites)
    assert nearest_site(study, BOSTON) is None
    assert nearest_site(study, None) is None
    assert not within_radius(study, BOSTON, 500)
    london = locate("London")
    nearest_any = nearest_site(study, london, recruiting_only=False)
    assert nearest_any.site.city == "Canterbury"
    assert nearest_any.miles == pytest.approx(54, abs=3)
    assert nearest_any.miles == min(m.miles for m in sites_by_distance(study, london) if m.miles is not None)


def test_sites_by_distance_keeps_every_site_real_record():
    study = load("NCT03412565")  # one site (Mallorca, an island, not a city) has no coordinates
    ordered = sites_by_distance(study, locate("London"))
    assert len(ordered) == 64
    assert {id(m.site) for m in ordered} == {id(s) for s in study.sites}
    distances = [m.miles for m in ordered if m.miles is not None]
    assert distances == sorted(distances)
    assert len(distances) == 63
    assert ordered[-1].miles is None and ordered[-1].site.city == "Mallorca" and ordered[-1].basis == ""
    assert {m.basis for m in ordered[:-1]} == {geo.BY_COORDINATES}


def test_sites_by_distance_without_origin_keeps_record_order():
    study = load("NCT07764978")
    ordered = sites_by_distance(study, None)
    assert [m.site for m in ordered] == list(study.sites)
    assert all(m.miles is None for m in ordered)


def test_sites_by_distance_includes_every_status_real_record():
    study = load("NCT07764978")
    ordered = sites_by_distance(study, BOSTON)
    assert len(ordered) == 124
    statuses = {m.site.status for m in ordered}
    assert {"RECRUITING", "NOT_YET_RECRUITING", "WITHDRAWN"} <= statuses
    assert ordered[0].site.city == "New Haven"
    # its five sites without coordinates (Århus N, Nishinomiya-shi, Shibuya-ku, Shinjuku-ku,
    # Suita-shi) are placed by their city; none is left without a distance
    by_city = sorted(m.site.city for m in ordered if m.basis == geo.BY_CITY)
    assert by_city == ["Nishinomiya-shi", "Shibuya-ku", "Shinjuku-ku", "Suita-shi", "Århus N"]
    assert all(m.miles is not None for m in ordered)


def test_within_radius_never_hides_the_only_open_site_real_record():
    study = load("NCT07764978")
    # Far closed / not-yet-open sites don't matter; the near US ones don't count either.
    assert not within_radius(study, BOSTON, 500)
    assert within_radius(study, BOSTON, 500, recruiting_only=False)
    melbourne = locate("Melbourne, Australia")
    assert within_radius(study, melbourne, 25)


def test_within_radius_only_open_site_is_near_even_if_closed_sites_are_far():
    # Hand-made: isolates a study whose only open site is near and every other site far.
    study = Study(sites=(
        site("Tokyo", "COMPLETED", 35.68, 139.69),
        site("Cambridge", "RECRUITING", 42.37, -71.11),
        site("Sydney", "WITHDRAWN", -33.87, 151.21),
    ))
    assert within_radius(study, BOSTON, 10)
    assert not within_radius(study, BOSTON, 1)
    assert nearest_site(study, BOSTON).site.city == "Cambridge"


def test_within_radius_boundary_and_no_limit():
    study = Study(sites=(site("New York", "RECRUITING", 40.7651, -73.9638),))
    exact = distance_miles(BOSTON.lat, BOSTON.lon, 40.7651, -73.9638)
    assert within_radius(study, BOSTON, exact)
    assert not within_radius(study, BOSTON, exact - 0.5)
    assert within_radius(study, BOSTON, None)
    assert not within_radius(Study(), BOSTON, None)


def test_nearest_site_prefers_a_site_with_a_distance():
    # Hand-made: the first recruiting site has no coordinates; it must not win.
    study = Study(sites=(
        site("Nowhere", "RECRUITING", None, None),
        site("Far", "RECRUITING", 34.05, -118.24),
        site("Near", "NOT_YET_RECRUITING", 42.35, -71.06),
    ))
    near = nearest_site(study, BOSTON)
    assert near.site.city == "Far"
    assert near.miles > 2000


def test_nearest_site_without_coordinates_falls_back_to_first_recruiting():
    # Hand-made: no recruiting site has coordinates.
    study = Study(sites=(
        site("Closed", "COMPLETED", 42.35, -71.06),
        site("First", "RECRUITING", None, None),
        site("Second", "RECRUITING", None, None),
    ))
    assert nearest_site(study, BOSTON) == NearestSite(study.sites[1], None)
    assert not within_radius(study, BOSTON, 500)
    assert geo.reach(study, BOSTON, 500) == geo.DISTANCE_UNKNOWN
    assert [m.site.city for m in sites_by_distance(study, BOSTON)] == ["Closed", "First", "Second"]


def test_nearest_site_without_origin_is_first_recruiting():
    study = load("NCT07648264")
    first = next(s for s in study.sites if s.is_recruiting)
    assert nearest_site(study, None) == NearestSite(first, None)


def test_nearest_site_none_when_no_sites():
    assert nearest_site(Study(), BOSTON) is None
    assert nearest_site(Study(), BOSTON, recruiting_only=False) is None
    assert sites_by_distance(Study(), BOSTON) == []


def test_nearest_site_ties_keep_record_order():
    # Hand-made: two recruiting sites at the same coordinates.
    study = Study(sites=(site("A", "RECRUITING", 40.0, -75.0), site("B", "RECRUITING", 40.0, -75.0)))
    assert nearest_site(study, BOSTON).site.city == "A"


def test_module_does_not_cache_inputs():
    # The only caches are the data indexes; locate() itself keeps no per-input cache.
    assert not hasattr(geo.locate, "cache_info")


# --- placing sites without coordinates -------------------------------------------------------

def test_a_site_without_coordinates_is_placed_by_its_zip_then_its_city():
    from tests.helpers import without_coordinates

    real = load("NCT07772024")  # one recruiting site, in Miami, FL 33126, with the registry's point
    true = real.sites[0]
    # hand-made variants: the geoPoint removed, then the ZIP too
    by_zip = Study.from_api(without_coordinates("NCT07772024"))
    by_city = Study.from_api(without_coordinates("NCT07772024", keep_zip=False))
    for study, basis in ((by_zip, geo.BY_ZIP), (by_city, geo.BY_CITY)):
        point = geo.site_point(study.sites[0])
        assert point.basis == basis
        assert distance_miles(point.lat, point.lon, true.lat, true.lon) < 10  # the area's centre, not the door
        near = nearest_site(study, locate("33125"))
        assert near.basis == basis and near.miles < 10
        assert geo.reach(study, locate("Miami, FL"), 25) == geo.WITHIN
        assert geo.reach(study, BOSTON, 25) == geo.OUTSIDE
    assert geo.site_point(true).basis == geo.BY_COORDINATES


def test_a_site_whose_city_no_list_knows_has_distance_unknown_and_is_not_outside():
    from tests.helpers import without_coordinates

    # NCT07648264 really lists "Ostrova, CZE, 70852, Czechia" without coordinates (Ostrava, misspelt)
    ostrova = next(s for s in load("NCT07648264").sites if s.city == "Ostrova")
    assert geo.site_point(ostrova) is None
    # hand-made: NCT07772024's only (recruiting) site without coordinates, ZIP, and a known city
    study = Study.from_api(without_coordinates("NCT07772024", keep_zip=False, city="Ostrova"))
    assert geo.reach(study, BOSTON, 500) == geo.DISTANCE_UNKNOWN
    assert nearest_site(study, BOSTON) == NearestSite(study.sites[0], None)
    assert not within_radius(study, BOSTON, 500)


def test_a_zip_is_only_read_as_a_us_zip_in_the_us_and_in_the_sites_own_state():
    # NCT07648264's Hradec Králové site has ZIP 50005 (also a US ZIP, in Iowa) and coordinates;
    # without them it is placed by its city in Czechia, never in Iowa
    real = next(s for s in load("NCT07648264").sites if s.city == "Hradec Králové")
    point = geo.site_point(Site(city=real.city, state=real.state, zip=real.zip, country=real.country))
    assert point.basis == geo.BY_CITY
    assert distance_miles(point.lat, point.lon, real.lat, real.lon) < 10
    # hand-made: a ZIP of Columbus, OH given for a site in Texas is not trusted; no Texas city of
    # that name is listed, so the site is not placed rather than placed in Ohio
    assert geo.site_point(Site(city="Columbus", state="Texas", zip="43210", country="United States")) is None
    assert geo.site_point(Site(city="Columbus", state="Ohio", zip="43210", country="United States")).basis == geo.BY_ZIP


@pytest.mark.parametrize("site_, why", [
    (Site(city="Paris"), "no country: Paris, France or Paris, Texas?"),
    (Site(city="Paris", country="Atlantis"), "a country no list knows"),
    (Site(zip="02115"), "a ZIP without a country"),
    (Site(country="United States"), "a country alone"),
])
def test_a_site_is_never_placed_by_a_guess(site_, why):
    assert geo.site_point(site_) is None, why


@pytest.mark.parametrize("text, words", [
    (True, 'Please give the distance as a number of miles, e.g. 50, or "anywhere".'),
    ([50], 'Please give the distance as a number of miles, e.g. 50, or "anywhere".'),
    ("5" * 41, 'That distance is too long. Use e.g. "50 mi", "80 km" or "anywhere".'),
    (0, 'The distance "0" must be more than zero.'),
    ("-5mi", 'The distance "-5mi" must be more than zero.'),
    (float("nan"), '"nan" is not a distance we understand. Use e.g. "50 mi" or "anywhere".'),
    ("50 parsecs", '"50 parsecs" is not a distance we understand. Use e.g. "50 mi", "80 km", "100" (miles) or "anywhere".'),
    (0.99, 'The distance "0.99" is less than 1 mile'),
    (500.01, 'The distance "500.01" is more than 500 miles'),
])
def test_parse_radius_messages(text, words):
    with pytest.raises(BadInput) as info:
        parse_radius(text)
    assert str(info.value).startswith(words)


def test_parse_radius_edges():
    with pytest.raises(BadInput, match="more than 500 miles"):  # 40 characters: read, not "too long"
        parse_radius("5" * 40)
    assert parse_radius("no   limit") is None
    assert parse_radius(1) == 1.0 and parse_radius(500) == 500.0  # both ends allowed
