"""`segmentation-serve`: the real-time scoring endpoint over HTTP (needs the `serve` extra).

    SEGMENTS_API_KEY=... segmentation-serve [--host 127.0.0.1] [--port 8000]     # or: make serve

The key, the DuckDB file and the limits come from the environment (SEGMENTS_*); the app is
`customer_segmentation.adapters.http_app`, the model is read by `adapters.duckdb_registry`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from customer_segmentation.adapters.http_app import (
    API_KEY_ENV,
    DATABASE_ENV,
    MAX_BATCH_ENV,
    MAX_BODY_ENV,
    RELOAD_INTERVAL_ENV,
    create_app,
    log_config,
)


def settings_from_env() -> tuple[str, Path, dict[str, Any]]:
    """API key, database and create_app's limits from the environment; create_app checks them."""
    api_key = os.environ.get(API_KEY_ENV, "")
    if not api_key:
        raise SystemExit(f"set {API_KEY_ENV} to the key clients must send (Bearer token)")
    database = Path(os.environ.get(DATABASE_ENV, "segmentation.duckdb"))
    limits: dict[str, Any] = {}
    for name, env, parse in (
        ("max_batch", MAX_BATCH_ENV, int),
        ("reload_seconds", RELOAD_INTERVAL_ENV, float),
        ("max_body_bytes", MAX_BODY_ENV, int),
    ):
        if env in os.environ:
            try:
                limits[name] = parse(os.environ[env])
            except ValueError as exc:
                raise SystemExit(f"{env}: {exc}") from exc
    return api_key, database, limits


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from customer_segmentation.adapters.duckdb_registry import current_run_id, load_scoring_model

    parser = argparse.ArgumentParser(description="Serve segment scoring over HTTP.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback unless told otherwise")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    api_key, database, limits = settings_from_env()
    try:
        app = create_app(
            loader=lambda: load_scoring_model(database),
            current_run=lambda: current_run_id(database),
            api_key=api_key,
            **limits,
        )
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    if not database.exists():
        print(f"{database} does not exist: run `make run` first", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", log_config=log_config())
    return 0


if __name__ == "__main__":
    sys.exit(main())
