"""The Burble benchmark: Burble against PocketBase on the same machine (`make bench`).

Run it as `python -m bench` (see `python -m bench --help` and docs/benchmarks.md).
"""
