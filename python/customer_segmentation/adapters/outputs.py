"""The project's outputs, read from dbt's manifest: the models and snapshots its exposures
depend on (seeds are inputs, not outputs).

The exposures (the BI dashboard, the mailer, the scoring endpoint, the tutorial's apps) say
which relations someone outside dbt reads; each model's description, alias and tags come with
it. A model tagged `on_demand` is built by `make plots`, not by `make run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

ON_DEMAND_TAG = "on_demand"
# What dbt builds and someone outside it reads: models and snapshots (the lists' history).
OUTPUT_RESOURCE_TYPES = ("model.", "snapshot.")
ON_DEMAND_BUILDER = "make plots"


@dataclass(frozen=True)
class Output:
    """One relation an exposure reads."""

    model: str
    relation: str
    description: str
    exposures: tuple[str, ...]
    on_demand: bool


def outputs_from_manifest(manifest_path: Path) -> list[Output]:
    """Every model or snapshot an exposure depends on, in relation-name order, with the
    exposures that read it."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    readers: dict[str, list[str]] = {}
    for exposure in manifest.get("exposures", {}).values():
        for node_id in exposure.get("depends_on", {}).get("nodes", []):
            if node_id.startswith(OUTPUT_RESOURCE_TYPES):
                readers.setdefault(node_id, []).append(exposure["name"])
    outputs = []
    for node_id, exposures in readers.items():
        node = manifest["nodes"][node_id]
        outputs.append(
            Output(
                model=node["name"],
                relation=node.get("alias") or node["name"],
                description=" ".join((node.get("description") or "").split()),
                exposures=tuple(sorted(exposures)),
                on_demand=ON_DEMAND_TAG in (node.get("tags") or []),
            )
        )
    return sorted(outputs, key=lambda output: output.relation)


def summary(description: str, width: int = 100) -> str:
    """The first sentence of a description, cut at a word to at most ``width`` characters:
    a listing line, not the docs site (which has the whole text)."""
    sentence = description.split(". ")[0].rstrip(".")
    if len(sentence) <= width:
        return sentence
    return sentence[: width - 1].rsplit(" ", 1)[0] + "…"


def row_counts(database: Path, schema: str, relations: list[str]) -> dict[str, int | None]:
    """Rows of each relation in the DuckDB file, None for a relation that does not exist."""
    counts: dict[str, int | None] = {}
    quoted_schema = _quoted(schema)
    with duckdb.connect(str(database), read_only=True) as con:
        for relation in relations:
            try:
                counts[relation] = con.execute(
                    f"select count(*) from {quoted_schema}.{_quoted(relation)}"
                ).fetchone()[0]
            except duckdb.CatalogException:
                counts[relation] = None
    return counts


def _quoted(identifier: str) -> str:
    """A DuckDB identifier in double quotes, any quote in it doubled."""
    return '"' + identifier.replace('"', '""') + '"'
