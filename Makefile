# Dezky Console. `make run` serves a demo console; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/dezky

.PHONY: run test test-sqlite test-postgres lint typecheck format bench bench-unleash demo-password services clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	@$(BIN)/python scripts/ensure_env.py
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Dezky Console: http://$(HOST):$(PORT)/  (Django admin: http://$(HOST):$(PORT)/admin/)"
	@echo ""
	@# Scheduled flag changes are applied by the scheduler, here a loop beside the
	@# server that stops with it (in production: a timer, see README).
	@trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py apply_scheduled_flag_changes --loop 60 & scheduler=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

demo-password: $(VENV)/.installed
	$(BIN)/python manage.py seed_demo --new-password

# The real OpenID provider (npm's oidc-provider) the end-to-end identity tests run.
# Without npm the step says so and those tests skip (fail with CI=true).
OIDC_PROVIDER_DIR := tests/oidc_provider
$(OIDC_PROVIDER_DIR)/node_modules/.installed: $(OIDC_PROVIDER_DIR)/package.json $(OIDC_PROVIDER_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(OIDC_PROVIDER_DIR) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm is missing (apt-get install -y nodejs npm): the OIDC end-to-end tests will not run."; \
	fi

# The front-end tools in package.json: stylelint and prettier for static/dezky's CSS
# and JavaScript, axe-core for the browser tests' accessibility scans. Without npm
# the step says so; the CSS/JS checks then skip and the scans skip (fail with CI=true).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm is missing (apt-get install -y nodejs npm): CSS/JS lint and accessibility scans will not run."; \
	fi

# Every check, on SQLite and then on PostgreSQL. CI=true turns a missing
# PostgreSQL or browser into a failure instead of a skip.
test: lint $(VENV)/.installed-test $(OIDC_PROVIDER_DIR)/node_modules/.installed node_modules/.installed
	@bash scripts/ensure_test_services.sh
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "=== tests on SQLite ==="
	DATABASE_URL=sqlite://:memory: $(BIN)/pytest $(PYTEST_ARGS)

test-postgres:
	@echo "=== tests on PostgreSQL ==="
	@if $(BIN)/python scripts/postgres_reachable.py "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(TEST_POSTGRES_URL) is unreachable and CI=true: failing."; exit 1; \
	else \
		echo "SKIPPED: PostgreSQL at $(TEST_POSTGRES_URL) is unreachable; only SQLite was tested."; \
	fi

lint: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	@if [ -f node_modules/.installed ]; then \
		npx --no-install stylelint "static/dezky/css/**/*.css" && \
		npx --no-install prettier --check "static/dezky/**/*.{css,js}"; \
	elif [ "$$CI" = "true" ]; then \
		echo "npm is missing and CI=true: failing (stylelint and prettier did not run)."; exit 1; \
	else \
		echo "SKIPPED: stylelint and prettier (npm is missing)."; \
	fi

# mypy with django-stubs over the modules listed in pyproject.toml ([tool.mypy]).
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

format: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	@if [ -f node_modules/.installed ]; then npx --no-install prettier --write --log-level warn "static/dezky/**/*.{css,js}"; fi

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	@for script in bench/[!_]*.py; do echo "=== $$script ==="; $(BIN)/python $$script || exit 1; done
	@if $(BIN)/python scripts/postgres_reachable.py "$(TEST_POSTGRES_URL)"; then \
		for script in bench/pages.py bench/palette.py; do \
			echo "=== $$script on PostgreSQL ==="; \
			DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python $$script || exit 1; \
		done; \
	fi

# Flag evaluation beside Unleash (bench/unleash_side_by_side.py): installs
# unleash-server with npm into bench/.unleash/ the first time, creates and drops two
# databases on the PostgreSQL server at BENCH_POSTGRES_URL. Not part of `make bench`.
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench-unleash: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	BENCH_UNLEASH=true BENCH_POSTGRES_URL="$(BENCH_POSTGRES_URL)" $(BIN)/python bench/unleash_side_by_side.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache .hypothesis
