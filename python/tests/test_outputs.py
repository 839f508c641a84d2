"""`make run`'s listing of the output tables."""

from __future__ import annotations

import duckdb

from customer_segmentation.outputs import main


def test_listing_counts_rows_says_what_builds_on_demand_tables_and_flags_missing_ones(
    tmp_path, capsys
):
    database = tmp_path / "out.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table main.py_customer_clusters as select 1 as Customer")
    assert main(["--database", str(database)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert "1 rows" in lines["py_customer_clusters"]
    assert "on demand: `make plots` builds it" in lines["segment_k_selection"]
    assert lines["customer_campaign_emails"].endswith("MISSING")
