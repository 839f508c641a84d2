# The project's verbs. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SF ?= 1
DUCKDB_PATH ?= segmentation.duckdb

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export TPCXBB_DUCKDB_PATH := $(abspath $(DUCKDB_PATH))

.PHONY: help venv data data-if-missing run build docs lint test pytest clean serve bench-service

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(BIN)/.installed  ## create .venv from the pinned requirements

data: venv  ## (re)generate the source tables with dsdgen: make data SF=1
	$(BIN)/python -m customer_segmentation.datagen --sf $(SF) --database $(DUCKDB_PATH)

data-if-missing: venv
	$(BIN)/python -m customer_segmentation.datagen --if-missing --sf $(SF) --database $(DUCKDB_PATH)

run: data-if-missing  ## generate data if missing, dbt build on DuckDB, list the output tables
	$(BIN)/dbt build
	$(BIN)/python -m customer_segmentation.outputs --database $(DUCKDB_PATH)

build: venv  ## dbt build only (data must exist)
	$(BIN)/dbt build

docs: venv  ## dbt docs generate (target/index.html)
	$(BIN)/dbt docs generate

lint: venv  ## ruff + sqlfluff (models, macros, analyses)
	$(BIN)/ruff check python models
	$(BIN)/ruff format --check python models
	mkdir -p target
	TPCXBB_DUCKDB_PATH=$(CURDIR)/target/lint.duckdb $(BIN)/sqlfluff lint models macros analyses tests

pytest: venv  ## every pytest: the python package, parity and end-to-end dbt builds
	$(BIN)/pytest

test: lint pytest  ## lint and every test (what CI runs)

serve: venv  ## scoring endpoint on 127.0.0.1:8000 (needs SEGMENTS_API_KEY and a built model)
	SEGMENTS_DUCKDB_PATH=$${SEGMENTS_DUCKDB_PATH:-$(DUCKDB_PATH)} $(BIN)/python -m customer_segmentation.service --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

bench-service: venv  ## bounded loopback load on the endpoint -> docs/service_benchmark.md
	$(BIN)/python -m customer_segmentation.service_bench --database $(DUCKDB_PATH) --output docs/service_benchmark.md

clean:  ## remove build products (keeps .venv and the data)
	rm -rf target logs
