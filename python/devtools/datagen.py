"""Generate the tpcxbb source tables with TPC-DS dsdgen into the project's DuckDB file.

TPCx-BB takes `store_sales`, `store_returns` and `customer`, with the same columns, from TPC-DS;
dsdgen ships on PyPI as the `duckdb-ext-tpcds` extension and runs offline.

    python -m devtools.datagen --sf 1 --database segmentation.duckdb
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from customer_segmentation.adapters.dbt_build import (
    DatabaseInUse,
    DatabaseUnreadable,
    in_use_message,
    open_for_build,
    unreadable_message,
)
from customer_segmentation.cli.build import EXIT_IN_USE, EXIT_UNREADABLE

SOURCE_SCHEMA = "tpcxbb"
SOURCE_TABLES: tuple[str, ...] = ("store_sales", "store_returns", "customer")
GENERATION_LOG = "data_generation"


def tpcds_extension_path() -> Path:
    """The tpcds extension file that `duckdb-ext-tpcds` installs for this duckdb version."""
    import duckdb_ext  # installed by duckdb-ext-tpcds; a namespace package

    version = f"v{duckdb.__version__}"
    for root in duckdb_ext.__path__:
        found = sorted(Path(root).glob(f"extensions/{version}/*/tpcds.duckdb_extension"))
        if found:
            return found[0]
    raise RuntimeError(
        f"no tpcds extension for duckdb {duckdb.__version__}: install the duckdb-ext-tpcds "
        "release pinned in requirements.txt (make venv)"
    )


def missing_source_tables(database: Path, schema: str = SOURCE_SCHEMA) -> list[str]:
    """Source tables not present in ``database`` (all of them when the file does not exist)."""
    if not Path(database).exists():
        return list(SOURCE_TABLES)
    with duckdb.connect(str(database), read_only=True) as con:
        present = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
    return [t for t in SOURCE_TABLES if t not in present]


def generate(database: Path, sf: float, schema: str = SOURCE_SCHEMA) -> dict[str, int]:
    """Generate the source tables at scale factor ``sf``; replaces earlier ones in one commit.

    dsdgen writes all 24 TPC-DS tables into a scratch database beside ``database``; only the
    three tpcxbb tables are copied, inside one transaction, so a failure leaves the old data.
    """
    if not sf > 0:
        raise ValueError(f"scale factor must be > 0, got {sf!r}")
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=database.parent, prefix=".dsdgen-") as scratch,
        duckdb.connect(str(database)) as con,
    ):
        con.execute(f"load '{tpcds_extension_path()}'")
        con.execute(f"attach '{Path(scratch) / 'dsdgen.duckdb'}' as dsdgen_scratch")
        con.execute("call dsdgen(sf = ?, catalog = 'dsdgen_scratch')", [sf])
        con.execute("begin transaction")
        con.execute(f'create schema if not exists "{schema}"')
        for table in SOURCE_TABLES:
            con.execute(
                f'create or replace table "{schema}"."{table}" as '
                f"select * from dsdgen_scratch.main.{table}"
            )
        counts = {
            t: con.execute(f'select count(*) from "{schema}"."{t}"').fetchone()[0]
            for t in SOURCE_TABLES
        }
        con.execute(
            f'create or replace table "{schema}"."{GENERATION_LOG}" as '
            "select ?::double as scale_factor, current_timestamp as generated_at",
            [sf],
        )
        con.execute("commit")
        con.execute("detach dsdgen_scratch")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=1.0, help="TPC-DS scale factor (default 1)")
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--schema", default=SOURCE_SCHEMA)
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="only generate when a source table is missing from the database",
    )
    args = parser.parse_args(argv)
    if args.database.exists():
        # `make run` runs this step first: a file another process holds, or one DuckDB cannot
        # open, is refused as the build wrapper refuses it, in one line, not a traceback.
        try:
            open_for_build(args.database).close()
        except DatabaseInUse as in_use:
            print(in_use_message(args.database, in_use.pid), file=sys.stderr)
            return EXIT_IN_USE
        except DatabaseUnreadable as unreadable:
            print(unreadable_message(args.database, str(unreadable)), file=sys.stderr)
            return EXIT_UNREADABLE
    if args.if_missing:
        missing = missing_source_tables(args.database, args.schema)
        if not missing:
            print(f"source data present in {args.database} (schema {args.schema})")
            return 0
        print(f"source tables missing from {args.database}: {', '.join(missing)}")
    started = time.perf_counter()
    try:
        counts = generate(args.database, args.sf, args.schema)
    except duckdb.IOException as exc:
        print(f"cannot write {args.database}: {exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    print(
        f"generated sf={args.sf:g} into {args.database} schema {args.schema} in {took:.1f}s: {rows}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
