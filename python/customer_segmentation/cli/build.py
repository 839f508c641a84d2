"""`segmentation-build`: run dbt on the project's DuckDB file, holding it for the whole build.

    segmentation-build [--database segmentation.duckdb] [dbt args...]      # make build, make run

Exit codes: 0 dbt succeeded, 1 dbt failed (or the generated SQL Server macros are stale),
2 another process holds the file, 3 the file is not a readable DuckDB database.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from customer_segmentation.adapters.dbt_build import (
    DEFAULT_LOCK_WAIT_SECONDS,
    DatabaseInUse,
    DatabaseUnreadable,
    in_use_message,
    run_dbt,
    unreadable_message,
)
from customer_segmentation.adapters.project import project_dir
from customer_segmentation.adapters.sqlserver_script import stale_reason

EXIT_FAILED = 1
EXIT_IN_USE = 2
EXIT_UNREADABLE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("TPCXBB_DUCKDB_PATH", "segmentation.duckdb")),
    )
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=DEFAULT_LOCK_WAIT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for another process to let go of the file (default %(default)s)",
    )
    args, dbt_args = parser.parse_known_args(argv)
    project = _dbt_project_dir(dbt_args)
    try:
        stale = stale_reason(project_dir(project))
    except FileNotFoundError as exc:
        print(f"segmentation-build: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if stale:
        print(f"segmentation-build: {stale}", file=sys.stderr)
        return EXIT_FAILED
    try:
        succeeded = run_dbt(args.database, dbt_args, args.lock_wait)
    except DatabaseInUse as in_use:
        print(in_use_message(args.database.resolve(), in_use.pid), file=sys.stderr)
        return EXIT_IN_USE
    except DatabaseUnreadable as unreadable:
        print(unreadable_message(args.database, str(unreadable)), file=sys.stderr)
        return EXIT_UNREADABLE
    return 0 if succeeded else EXIT_FAILED


def _dbt_project_dir(dbt_args: list[str]) -> str | None:
    """The --project-dir given to dbt, if any (else $DBT_PROJECT_DIR or the working dir)."""
    for i, arg in enumerate(dbt_args):
        if arg == "--project-dir" and i + 1 < len(dbt_args):
            return dbt_args[i + 1]
        if arg.startswith("--project-dir="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
