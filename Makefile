# `make run` and `make test` work on a fresh machine with nothing configured
# (SQLite + Django's database cache). Set DATABASE_URL / REDIS_URL for Postgres / Redis.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format check venv clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

# The dev server and the task worker (which sends the queued email); Ctrl-C stops both.
run: venv
	$(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python scripts/run_local.py $(HOST):$(PORT)

test: venv
	$(BIN)/pytest -n auto --dist loadgroup

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: venv lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /tmp/referral-schema.yml

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
