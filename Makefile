# The targets README names. Each sets up .venv first (once, again when pyproject.toml changes).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: run test test-sqlite test-postgres lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## run: set up, then convert both sample exports to incident records (NDJSON on stdout)
run: $(BIN)/.installed
	$(BIN)/csins-adapter convert tests/samples/liquidlogic_incidents.csv
	$(BIN)/csins-adapter convert tests/samples/mosaic_incidents.csv
	$(BIN)/csins-adapter plan tests/samples/incident.json

## test: set up, then run the whole suite
test: $(BIN)/.installed
	$(BIN)/pytest

## lint: ruff (lint and format check) and mypy strict on the packages
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: every benchmark, each against its own baseline measured in the same run
bench: $(BIN)/.installed
	$(BIN)/python bench/convert.py
	$(BIN)/python bench/plan.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
