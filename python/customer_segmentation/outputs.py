"""Print where `make run` left the output tables, with their row counts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

# What each output table is for; the README says the same.
OUTPUT_TABLES: dict[str, str] = {
    "customer_return_features": "features per customer (order/item/monetary ratio, frequency)",
    "py_customer_clusters": "the tutorial's cluster table: features and cluster per customer",
    "customer_campaign_emails": "campaign e-mail list, one row per customer to mail",
    "cluster_email_coverage": "customers per cluster with and without an e-mail address",
    "campaign_holdout": "the campaign's holdout: mailable customers deliberately not mailed",
    "campaign_list_exclusions": "customers on no list, per campaign, segment and reason",
    "campaign_list_history": "who was on which list when, from which model run (SCD2)",
    "customer_segments": "segment id, name, campaign, distance and outlier flag per customer",
    "segment_model_runs": "the model registry: one row per training run, with its metrics",
    "segment_k_selection": "inertia, silhouette and Davies-Bouldin per k (make plots)",
}
# Built on demand (selector `on_demand`), not by `make run`: what builds each.
ON_DEMAND: dict[str, str] = {"segment_k_selection": "make plots"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--schema", default="main")
    args = parser.parse_args(argv)
    with duckdb.connect(str(args.database), read_only=True) as con:
        print(f"Output tables in {args.database.resolve()} (schema {args.schema}):")
        for table, purpose in OUTPUT_TABLES.items():
            try:
                rows = con.execute(f'select count(*) from "{args.schema}"."{table}"').fetchone()[0]
            except duckdb.CatalogException:
                if table in ON_DEMAND:
                    print(f"  {table:<26} on demand: `{ON_DEMAND[table]}` builds it")
                else:
                    print(f"  {table:<26} MISSING")
                continue
            print(f"  {table:<26} {rows:>9,} rows  {purpose}")
    print(f"Open it with: duckdb {args.database} (or any BI tool with a DuckDB driver)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
