"""`segmentation-sqlserver`: the SQL Server target's tools.

    segmentation-sqlserver script [--check]   write (or check) the generated macro file: the
                                              procedures' script and the feature list
    segmentation-sqlserver setup              print sqlserver/setup.sql filled in from MSSQL_*
    segmentation-sqlserver check              check the client (pyodbc + ODBC driver, or
                                              mssql-python) before dbt connects

The project is --project-dir, else $DBT_PROJECT_DIR, else the working directory.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from customer_segmentation.adapters import sqlserver_check, sqlserver_script, sqlserver_setup
from customer_segmentation.adapters.project import project_dir


def _script(project: Path, check: bool) -> int:
    path = project / sqlserver_script.GENERATED_MACROS
    if check:
        reason = sqlserver_script.stale_reason(project)
        if reason:
            print(reason, file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    written = sqlserver_script.write_macros(project)
    print(f"wrote {path}" if written else f"{path} already up to date")
    return 0


def _setup(project: Path) -> int:
    try:
        script = sqlserver_setup.setup_script(project, os.environ)
    except ValueError as exc:
        print(f"sqlserver-setup: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(script)
    return 0


def _check() -> int:
    problems = sqlserver_check.check()
    for problem in problems:
        print(f"SQL Server target not usable: {problem}", file=sys.stderr)
    if not problems:
        print("SQL Server client OK: dbt can connect with --target sqlserver")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project-dir", type=Path, default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    script = commands.add_parser("script", help="write the generated SQL Server macro file")
    script.add_argument(
        "--check", action="store_true", help="exit 1 if the file is missing or stale"
    )
    commands.add_parser("setup", help="print the one-time setup for a DBA")
    commands.add_parser("check", help="check the SQL Server client")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check()
    try:
        project = project_dir(args.project_dir)
    except FileNotFoundError as exc:
        print(f"segmentation-sqlserver: {exc}", file=sys.stderr)
        return 2
    if args.command == "script":
        return _script(project, args.check)
    return _setup(project)


if __name__ == "__main__":
    sys.exit(main())
