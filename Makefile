# The project's verbs. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SF ?= 1
DUCKDB_PATH ?= segmentation.duckdb
BENCH_SF ?= 1 10 30
BENCH_RUNS ?= 1
# Where make bench keeps each scale factor's generated sources (bench/sf<N>.duckdb, made
# once: sf=30 is about 86 million sales lines) and its work copies; gitignored.
BENCH_WORKDIR ?= bench
# Where the generated sources are read from (default BENCH_WORKDIR), e.g. a shared folder.
BENCH_SOURCES ?= $(BENCH_WORKDIR)
# Optional steps to leave out, e.g. BENCH_SKIP="b_run c_run d e" for (a), (b), (c), (f) only.
BENCH_SKIP ?=

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export TPCXBB_DUCKDB_PATH := $(abspath $(DUCKDB_PATH))

.PHONY: help venv mlservices data data-if-missing run build docs plots lint test pytest bench clean serve bench-service

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# The SQL Server procedures' script and the feature list, generated from the core into a
# gitignored macro file (dbt's Jinja cannot read Python): rewritten whenever the core changes.
GENERATED_MACROS := macros/sqlserver/generated/segment_model_core.sql
CORE_SOURCES := $(wildcard python/customer_segmentation/core/*.py) \
	python/customer_segmentation/adapters/sqlserver_script.py
# Developer tools (python/devtools) are not installed: run from the source tree.
DEVTOOLS := PYTHONPATH=$(CURDIR)/python $(BIN)/python -m

$(GENERATED_MACROS): $(BIN)/.installed $(CORE_SOURCES)
	$(BIN)/segmentation-sqlserver script

venv: $(BIN)/.installed $(GENERATED_MACROS)  ## create .venv from the pinned requirements (and the generated macros)

# The ML Services runtimes the emulator runs scripts on (python/tests/support/mlservices): one
# virtualenv per SQL Server version, from the pyenv Python that the first line of its
# requirements file names ("# python: 3.7"). Override: make mlservices PYTHON_sql2019=/path.
MLSERVICES := sql2019 sql2022
MLSERVICES_DIR := .venv-mlservices
MLSERVICES_REQS := python/tests/support/mlservices
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)

$(MLSERVICES_DIR)/%/.installed: $(MLSERVICES_REQS)/%-requirements.txt
	@version=$$(sed -n '1s/.*python: *//p' $<); \
	python="$(PYTHON_$*)"; \
	if [ -z "$$python" ]; then \
		python=$$(ls -d $(PYENV_ROOT)/versions/$$version.* 2>/dev/null | sort -V | tail -n 1 || true); \
		python=$${python:+$$python/bin/python}; \
	fi; \
	if [ ! -x "$$python" ]; then \
		echo "make mlservices: $* needs Python $$version and found none at" \
			"$${python:-$(PYENV_ROOT)/versions/$$version.*}: run 'pyenv install $$version'" \
			"or pass PYTHON_$*=/path/to/python$$version" >&2; \
		exit 1; \
	fi; \
	echo "building $(@D) with $$python"; \
	rm -rf $(@D); \
	"$$python" -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r $<
	@touch $@

mlservices: $(MLSERVICES:%=$(MLSERVICES_DIR)/%/.installed)  ## build the SQL Server 2019/2022 Python runtimes the ML Services emulator runs

data: venv  ## (re)generate the source tables with dsdgen: make data SF=1
	$(DEVTOOLS) devtools.datagen --sf $(SF) --database $(DUCKDB_PATH)

data-if-missing: venv
	$(DEVTOOLS) devtools.datagen --if-missing --sf $(SF) --database $(DUCKDB_PATH)

run: data-if-missing  ## generate data if missing, dbt build on DuckDB, list the output tables
	$(BIN)/segmentation-build --database $(DUCKDB_PATH) build
	$(BIN)/segmentation-outputs --database $(DUCKDB_PATH)

build: venv  ## dbt build only (data must exist)
	$(BIN)/segmentation-build --database $(DUCKDB_PATH) build

docs: venv  ## dbt docs generate (target/index.html), on-demand models included
	$(BIN)/dbt docs generate --select 'fqn:*'

plots: venv  ## build the k-selection sweep, then PNGs of the elbow and profiles into docs/ (after make run)
	$(BIN)/segmentation-build --database $(DUCKDB_PATH) build --selector on_demand
	$(BIN)/segmentation-plots --database $(DUCKDB_PATH) --out docs

lint: venv  ## ruff + sqlfluff (models, macros, analyses, tests, snapshots)
	$(BIN)/ruff check python models
	$(BIN)/ruff format --check python models
	mkdir -p target
	TPCXBB_DUCKDB_PATH=$(CURDIR)/target/lint.duckdb $(BIN)/sqlfluff lint models macros analyses tests snapshots

pytest: venv mlservices  ## every pytest: the python package, parity and end-to-end dbt builds
	$(BIN)/pytest

test: lint pytest  ## lint and every test (what CI runs)

# SQL Server, the production target (docs/sqlserver.md). Never the default target.
.PHONY: sqlserver-check sqlserver-script sqlserver-compile sqlserver-deploy sqlserver-build golden
.PHONY: sqlserver-setup

sqlserver-setup: venv  ## SQL Server: print the one-time setup for a DBA, filled in from MSSQL_* (use make -s)
	@$(BIN)/segmentation-sqlserver setup

sqlserver-check: venv  ## SQL Server: check the client (pyodbc + ODBC Driver 18, or mssql-python)
	$(BIN)/segmentation-sqlserver check

sqlserver-script: $(BIN)/.installed  ## SQL Server: regenerate the procedures' script macro (gitignored) from the core's modules
	$(BIN)/segmentation-sqlserver script

sqlserver-compile: venv  ## SQL Server: compile every model and the procedure, no server needed
	$(BIN)/dbt compile --target sqlserver --no-introspect --no-populate-cache \
		--target-path target/sqlserver
	@echo "procedure: target/sqlserver/compiled/customer_segmentation/analyses/py_generate_customer_return_clusters.sql"

sqlserver-deploy: sqlserver-check  ## SQL Server: create or alter the procedures (a build deploys them too)
	$(BIN)/dbt run-operation deploy_segment_model_procedures --target sqlserver

sqlserver-build: sqlserver-check  ## SQL Server: dbt build (trains run 1 on a fresh server)
	$(BIN)/dbt build --target sqlserver

golden: venv  ## rewrite python/tests/support/golden/ from the generated procedure; review the diff
	UPDATE_GOLDEN=1 $(BIN)/pytest -q python/tests/adapters/test_sqlserver_target.py -k golden

bench: venv  ## benchmark vs the tutorial's pipeline -> docs/benchmarks.md: make bench BENCH_SF="1 10 30" BENCH_RUNS=1
	$(DEVTOOLS) devtools.benchmark --sf $(BENCH_SF) --runs $(BENCH_RUNS) \
		--workdir $(BENCH_WORKDIR) --sources-dir $(BENCH_SOURCES) $(if $(strip $(BENCH_SKIP)),--skip $(BENCH_SKIP))

serve: venv  ## scoring endpoint on 127.0.0.1:8000 (needs SEGMENTS_API_KEY and a built model)
	SEGMENTS_DUCKDB_PATH=$${SEGMENTS_DUCKDB_PATH:-$(DUCKDB_PATH)} $(BIN)/segmentation-serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

bench-service: venv  ## bounded loopback load on the endpoint -> docs/service_benchmark.md
	$(DEVTOOLS) devtools.service_bench --database $(DUCKDB_PATH) --output docs/service_benchmark.md

clean:  ## remove build products (keeps .venv and the data)
	rm -rf target logs
