"""Append one new business day of store sales and returns to the tpcxbb source tables.

What a nightly load does to the sources, made from the data itself so the incremental models
and the benchmark have a realistic new day to process: the sales and return lines of one
existing day are copied with the date key moved one day past the latest date in either table,
and their ticket numbers moved past the largest ticket number, so every copied line is new
and the (ticket, item) keys stay unique. Customers, items and amounts are kept, so the day
touches existing customers the way a real day would.

    python -m devtools.append_day --database segmentation.duckdb
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from devtools.datagen import SOURCE_SCHEMA


@dataclass(frozen=True)
class AppendedDay:
    """What `append_day` inserted: the template day, the new date key and the line counts."""

    template_date_sk: int
    new_date_sk: int
    ticket_offset: int
    sales_lines: int
    return_lines: int


def append_day(
    con: duckdb.DuckDBPyConnection,
    schema: str = SOURCE_SCHEMA,
    template_date_sk: int | None = None,
) -> AppendedDay:
    """Copy the sales and returns of ``template_date_sk`` (default: the latest sales day) as
    a new day, in one transaction; return what was inserted.

    Sales lines of the template day (``ss_sold_date_sk``) and return lines of the same day
    (``sr_returned_date_sk``) get the new date key; both get ``ticket + max ticket``.
    """
    sales = f'"{schema}"."store_sales"'
    returns = f'"{schema}"."store_returns"'
    max_sold, max_returned, max_ticket = con.execute(
        f"select (select max(ss_sold_date_sk) from {sales}), "
        f"(select max(sr_returned_date_sk) from {returns}), "
        f"greatest((select max(ss_ticket_number) from {sales}), "
        f"(select max(sr_ticket_number) from {returns}))"
    ).fetchone()
    if max_sold is None or max_ticket is None:
        raise ValueError(f"{sales} has no dated sales to copy a day from")
    template = max_sold if template_date_sk is None else int(template_date_sk)
    new_date = max(max_sold, max_returned or max_sold) + 1
    con.execute("begin transaction")
    try:
        sales_lines = con.execute(
            f"insert into {sales} by name "
            f"select * replace (? as ss_sold_date_sk, ss_ticket_number + ? as ss_ticket_number) "
            f"from {sales} where ss_sold_date_sk = ?",
            [new_date, max_ticket, template],
        ).fetchone()[0]
        if sales_lines == 0:
            raise ValueError(f"{sales} has no lines on date key {template} to copy")
        return_lines = con.execute(
            f"insert into {returns} by name "
            f"select * replace (? as sr_returned_date_sk, "
            f"sr_ticket_number + ? as sr_ticket_number) "
            f"from {returns} where sr_returned_date_sk = ?",
            [new_date, max_ticket, template],
        ).fetchone()[0]
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return AppendedDay(
        template_date_sk=int(template),
        new_date_sk=int(new_date),
        ticket_offset=int(max_ticket),
        sales_lines=int(sales_lines),
        return_lines=int(return_lines),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--schema", default=SOURCE_SCHEMA)
    parser.add_argument("--template-date-sk", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print what was appended as JSON")
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"no database at {args.database}: generate it with `make data`", file=sys.stderr)
        return 1
    with duckdb.connect(str(args.database)) as con:
        day = append_day(con, args.schema, args.template_date_sk)
    if args.json:
        print(json.dumps(asdict(day)))
        return 0
    print(
        f"appended date key {day.new_date_sk} (copy of {day.template_date_sk}) to "
        f"{args.database}: {day.sales_lines:,} sales lines, {day.return_lines:,} return lines"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
