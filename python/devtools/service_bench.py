"""Bounded load on the scoring endpoint, on loopback: throughput and p50/p99 latency.

    make bench-service      # or: python -m devtools.service_bench --database ...

Starts the service in a subprocess on a free 127.0.0.1 port, waits for /health, then sends
single-row and 1,000-row requests from one client for a fixed number of requests or seconds,
whichever comes first, and stops the service. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

from customer_segmentation.core.features import FEATURE_COLUMNS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_rows(database: Path, n: int) -> list[dict[str, float]]:
    """Real feature rows to send, so scoring does the work it does in production."""
    with duckdb.connect(str(database), read_only=True) as con:
        frame = con.execute(
            f"select {', '.join(FEATURE_COLUMNS)} "
            "from main.customer_return_features order by customer limit ?",
            [n],
        ).df()
    return [{k: float(v) for k, v in row.items()} for row in frame.to_dict("records")]


def measure(client: httpx.Client, body: dict, max_requests: int, max_seconds: float) -> dict:
    latencies = []
    started = time.perf_counter()
    while len(latencies) < max_requests and time.perf_counter() - started < max_seconds:
        t0 = time.perf_counter()
        response = client.post("/score", json=body)
        latencies.append(time.perf_counter() - t0)
        response.raise_for_status()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    rows = len(body["data"])
    return {
        "rows_per_request": rows,
        "requests": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "rows_per_s": len(latencies) * rows / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
    }


def run(database: Path, max_requests: int, max_seconds: float) -> list[dict]:
    key = secrets.token_urlsafe(24)
    port = free_port()
    env = os.environ | {"SEGMENTS_API_KEY": key, "SEGMENTS_DUCKDB_PATH": str(database)}
    server = subprocess.Popen(
        [sys.executable, "-m", "customer_segmentation.cli.serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the service did not become healthy within 60 s")
                time.sleep(0.2)
            rows = sample_rows(database, 1000)
            results = []
            for batch in (rows[:1], rows):
                body = {"data": batch}
                measure(client, body, 20, 5)  # warm-up
                results.append(measure(client, body, max_requests, max_seconds))
            return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def to_markdown(results: list[dict], database: Path) -> str:
    lines = [
        "| rows per request | requests | requests/s | rows/s | p50 ms | p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['rows_per_request']:,} | {r['requests']:,} | {r['requests_per_s']:,.0f} "
            f"| {r['rows_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    head = (
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, one uvicorn worker, one sequential client on loopback, "
        f"model from `{database.name}`."
    )
    return head + "\n\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("segmentation.duckdb"))
    parser.add_argument("--requests", type=int, default=2000, help="at most, per row count")
    parser.add_argument("--seconds", type=float, default=20, help="at most, per row count")
    parser.add_argument("--output", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    results = run(args.database, args.requests, args.seconds)
    table = to_markdown(results, args.database)
    print(json.dumps(results, indent=2))
    print(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("# Scoring endpoint benchmark\n\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
