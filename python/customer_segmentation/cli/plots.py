"""`segmentation-plots`: PNGs of the elbow curve (with silhouette and Davies-Bouldin) and of
the segment profiles, from the DuckDB file `make plots` builds (needs the `plots` extra)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--schema", default="main")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    import duckdb

    from customer_segmentation.adapters.plots import read_plot_tables, write_plots

    if not args.database.exists():
        print(f"{args.database} does not exist: run `make run` first", file=sys.stderr)
        return 1
    try:
        k_table, centroids = read_plot_tables(args.database, args.schema)
    except duckdb.CatalogException as exc:
        print(f"segment tables missing ({exc}): run `make build` first", file=sys.stderr)
        return 1
    for path in write_plots(k_table, centroids, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
