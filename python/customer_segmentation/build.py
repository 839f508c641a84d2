"""Run dbt on the project's DuckDB file, refusing clearly when another process holds it.

DuckDB lets one process write a database file at a time. A second `dbt build` would stop with
a raw "IO Error: Could not set lock on file" from deep inside dbt; this wrapper (what
`make build` and `make run` call) checks the lock first and names the process holding it.

    python -m customer_segmentation.build [--database segmentation.duckdb] [dbt args...]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import duckdb

EXIT_IN_USE = 2
_LOCK_HOLDER = re.compile(r"PID (\d+)")


def lock_holder(database: Path) -> str | None:
    """The pid (or 'unknown') of another process holding ``database``, None if it is free."""
    if not Path(database).exists():
        return None
    try:
        duckdb.connect(str(database)).close()
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        found = _LOCK_HOLDER.search(str(error))
        return found.group(1) if found else "unknown"
    return None


def in_use_message(database: Path, pid: str) -> str:
    return (
        f"{Path(database).name} is in use by another process (pid {pid}): "
        "wait for it to finish, then run again."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("TPCXBB_DUCKDB_PATH", "segmentation.duckdb")),
    )
    args, dbt_args = parser.parse_known_args(argv)
    pid = lock_holder(args.database)
    if pid is not None:
        print(in_use_message(args.database, pid), file=sys.stderr)
        return EXIT_IN_USE

    from dbt.cli.main import dbtRunner

    os.environ["TPCXBB_DUCKDB_PATH"] = str(args.database.resolve())
    result = dbtRunner().invoke(dbt_args or ["build"])
    if not result.success and result.exception is not None:
        found = _LOCK_HOLDER.search(str(result.exception))
        if found and "lock" in str(result.exception).lower():
            # Lost the race: another build took the file between the check and dbt.
            print(in_use_message(args.database, found.group(1)), file=sys.stderr)
            return EXIT_IN_USE
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
