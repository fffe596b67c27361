# Thrift MS. `make run` serves the back-office with demo data on SQLite;
# `make test` runs the whole test suite (DB_ENGINE=mysql make test for MySQL).

PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup demo test lint format check

setup:
	@./scripts/bootstrap.sh

demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_roles
	$(PY) manage.py load_demo
	$(PY) manage.py create_demo_admin

run: demo
	@echo "Thrift MS: http://$(HOST):$(PORT)/admin/"
	$(PY) manage.py runserver $(HOST):$(PORT)

test:
	@./scripts/bootstrap.sh --with-browser
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
