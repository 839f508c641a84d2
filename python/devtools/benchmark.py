"""Benchmark the project against the tutorial's own pipeline at several TPC-DS scale factors.

For each scale factor, on its own DuckDB file under ``--workdir`` (generated once, kept):

(a) the tutorial's pipeline as one Python process: its feature query on DuckDB, pandas,
    ``KMeans(n_clusters=4, random_state=111, n_init=10)``;
(b) ``dbt build --full-refresh`` of this project (models, Python model, every test), and
    (b') ``dbt run --full-refresh``, the models alone, like for like with the tutorial;
(c) ``dbt build`` after one new day of sales and returns is appended (`append_day`), and
    (c') ``dbt run`` after the same day, the models alone;
(d) ``dbt run`` of the in-SQL scoring model, when the project has one;
(e) ``dbt build --vars '{retrain: true}'`` after another new day: the scheduled retrain,
    which a nightly build (c) leaves out unless the model is old or no longer fits;
(f) ``dbt run`` of one staging view: what any dbt invocation of the project costs (start-up,
    partial parse, hooks, artifacts), the floor under (b) to (e).

The ratios are given as measured and net of (f), since no dbt build can take less than (f).
The default scale factors are 0.01, 1 and 10: at sf=0.01 (914 customers) the data work is
next to nothing, so its figures are what dbt's start-up and its per-node overhead cost.

Every step runs in a subprocess whose own wall time and peak resident memory are taken
(``os.wait4``); each figure is the median of ``--runs`` runs, each run on a fresh copy of the
sources. The results go to a Markdown file (default ``docs/benchmarks.md``).

    python -m devtools.benchmark --sf 0.01 1 10 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from customer_segmentation.adapters.project import project_dir
from devtools.append_day import AppendedDay
from devtools.datagen import SOURCE_SCHEMA, SOURCE_TABLES

DEFAULT_SCORING_MODEL = "customer_segment_scores"
# The cheapest node of the project (a view over the customer table): its run is dbt's floor.
FLOOR_MODEL = "stg_tpcxbb__customers"
NOTES_MARKER = "<!-- Notes below this line are written by hand and kept by `make bench`. -->"
GIB = 1024**3
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measurement:
    """One subprocess: wall seconds and peak resident set size in bytes."""

    wall_s: float
    peak_rss: int


@dataclass
class StepResult:
    """All runs of one step, and the dbt node timings of its last run."""

    name: str
    runs: list[Measurement] = field(default_factory=list)
    node_times: dict[str, float] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return statistics.median(m.wall_s for m in self.runs)

    @property
    def peak_rss(self) -> float:
        return statistics.median(m.peak_rss for m in self.runs)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
    """Run ``cmd`` to completion; its wall time and its own peak RSS.

    The peak comes from GNU time (``%M``, KiB): a child's ``ru_maxrss`` also counts the
    parent's memory it was spawned from, so the tiny ``time`` process stands in between.
    """
    with tempfile.NamedTemporaryFile(suffix=".maxrss") as maxrss:
        started = time.perf_counter()
        proc = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", maxrss.name, *cmd],
            env=env,
            cwd=project_dir(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            tail = proc.stdout.decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{tail}")
        peak_kib = int(Path(maxrss.name).read_text().split()[-1])
    return Measurement(wall_s=wall, peak_rss=peak_kib * 1024)


def run_tutorial(database: Path) -> None:
    """The tutorial's pipeline, what step (a) times in its own process."""
    from devtools.tutorial import tutorial_clusters, tutorial_features

    with duckdb.connect(str(database), read_only=True) as con:
        features = tutorial_features(con)
    clusters = tutorial_clusters(features)
    print(f"tutorial pipeline: {len(clusters):,} customers clustered")


def append(database: Path) -> AppendedDay:
    """Append one day in a subprocess, so this process never holds DuckDB's memory."""
    module = ["-m", "devtools.append_day"]
    proc = subprocess.run(
        [sys.executable, *module, "--database", str(database), "--json"],
        capture_output=True,
        check=True,
        text=True,
    )
    return AppendedDay(**json.loads(proc.stdout.strip().splitlines()[-1]))


def source_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            t: con.execute(f'select count(*) from "{SOURCE_SCHEMA}"."{t}"').fetchone()[0]
            for t in SOURCE_TABLES
        }


