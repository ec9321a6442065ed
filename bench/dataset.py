"""The records both servers are seeded with, and the requests' parameters: all from fixed
random seeds, so every run (and both servers) sees the same data and the same requests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SEED = 20241121
USERS = 4
CITIES = (
    "Amsterdam",
    "Berlin",
    "Chicago",
    "Dublin",
    "Lisbon",
    "Madrid",
    "Nairobi",
    "Oslo",
    "Seoul",
    "Toronto",
)
_ADJECTIVES = ("Sunny", "Quiet", "Cosy", "Bright", "Modern", "Old", "Spacious", "Tiny")
_NOUNS = ("Loft", "Studio", "Cabin", "Flat", "House", "Villa", "Room", "Suite")
PRICE_MIN, PRICE_MAX = 50, 5000


@dataclass(frozen=True, slots=True)
class Record:
    """One rental unit; `owner` is the index (0..USERS-1) of its owner among the users."""

    name: str
    price: int
    city: str
    active: bool
    owner: int

    def fields(self, owner_id: str) -> dict[str, object]:
        """Its fields as both servers take them (the same names on both)."""
        return {
            "name": self.name,
            "price": self.price,
            "city": self.city,
            "active": self.active,
            "owner": owner_id,
        }


def records(count: int, seed: int = SEED, start: int = 0) -> Iterator[Record]:
    """`count` records; the same seed gives the same records."""
    rng = random.Random(seed)
    for i in range(start, start + count):
        yield Record(
            name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {i}",
            price=rng.randint(PRICE_MIN, PRICE_MAX),
            city=CITIES[rng.randrange(len(CITIES))],
            active=rng.random() < 0.9,
            owner=rng.randrange(USERS),
        )


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Case (b): `price > min_price` and `city = city`, by price descending, 100 a page."""

    min_price: int
    city: str


def list_queries(count: int, seed: int = SEED + 1) -> list[ListQuery]:
    rng = random.Random(seed)
    return [
        ListQuery(rng.randint(500, 4500), CITIES[rng.randrange(len(CITIES))]) for _ in range(count)
    ]


def sample_indexes(population: int, count: int, seed: int = SEED + 2) -> list[int]:
    """Positions of seeded records to read by id (with repeats when there are few)."""
    rng = random.Random(seed)
    if count <= population:
        return rng.sample(range(population), count)
    return [rng.randrange(population) for _ in range(count)]


def new_records(count: int, seed: int = SEED + 3) -> list[Record]:
    """Records the write cases create (not part of the seeded data)."""
    return list(records(count, seed=seed, start=1_000_000_000))
