"""`segmentation-outputs`: where `make run` left the relations the exposures read, with rows.

The list is the manifest's: every model a dbt exposure depends on (models/_exposures.yml),
with its description; a model tagged on_demand says what builds it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from customer_segmentation.adapters.outputs import (
    ON_DEMAND_BUILDER,
    outputs_from_manifest,
    row_counts,
    summary,
)
from customer_segmentation.adapters.project import project_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--schema", default="main")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="dbt's manifest.json (default: target/manifest.json of the project)",
    )
    parser.add_argument("--project-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        manifest = args.manifest or project_dir(args.project_dir) / "target" / "manifest.json"
    except FileNotFoundError as exc:
        print(f"segmentation-outputs: {exc}", file=sys.stderr)
        return 1
    if not manifest.exists():
        print(f"{manifest} does not exist: run `make build` first", file=sys.stderr)
        return 1
    if not args.database.exists():
        print(f"{args.database} does not exist: run `make run` first", file=sys.stderr)
        return 1
    outputs = outputs_from_manifest(manifest)
    if not outputs:
        # Not a failure of the build it follows: say what is missing.
        print(f"no exposure in {manifest} depends on a model: nothing to list", file=sys.stderr)
        return 0
    counts = row_counts(args.database, args.schema, [o.relation for o in outputs])
    width = max(len(o.relation) for o in outputs)
    print(f"Output tables in {args.database.resolve()} (schema {args.schema}):")
    for output in outputs:
        rows = counts[output.relation]
        if rows is not None:
            status = f"{rows:>9,} rows"
        elif output.on_demand:
            status = f"on demand: `{ON_DEMAND_BUILDER}` builds it"
        else:
            status = "MISSING"
        print(f"  {output.relation:<{width}}  {status}  {summary(output.description)}".rstrip())
    print(f"Open it with: duckdb {args.database} (or any BI tool with a DuckDB driver)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