def node_times(target: Path) -> dict[str, float]:
    """Execution time of every node of the last dbt invocation, from run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: float(r["execution_time"]) for r in results}


def benchmark_sf(sf: float, runs: int, workdir: Path, scoring_model: str) -> dict:
    """Every step at one scale factor; returns the results and the data's row counts."""
    label = f"sf{sf:g}"
    sources = workdir / f"{label}.duckdb"
    if not sources.exists():
        print(f"[{label}] generating sources with dsdgen (once; kept in {sources})", flush=True)
        datagen = ["-m", "devtools.datagen", "--sf", f"{sf:g}"]
        subprocess.run(
            [sys.executable, *datagen, "--database", str(sources)],
            check=True,
        )
    work = workdir / f"{label}-work.duckdb"
    target = workdir / f"target-{label}"
    env = {
        **os.environ,
        "TPCXBB_DUCKDB_PATH": str(work.resolve()),
        "DBT_PROFILES_DIR": str(project_dir()),
        "DBT_PROJECT_DIR": str(project_dir()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = [str(Path(sys.executable).parent / "dbt")]
    dbt_args = ["--target-path", str(target), "--log-path", str(workdir / "logs"), "--quiet"]
    steps = {
        key: StepResult(name)
        for key, name in [
            ("a", "(a) tutorial pipeline, one Python process"),
            ("b", "(b) `dbt build --full-refresh`"),
            ("b_run", "(b') `dbt run --full-refresh`: models only, no tests"),
            ("c", "(c) `dbt build` after one new day"),
            ("c_run", "(c') `dbt run` after one new day: models only"),
            ("d", f"(d) `dbt run -s {scoring_model}` (in-SQL scoring)"),
            ("e", "(e) `dbt build --vars '{retrain: true}'` after another day (the retrain)"),
            ("f", f"(f) `dbt run -s {FLOOR_MODEL}`: dbt's fixed cost"),
        ]
    }
    appended = None
    # Parse once, untimed: a nightly job runs with dbt's partial-parse state in place.
    shutil.copyfile(sources, work)
    measure([*dbt, "parse", *dbt_args], env)
    for run in range(1, runs + 1):
        print(f"[{label}] run {run}/{runs}", flush=True)
        tutorial = ["-m", "devtools.benchmark", "--tutorial", str(sources)]
        steps["a"].runs.append(measure([sys.executable, *tutorial]))
        shutil.copyfile(sources, work)
        # Untimed: seeds (segment names, opt-outs) are loaded once, not on every nightly run;
        # `dbt run` does not load them and the models read them. `dbt build` below does both.
        measure([*dbt, "seed", *dbt_args], env)
        steps["b_run"].runs.append(measure([*dbt, "run", "--full-refresh", *dbt_args], env))
        append(work)
        steps["c_run"].runs.append(measure([*dbt, "run", *dbt_args], env))
        shutil.copyfile(sources, work)
        steps["b"].runs.append(measure([*dbt, "build", "--full-refresh", *dbt_args], env))
        steps["b"].node_times = node_times(target)
        appended = append(work)
        steps["c"].runs.append(measure([*dbt, "build", *dbt_args], env))
        steps["c"].node_times = node_times(target)
        steps["d"].runs.append(measure([*dbt, "run", "-s", scoring_model, *dbt_args], env))
        steps["f"].runs.append(measure([*dbt, "run", "-s", FLOOR_MODEL, *dbt_args], env))
        # Last: new vars make dbt parse the project again, as they would for a user.
        append(work)
        retrain = ["build", "--vars", "{retrain: true}"]
        steps["e"].runs.append(measure([*dbt, *retrain, *dbt_args], env))
        steps["e"].node_times = node_times(target)
        for step in steps.values():
            if step.runs:
                print(f"  {step.name}: {step.runs[-1]}", flush=True)
    with duckdb.connect(str(work), read_only=True) as con:
        customers = con.execute("select count(*) from main.customer_return_features").fetchone()[0]
    work.unlink(missing_ok=True)
    return {
        "sf": sf,
        "counts": source_counts(sources),
        "customers_featured": customers,
        "appended": appended,
        "steps": steps,
    }


def machine_info() -> dict[str, str]:
    mem_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ["dbt-core", "dbt-duckdb", "duckdb", "pandas", "scikit-learn"]
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} logical cores ({platform.processor() or platform.machine()})",
        "ram": f"{mem_kib / 1024**2:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def _s(seconds: float) -> str:
    return f"{seconds:.1f}"


def _mib(nbytes: float) -> str:
    return f"{nbytes / 1024**2:,.0f}"


def _node_group(unique_id: str) -> str:
    kind, _, rest = unique_id.partition(".")
    name = rest.split(".")[1] if "." in rest else rest
    if kind in ("model", "snapshot"):
        return f"{kind} `{name}`"
    if kind == "unit_test":
        return "unit tests"
    if kind == "test":
        return "data tests on sources" if "source_" in name else "data tests on models"
    return kind


def grouped_times(times: dict[str, float]) -> dict[str, float]:
    grouped: dict[str, float] = {}
    for uid, seconds in times.items():
        group = _node_group(uid)
        grouped[group] = grouped.get(group, 0.0) + seconds
    return dict(sorted(grouped.items(), key=lambda kv: -kv[1]))


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator > 0 else "-"


def ratio_row(sf: float, steps: dict[str, StepResult]) -> str:
    """One row of the ratios table: the targets as measured, and net of dbt's fixed cost."""
    a, b, c = steps["a"].wall_s, steps["b"].wall_s, steps["c"].wall_s
    floor = steps["f"].wall_s if steps.get("f") and steps["f"].runs else 0.0
    peak = max(step.peak_rss for step in steps.values() if step.runs)
    return (
        f"| {sf:g} | {_ratio(b, a)} | {'met' if b <= 1.5 * a else 'missed'} | {_ratio(c, b)} | "
        f"{'met' if c <= 0.2 * b else 'missed'} | {peak / GIB:.2f} GiB | "
        f"{'met' if peak < 4 * GIB else 'missed'} | {_ratio(b - floor, a)} | "
        f"{_ratio(c - floor, b - floor)} | {_ratio(steps['b_run'].wall_s, a)} | "
        f"{_ratio(steps['c_run'].wall_s, steps['b_run'].wall_s)} |"
    )


def render(results: list[dict], runs: int, info: dict[str, str], notes: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m devtools.benchmark`); "
        "do not edit above the notes marker.",
        "",
        f"- Date: {info['date']}",
        f"- Machine: {info['cpu']}, {info['ram']} RAM, {info['os']}, Python {info['python']}",
        f"- Versions: {info['versions']}",
        f"- Each figure: median of {runs} runs; wall time of the whole process (start-up, "
        "dbt parsing, every test included) and its own peak resident memory (`ru_maxrss`).",
        "- The machine is shared with other jobs, so wall times are noisy: compare ratios "
        "and orders of magnitude, not the last decimal.",
        "",
        "## Data",
        "",
        "| sf | store_sales | store_returns | customer | customers featured | appended day |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        c, day = r["counts"], r["appended"]
        lines.append(
            f"| {r['sf']:g} | {c['store_sales']:,} | {c['store_returns']:,} | "
            f"{c['customer']:,} | {r['customers_featured']:,} | "
            f"{day.sales_lines:,} sales + {day.return_lines:,} return lines "
            f"(copy of date key {day.template_date_sk}) |"
        )
    lines += [
        "",
        "## Results",
        "",
        "| sf | step | wall s | peak MiB | wall s of each run |",
        "| ---: | --- | ---: | ---: | --- |",
    ]
    for r in results:
        for step in r["steps"].values():
            each = ", ".join(_s(m.wall_s) for m in step.runs)
            lines.append(
                f"| {r['sf']:g} | {step.name} | {_s(step.wall_s)} | {_mib(step.peak_rss)} "
                f"| {each} |"
            )
    lines += [
        "",
        "## Ratios and targets",
        "",
        "Net of (f): each dbt step minus dbt's fixed cost (f), what the project's own work takes.",
        "",
        "| sf | (b)/(a) | target <= 1.5 | (c)/(b) | target <= 0.2 | peak of all steps "
        "| target < 4 GiB | (b-f)/(a) | (c-f)/(b-f) | (b')/(a) | (c')/(b') |",
        "| ---: | ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [ratio_row(r["sf"], r["steps"]) for r in results]
    lines += [
        "",
        "## Where dbt's time goes (node execution time, last run)",
        "",
        "Sum of each node's own execution time from `run_results.json`; with 2 threads "
        "nodes overlap, and dbt start-up and parsing are not in it.",
        "",
        "| sf | step | node(s) | seconds |",
        "| ---: | --- | --- | ---: |",
    ]
    for r in results:
        for key in ["b", "c", "e"]:
            step = r["steps"][key]
            for group, seconds in grouped_times(step.node_times).items():
                lines.append(f"| {r['sf']:g} | {step.name[:3]} | {group} | {seconds:.2f} |")
    lines += ["", NOTES_MARKER, ""]
    return "\n".join(lines) + (notes.strip() + "\n" if notes.strip() else "")


def existing_notes(output: Path) -> str:
    if not output.exists():
        return ""
    text = output.read_text()
    return text.split(NOTES_MARKER, 1)[1] if NOTES_MARKER in text else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, nargs="+", default=[0.01, 1.0, 10.0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--workdir", type=Path, default=Path("bench"))
    parser.add_argument("--output", type=Path, default=Path("docs") / "benchmarks.md")
    parser.add_argument("--scoring-model", default=DEFAULT_SCORING_MODEL)
    parser.add_argument("--tutorial", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tutorial:
        run_tutorial(args.tutorial)
        return 0
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    if any(not sf > 0 for sf in args.sf):
        parser.error(f"every --sf must be > 0, got {args.sf}")
    if not Path(GNU_TIME).exists():
        parser.error(f"{GNU_TIME} (GNU time) is needed to take each step's peak memory")
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = [benchmark_sf(sf, args.runs, args.workdir, args.scoring_model) for sf in args.sf]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = render(results, args.runs, machine_info(), existing_notes(args.output))
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
