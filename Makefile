# The targets README names. Each sets up .venv first (once, again when pyproject.toml changes).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# The PostgreSQL server the second test run uses (it creates and drops its own databases there).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# Test folders that touch the database: run again on PostgreSQL.
DATABASE_TESTS ?= tests/store tests/service tests/api tests/delivery tests/e2e tests/receipts tests/web

.PHONY: run test test-sqlite test-postgres test-dates assets lint format bench soak clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## assets: GOV.UK Frontend (and axe-core for the accessibility tests) from package-lock.json
assets: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	 else echo "npm not found: the pages will render without GOV.UK styling"; fi

## run: set up, then start the whole service on http://127.0.0.1:8000 (Ctrl-C stops it)
run: $(BIN)/.installed assets
	$(BIN)/csins-adapter run

## test: set up, then the whole suite on SQLite, and the database tests again on PostgreSQL
test: test-sqlite test-postgres

test-sqlite: $(BIN)/.installed assets
	$(BIN)/lint-imports
	$(BIN)/pytest

test-postgres: $(BIN)/.installed assets
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(subst +psycopg,,$(TEST_POSTGRES_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL='$(TEST_POSTGRES_URL)' $(BIN)/pytest $(DATABASE_TESTS); \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then echo "PostgreSQL is required but does not answer"; exit 1; \
	else echo "PostgreSQL does not answer at $(TEST_POSTGRES_URL): its test run was skipped"; fi

## test-dates: the tests whose service runs in other processes, and the CLIs', at three other dates
## (a mid-year day, a leap day, a bank holiday): no test may depend on the day it runs
DATE_TESTS ?= tests/e2e tests/test_cli_plan.py tests/test_cli_plan_guidance.py tests/importers tests/receipts/test_cli.py tests/sandbox tests/cli_commands
SHIFTED_DATES ?= 2027-06-30 2028-02-29 2027-12-27
test-dates: $(BIN)/.installed
	@for date in $(SHIFTED_DATES); do echo "== tests at $$date"; \
	  tests/at-date $$date $(BIN)/pytest -q $(DATE_TESTS) || exit 1; done

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
	$(BIN)/python bench/receipts.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/deliver.py
	$(BIN)/python bench/restore_drill.py

## soak: 20 clients for 10 minutes against the whole service on PostgreSQL, a worker killed and
## Redis restarted meanwhile, then every submission, delivery and receipt checked (about 12
## minutes; bench/soak.py --quick: 3 clients for 40 s, a smoke run of a few minutes)
soak: $(BIN)/.installed
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
