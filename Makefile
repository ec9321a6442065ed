# Burble developer commands. `make serve` and `make test` work in a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/rentals
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test lint typecheck pytest install-serve install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.serve-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.serve-installed

install-serve: $(VENV)/.serve-installed
install-test: $(VENV)/.test-installed

## serve: install Burble and serve the example app on SQLite (Live and Development)
serve: install-serve
	$(BIN)/burble deploy $(EXAMPLE)
	$(BIN)/burble serve $(EXAMPLE) --host $(HOST) --port $(PORT)

## test: install the test dependencies, lint, type-check and run the tests
test: install-test lint typecheck pytest

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(EXAMPLE)/.burble .pytest_cache .mypy_cache .ruff_cache

# --- benchmark (bench/, docs/benchmarks.md) -------------------------------------------------
.PHONY: bench bench-smoke install-bench

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

install-bench: $(VENV)/.bench-installed

## bench: Burble against PocketBase (about 14 minutes); results in bench/results/ and docs/benchmarks.md
bench: install-bench
	$(BIN)/python -m bench

## bench-smoke: the seconds-long version of the benchmark (no timing worth reading)
bench-smoke: install-bench
	$(BIN)/python -m bench --quick
