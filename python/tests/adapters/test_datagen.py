"""The source-data generator: the three tables, replaced and never duplicated."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from devtools.datagen import SOURCE_TABLES, generate, main, missing_source_tables


def counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            t: con.execute(f"select count(*) from tpcxbb.{t}").fetchone()[0] for t in SOURCE_TABLES
        }


def test_generated_tables_sit_in_their_own_schema(small_source_db):
    assert missing_source_tables(small_source_db) == []
    assert all(n > 0 for n in counts(small_source_db).values())


def test_regenerating_replaces_rather_than_appends(small_source_db, tmp_path):
    database = tmp_path / "again.duckdb"
    shutil.copyfile(small_source_db, database)
    before = counts(database)
    generate(database, 0.01)
    assert counts(database) == before


def test_missing_file_reports_every_table_missing(tmp_path):
    assert missing_source_tables(tmp_path / "nothing.duckdb") == list(SOURCE_TABLES)


def test_if_missing_leaves_present_data_alone(small_source_db, tmp_path, capsys):
    database = tmp_path / "present.duckdb"
    shutil.copyfile(small_source_db, database)
    with duckdb.connect(str(database)) as con:
        con.execute("delete from tpcxbb.customer where c_customer_sk = 1")
    before = counts(database)
    assert main(["--if-missing", "--database", str(database)]) == 0
    assert counts(database) == before
    assert "source data present" in capsys.readouterr().out


@pytest.mark.parametrize("sf", [0, -1])
def test_non_positive_scale_factor_is_rejected(tmp_path, sf):
    with pytest.raises(ValueError, match="scale factor must be > 0"):
        generate(tmp_path / "x.duckdb", sf)
