"""The benchmark's cases (issue #7, section 2) and the requests each sends."""

from __future__ import annotations

from dataclasses import dataclass

from bench.dataset import USERS, Record, list_queries, new_records, sample_indexes
from bench.targets import BULK_SIZE, Target
from bench.wrk import HttpRequest


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    # "ratio": Burble req/s over PocketBase's, at least `target`; "time": Burble's time per
    # request over PocketBase's, at most `target`; "p50": Burble's p50 in ms, under `target`.
    target_kind: str | None = None
    target: float | None = None
    both: bool = True  # measured on both servers (else Burble alone)
    available: bool = True
    writes: bool = False  # creates things: starts from the seeded data (Benchmark.run)


CASES: tuple[Case, ...] = (
    Case("a", "get by id (admin)", "ratio", 2.0),
    Case(
        "b",
        "list: price > X and city = C, by price descending, limit 100, with count (admin)",
        "ratio",
        2.0,
    ),
    Case("c_get", "(a) as a user under the owner privacy rule", "ratio", 2.0),
    Case("c_list", "(b) as a user under the owner privacy rule", "ratio", 2.0),
    Case("d", "create one (admin)", "ratio", 2.0, writes=True),
    Case(
        "e",
        "bulk create 1,000 (Burble /bulk, PocketBase batch API; admin)",
        "time",
        0.25,
        writes=True,
    ),
    Case(
        "f",
        "API workflow that creates one thing and returns its id (compare with (d))",
        both=False,
        writes=True,
    ),
    Case(
        "g",
        "(b) as a user under the owner rule, list + count at 1,000,000 records",
        "p50",
        50.0,
        both=False,
    ),
)
BY_ID = {c.id: c for c in CASES}
ALIASES = {"c": ("c_get", "c_list")}

READ_IDS = 1000  # distinct things read by id in (a) and (c)
QUERIES = 52  # distinct (X, C) pairs in (b) and (c): 13 per user
CREATES = 500  # distinct bodies in (d)
BULKS = 4  # distinct bodies of 1,000 in (e)


def parse_cases(text: str) -> list[Case]:
    """`a,b,c,g` → the cases, in the benchmark's order (`c` is both of its halves)."""
    wanted: set[str] = set()
    for word in text.split(","):
        word = word.strip().lower()
        if not word:
            continue
        if word in ALIASES:
            wanted.update(ALIASES[word])
        elif word in BY_ID:
            wanted.add(word)
        else:
            raise ValueError(f"unknown case {word!r} (cases: a, b, c, c_get, c_list, d, e, f, g)")
    return [c for c in CASES if c.id in wanted]


def requests_for(case: Case, target: Target, seeded: list[Record]) -> list[HttpRequest]:
    """The requests a wrk run of `case` cycles through, on `target` (seeded with `seeded`)."""
    if case.id == "a":
        return [target.get_request(target.ids[i], None) for i in read_indexes(seeded)]
    if case.id == "b":
        return [target.list_request(q, None) for q in list_queries(QUERIES)]
    if case.id == "c_get":
        return [
            target.get_request(target.ids[i], seeded[i].owner)
            for i in read_indexes(seeded, per_user=True)
        ]
    if case.id in ("c_list", "g"):
        return [target.list_request(q, n % USERS) for n, q in enumerate(list_queries(QUERIES))]
    if case.id == "d":
        return [target.create_request(r) for r in new_records(CREATES)]
    if case.id == "f":
        return [target.workflow_request(r) for r in new_records(CREATES)]
    if case.id == "e":
        fresh = new_records(BULKS * BULK_SIZE)
        return [
            target.bulk_request(fresh[i : i + BULK_SIZE]) for i in range(0, len(fresh), BULK_SIZE)
        ]
    raise ValueError(f"case {case.id} sends no requests")


def read_indexes(seeded: list[Record], per_user: bool = False) -> list[int]:
    """Positions of seeded records to read by id; `per_user`: interleaved by owner, so that
    the user tokens take turns (each reading its own things)."""
    picked = sample_indexes(len(seeded), READ_IDS)
    if not per_user:
        return picked
    by_owner: list[list[int]] = [[] for _ in range(USERS)]
    for i in picked:
        by_owner[seeded[i].owner].append(i)
    out: list[int] = []
    for row in range(max(len(b) for b in by_owner)):
        out += [b[row] for b in by_owner if row < len(b)]
    return out
