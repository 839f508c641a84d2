"""Shared fixtures: sf=0.01 source data generated once, and dbt run through its Python API."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from devtools.datagen import generate

PROJECT_DIR = Path(__file__).resolve().parents[2]
SMALL_SF = 0.01


def dbt_location_args(workdir: Path, target: str = "target", logs: str = "logs") -> list[str]:
    """The paths every test's dbt invocation passes: this project and its profiles, and a
    target and a log folder of the test's own under ``workdir``."""
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(workdir / target),
        "--log-path",
        str(workdir / logs),
    ]


def build_command(database: Path, workdir: Path, *args: str, suffix: str = "") -> list[str]:
    """`segmentation-build build` (what `make run` calls) on one file, as a
    subprocess command line; target and logs under ``workdir`` (`target<suffix>`)."""
    return [
        sys.executable,
        "-m",
        "customer_segmentation.cli.build",
        "--database",
        str(database),
        "build",
        *args,
        *dbt_location_args(workdir, f"target{suffix}", f"logs{suffix}"),
    ]


def release_duckdb_file() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation,
    so that tests (and the next invocation) can open the file with another configuration."""
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def error_messages(result: dbtRunnerResult) -> str:
    """Every message a dbt invocation produced: its exception and each node's message."""
    parts = [str(result.exception or "")]
    for node in getattr(result.result, "results", None) or []:
        parts.append(str(node.message or ""))
    return "\n".join(parts)


@dataclass
class DbtProject:
    """The repo's dbt project pointed at one DuckDB file, with its own target and log folders."""

    database: Path
    workdir: Path

    def invoke(self, *args: str) -> dbtRunnerResult:
        """Run dbt against this project's DuckDB file, then let go of the file."""
        previous = os.environ.get("TPCXBB_DUCKDB_PATH")
        os.environ["TPCXBB_DUCKDB_PATH"] = str(self.database)
        try:
            return self._invoke(*args)
        finally:
            release_duckdb_file()
            if previous is None:
                del os.environ["TPCXBB_DUCKDB_PATH"]
            else:
                os.environ["TPCXBB_DUCKDB_PATH"] = previous

    def _invoke(self, *args: str) -> dbtRunnerResult:
        return dbtRunner().invoke(
            [
                *args,
                *dbt_location_args(self.workdir),
                "--no-partial-parse",
                "--quiet",
            ]
        )

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).df()


@pytest.fixture(scope="module")
def default_sqlserver_env() -> Iterator[None]:
    """The SQL Server profile's defaults (database tpcxbb_1gb, schema dbo): no MSSQL_* from
    the shell."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MSSQL_")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="session")
def small_source_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the tpcxbb source tables at sf=0.01 (generated once)."""
    database = tmp_path_factory.mktemp("sources") / "sources.duckdb"
    generate(database, SMALL_SF)
    return database


@pytest.fixture
def make_project(small_source_db: Path, tmp_path: Path) -> Callable[[], DbtProject]:
    """A fresh copy of the sf=0.01 sources with the dbt project pointed at it."""

    def _make() -> DbtProject:
        database = tmp_path / "segmentation.duckdb"
        shutil.copyfile(small_source_db, database)
        return DbtProject(database=database, workdir=tmp_path)

    return _make


@pytest.fixture(scope="session")
def built_project(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """The whole project built once on sf=0.01 data (`make run`, then the on-demand sweep of
    `make plots`); read-only for the tests that use it."""
    workdir = tmp_path_factory.mktemp("built")
    database = workdir / "segmentation.duckdb"
    shutil.copyfile(small_source_db, database)
    project = DbtProject(database=database, workdir=workdir)
    result = project.invoke("build")
    assert result.success, f"dbt build failed: {result.exception or result.result}"
    # What `make plots` adds: the on-demand k-selection sweep the nightly default leaves out.
    result = project.invoke("build", "--selector", "on_demand")
    assert result.success, f"on-demand build failed: {result.exception or result.result}"
    return project
