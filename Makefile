# mlsys-reader developer commands. GNU make; `make help` lists the targets.
#
# Configuration comes from the environment (see README "Configuration"): these
# targets never set DATABASE_URL, so the SQLite default under var/ is used unless
# you export DATABASE_URL yourself.

.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
PYTEST_ARGS ?=
DEV_ENV := DEBUG=true

# The interpreter that creates the venv: pyenv's build of the version in
# .python-version when pyenv has it, else python3.13, else python3.12 on PATH.
# Recursively expanded, so it is only looked up when the venv has to be created.
PYTHON_VERSION := $(strip $(shell cat .python-version 2>/dev/null))
find_python = $(shell \
	if [ -n "$(PYTHON_VERSION)" ] && command -v pyenv >/dev/null 2>&1 \
		&& PYENV_VERSION="$(PYTHON_VERSION)" pyenv prefix >/dev/null 2>&1; then \
		PYENV_VERSION="$(PYTHON_VERSION)" pyenv which python; \
	else \
		for candidate in python3.13 python3.12; do \
			if command -v $$candidate >/dev/null 2>&1 && $$candidate -c "" >/dev/null 2>&1; then \
				command -v $$candidate; break; \
			fi; \
		done; \
	fi)
PYTHON ?= $(find_python)

.PHONY: help venv run test lint worker bench clean

help:
	@echo "make venv    create .venv and install requirements-dev.txt (only when they changed)"
	@echo "make run     migrate, load the demo data and logins, serve http://127.0.0.1:8000/ (DEBUG on)"
	@echo "make test    run the whole test suite (uses DATABASE_URL when set; PYTEST_ARGS=... passes options)"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make worker  run the background task worker (manage.py db_worker)"
	@echo "make bench   run the benchmark scripts in bench/"
	@echo "make clean   remove caches, collected static files and screenshots (keeps .venv and the database)"

$(VENV_PY):
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: no Python found: install Python $(or $(PYTHON_VERSION),3.13) with pyenv, or python3.13 / python3.12 on PATH" >&2; \
		exit 1; \
	fi
	"$(PYTHON)" -m venv $(VENV)

# Reinstall only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

run: venv
	mkdir -p var
	$(DEV_ENV) $(VENV_PY) manage.py migrate --noinput
	$(DEV_ENV) $(VENV_PY) manage.py load_demo --with-accounts
	$(DEV_ENV) $(VENV_PY) manage.py runserver 127.0.0.1:8000

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

worker: venv
	$(DEV_ENV) $(VENV_PY) manage.py db_worker

# Benchmarks are not part of the test run; each bench/*.py is a standalone script.
bench: venv
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	missed=(); for script in "$${scripts[@]}"; do \
		echo "== $$script"; $(VENV_PY) "$$script" || missed+=("$$script"); \
	done; \
	if [ $${#missed[@]} -gt 0 ]; then echo "goals missed: $${missed[*]}"; exit 1; fi

clean:
	rm -rf var/pytest_cache var/static var/screenshots .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
