# Dezky Console. `make run` serves a demo console; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/dezky

.PHONY: run test test-sqlite test-postgres lint format bench demo-password services clean

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

# Every check, on SQLite and then on PostgreSQL. CI=true turns a missing
# PostgreSQL or browser into a failure instead of a skip.
test: $(VENV)/.installed-test $(OIDC_PROVIDER_DIR)/node_modules/.installed
	@bash scripts/ensure_test_services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
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

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	@for script in bench/[!_]*.py; do echo "=== $$script ==="; $(BIN)/python $$script || exit 1; done
	@if $(BIN)/python scripts/postgres_reachable.py "$(TEST_POSTGRES_URL)"; then \
		echo "=== bench/pages.py on PostgreSQL ==="; \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python bench/pages.py || exit 1; \
	fi

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
