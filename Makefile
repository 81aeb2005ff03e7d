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

run: $(VENV)/.runtime-installed migrate seed serve

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py prepare_calendar

seed: $(VENV)/.runtime-installed
	$(BIN)/python manage.py seed_demo

serve: $(VENV)/.runtime-installed
	$(BIN)/daphne -b $(HOST) -p $(PORT) backend.asgi:application

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerate the committed GraphQL SDL after changing the API.
schema: $(VENV)/.runtime-installed
	$(BIN)/python manage.py graphql_schema --out schema.graphql

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh the Indonesian and English catalogues after changing user-facing strings (needs GNU gettext).
messages: $(VENV)/.runtime-installed
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore '.venv/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
