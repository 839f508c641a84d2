"""Run dbt on the project's DuckDB file, holding it for the whole build.

DuckDB lets one process write a database file at a time, and no writer in while any process
reads it. This wrapper (what `make build` and `make run` call) opens the file itself before
dbt starts, waiting a bounded time while another process holds it (the scoring endpoint holds
it for milliseconds to check the registry), and keeps it open until dbt ends; dbt's own
connection in this process joins that open database, so no reader or second build can get in
between and fail the build half-way. A file held for longer, or one that is not a readable
DuckDB database, is refused before dbt starts (`segmentation-build` says so in one line,
with its own exit code).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

# How long to wait for another process to let go of the file: a reader (the endpoint) holds it
# for milliseconds, a build for minutes.
DEFAULT_LOCK_WAIT_SECONDS = 10.0
# DuckDB's words when another process holds the file ("...lock on file", not "...block").
_LOCK_CONFLICT = "could not set lock on file"
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


class DatabaseInUse(Exception):  # noqa: N818 (a state, not a bug)
    """Another process holds the file; `pid` is its process id, or 'unknown'."""

    def __init__(self, pid: str) -> None:
        super().__init__(pid)
        self.pid = pid


class DatabaseUnreadable(Exception):  # noqa: N818 (a state, not a bug)
    """The file exists but DuckDB cannot open it: not a database, truncated, corrupt."""


def _is_lock_conflict(error: BaseException) -> bool:
    return _LOCK_CONFLICT in str(error).lower()


def _holder_pid(error: BaseException) -> str:
    found = _LOCK_HOLDER.search(str(error))
    return found.group(1) if found else "unknown"


def open_for_build(
    database: Path,
    wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """A read-write connection to ``database``, retried while another process holds the file
    for at most ``wait_seconds``. Raises DatabaseInUse after that, DatabaseUnreadable at once
    for any other reason DuckDB cannot open the file."""
    deadline = clock() + wait_seconds
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(database))
        except duckdb.Error as error:
            if not _is_lock_conflict(error):
                raise DatabaseUnreadable(str(error).splitlines()[0]) from error
            if clock() >= deadline:
                raise DatabaseInUse(_holder_pid(error)) from error
        sleep(max(0.0, min(delay, deadline - clock())))
        delay = min(delay * 2, 0.5)


def lock_holder(database: Path) -> str | None:
    """The pid (or 'unknown') of another process holding ``database``, None if it is free."""
    if not Path(database).exists():
        return None
    try:
        open_for_build(database, wait_seconds=0).close()
    except DatabaseInUse as in_use:
        return in_use.pid
    return None


def in_use_message(database: Path, pid: str) -> str:
    return (
        f"{Path(database).name} is in use by another process (pid {pid}): "
        "wait for it to finish, then run again."
    )


def unreadable_message(database: Path, reason: str) -> str:
    return (
        f"{database} is not a readable DuckDB database ({reason}): restore it from a backup, "
        "or delete it and run `make run`, which generates the data and builds again."
    )


def run_dbt(
    database: Path, dbt_args: list[str], lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS
) -> bool:
    """Run dbt (``dbt_args``, default ``build``) holding ``database`` for the whole run;
    whether dbt succeeded. Raises DatabaseInUse or DatabaseUnreadable before dbt starts."""
    database = Path(database).resolve()
    held = open_for_build(database, lock_wait)
    from dbt.cli.main import dbtRunner

    # dbt-duckdb connects to the same path with the same (default) configuration, so DuckDB
    # hands it the database this process already holds instead of locking the file again.
    os.environ["TPCXBB_DUCKDB_PATH"] = str(database)
    with held:
        result = dbtRunner().invoke(dbt_args or ["build"])
    return bool(result.success)
