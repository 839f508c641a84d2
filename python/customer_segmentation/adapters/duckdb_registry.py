"""Read the current model out of the registry in the DuckDB file, for the scoring endpoint.

Each read opens the file read-only and closes it at once: DuckDB admits no writer while any
process holds the file, and the nightly `dbt build` must be able to write the next model.
A file that is missing, busy or unreadable raises `RegistryUnavailable` with a reason that
names no path (the endpoint shows it to clients); the original error is its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from customer_segmentation.core.current_run import select_run
from customer_segmentation.core.features import CUSTOMER_KEY
from customer_segmentation.core.registry import clusterer_from_rows
from customer_segmentation.core.serving import RegistryUnavailable, ScoringModel

SCHEMA = "main"
REGISTRY_TABLE = "segment_model_registry"
# One row per run with is_current = 1 for the run the last dbt build serves (latest, or the
# run pinned by the model_run_id var).
RUNS_TABLE = "segment_model_runs"
SEGMENTS_TABLE = "segments"
FEATURES_TABLE = "customer_return_features"


@contextmanager
def _connect(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, closed on leaving the block."""
    if not Path(database).exists():
        raise RegistryUnavailable("the database file does not exist: run `make run` first")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as exc:
        reason = f"the database file cannot be opened, busy or unreadable ({type(exc).__name__})"
        raise RegistryUnavailable(reason) from exc
    with con:
        try:
            yield con
        except duckdb.Error as exc:
            raise RegistryUnavailable(
                f"the registry cannot be read ({type(exc).__name__})"
            ) from exc


def current_run_id(database: Path) -> str | None:
    """The run id the last dbt build made current, None while the registry is empty."""
    with _connect(database) as con:
        row = con.execute(
            f"select max(run_id) from {SCHEMA}.{RUNS_TABLE} where is_current = 1"
        ).fetchone()
    return None if row[0] is None else str(row[0])


def load_scoring_model(database: Path) -> ScoringModel:
    """The current run's model, its segment names and the known customers, read at once."""
    with _connect(database) as con:
        (run_id,) = con.execute(
            f"select max(run_id) from {SCHEMA}.{RUNS_TABLE} where is_current = 1"
        ).fetchone()
        registry = con.execute(f"select * from {SCHEMA}.{REGISTRY_TABLE}").df()
        names = con.execute(
            f"select segment_id, segment_name from {SCHEMA}.{SEGMENTS_TABLE}"
        ).fetchall()
        customers = con.execute(f"select * from {SCHEMA}.{FEATURES_TABLE}").df()
    rows = select_run(registry, None if run_id is None else int(run_id))
    return ScoringModel(
        run_id=str(int(rows["run_id"].iloc[0])),
        clusterer=clusterer_from_rows(rows),
        segment_names={int(k): str(v) for k, v in names},
        customer_features=customers.set_index(CUSTOMER_KEY),
    )
