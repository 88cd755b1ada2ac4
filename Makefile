# Mestring developer entry points. The logic lives in .ci/; recipes stay thin.
#
#   make run                 install, migrate, load demo data, serve on http://127.0.0.1:8000 (PORT=...)
#   make test                migrations check, ruff (lint and format), mypy, pytest  (PYTEST_ARGS="-x -k goals")
#   make lint                ruff (lint and format) + mypy
#   make bench               benchmark suite                      (BENCH_ARGS="...")
#   make services            start local PostgreSQL 15 + Redis for testing against them:
#                            eval "$(.ci/services env)" && make test
#   make services-stop | services-status

PORT ?= 8000
export PORT
PYTEST_ARGS ?=
BENCH_ARGS ?=
PY := .venv/bin/python

.DEFAULT_GOAL := help
.PHONY: help setup run test lint bench services services-stop services-status

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@.ci/setup

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	exec $(PY) manage.py serve

test: setup
	@.ci/check test $(PYTEST_ARGS)

lint: setup
	@.ci/check lint

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

services:
	@.ci/services start

services-stop:
	@.ci/services stop

services-status:
	@.ci/services status
