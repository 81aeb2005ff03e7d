# Two commands on a fresh clone: `make run` serves the demo at http://127.0.0.1:8000/graphql; `make test` tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve migrate seed schema lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# Front-end files (GraphiQL, the console) from the npm registry: assets.json, tools/fetch_assets.py.
ASSETS := var/assets/.assets.json
$(ASSETS): assets.json tools/fetch_assets.py | $(BIN)/python
	$(BIN)/python tools/fetch_assets.py
	touch $@

run: $(VENV)/.runtime-installed $(ASSETS) migrate seed serve

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py prepare_calendar

seed: $(VENV)/.runtime-installed
	$(BIN)/python manage.py seed_demo

serve: $(VENV)/.runtime-installed
	$(BIN)/daphne -b $(HOST) -p $(PORT) backend.asgi:application

# The JavaScript clients the tests drive (tests/js); their tests are skipped on a machine without Node.js.
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the tests with JavaScript clients will be skipped"; fi

# The production write path's tests, run on PostgreSQL too when the suite runs on SQLite and a server is reachable
# (tools/write_path_tests.py; TEST_POSTGRES_URL).
WRITE_PATH_TESTS := tests/test_sql.py tests/cases/test_opening.py tests/cases/test_numbers.py \
	tests/cases/test_transitions.py tests/cases/test_queue_sql.py tests/complaints/test_submit.py \
	tests/regions/test_national_days_off.py tests/permits/test_transitions.py tests/permits/test_flow.py

test: $(VENV)/.dev-installed tests/js/node_modules/.installed $(ASSETS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@url=$$($(BIN)/python tools/write_path_tests.py); if [ -n "$$url" ]; then \
		echo "The write path on PostgreSQL ($$url):"; \
		DATABASE_URL=$$url $(BIN)/python -m pytest -q $(PYTEST_ARGS) $(WRITE_PATH_TESTS); fi

# Regenerate the committed GraphQL SDL after changing the API.
schema: $(VENV)/.runtime-installed
	$(BIN)/python manage.py graphql_schema --out schema.graphql

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the import graph's rules: pyproject.toml, docs/architecture.md

# Refresh the Indonesian and English catalogues after changing user-facing strings (needs GNU gettext).
messages: $(VENV)/.runtime-installed
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore '.venv/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/js/node_modules var/assets
