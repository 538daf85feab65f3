# Two commands matter: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLES := $(wildcard examples/*/pyproject.toml)
NODE_CACHE := .cache/node
# JavaScript used only by tests: Mozilla's ical.js parses our feeds, axe-core audits pages.
NODE_STAMP := $(NODE_CACHE)/.installed
PYTEST_ARGS ?=
# Compiled catalogs (.mo) are built from the .po files and never committed (docs/languages.md).
CATALOG_SOURCES := $(wildcard planner/translations/*/LC_MESSAGES/*.po plugins/*/translations/*/LC_MESSAGES/*.po examples/*/*/translations/*/LC_MESSAGES/*.po)
CATALOG_STAMP := $(VENV)/.catalogs

.PHONY: run test lint bench screenshots demo clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(EXAMPLES)
	$(BIN)/pip install --quiet -e ".[test,prod]" $(foreach e,$(EXAMPLES),-e $(dir $(e)))
	touch $(STAMP)

$(CATALOG_STAMP): $(STAMP) $(CATALOG_SOURCES)
	$(BIN)/python -m planner.dev.translations compile
	touch $(CATALOG_STAMP)

# Extract every marked string, update the de/fr/es catalogs, compile them (docs/languages.md).
translations: $(STAMP)
	$(BIN)/python -m planner.dev.translations extract
	$(BIN)/python -m planner.dev.translations compile
	touch $(CATALOG_STAMP)

run: $(STAMP) $(CATALOG_STAMP)
	$(BIN)/planner db upgrade
	$(BIN)/planner demo --if-empty
	PLANNER_MAIL_IN_PROCESS=true $(BIN)/planner run --host 127.0.0.1 --port 5000

$(NODE_STAMP):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix $(NODE_CACHE) ical.js@2 axe-core@4 && touch $(NODE_STAMP); \
	else echo "npm not found: ical.js and axe-core tests will skip (or fail under CI=true)"; fi

test: $(STAMP) $(CATALOG_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests $(foreach e,$(EXAMPLES),$(dir $(e))tests)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

# The bench extra (Radicale) is installed on first use, and so is Debian's wrk where apt-get
# can (as root): a Python load generator shares the two cores with the servers it measures and
# saturates first, so the fast endpoints (bare, 304, gzip) measured the client. Without wrk the
# bench says so and uses Python threads.
bench: $(STAMP)
	@$(BIN)/python -c "import radicale" 2>/dev/null || $(BIN)/pip install --quiet -e ".[bench]"
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -qq wrk >/dev/null 2>&1 \
	       || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1; }; }; } \
	  || echo "wrk is not installed (apt-get install wrk): the bench falls back to Python threads"
	$(BIN)/python -m planner.dev.bench

screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis $(NODE_CACHE)
