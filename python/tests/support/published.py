"""Checksums of what a build publishes, for the fault suite: a refused or failed build must
leave every published table byte-for-byte as it was."""

from __future__ import annotations

import duckdb

# Relations a build may change without publishing anything: the model registry records
# rejected runs as evidence, and dbt's own bookkeeping.
NOT_PUBLISHED: frozenset[str] = frozenset()


def relation_checksums(database, exclude: frozenset[str] | set[str] = NOT_PUBLISHED) -> dict:
    """md5 of every base table of the project's schemas (sources excluded), rows in a fixed
    order, keyed by ``schema.table``: equal checksums mean equal rows, types and values."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema <> 'tpcxbb' "
            "order by all"
        ).fetchall()
        checksums = {}
        for schema, table in tables:
            if table in exclude:
                continue
            (digest,) = con.execute(
                f"select md5(coalesce(string_agg(cast(t as varchar), chr(10) "
                f"order by cast(t as varchar)), '')) || ':' || count(*) "
                f'from "{schema}"."{table}" as t'
            ).fetchone()
            checksums[f"{schema}.{table}"] = digest
    return checksums


def assert_checksums_unchanged(before: dict, after: dict) -> None:
    """Every relation of ``before`` is still there with the same checksum."""
    changed = {
        name: (digest, after.get(name))
        for name, digest in before.items()
        if after.get(name) != digest
    }
    assert not changed, f"published tables changed: {sorted(changed)}"
