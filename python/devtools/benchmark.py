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

The ratios are given as measured and net of (f), since no dbt build can take less than (f),
and checked against the issue's targets (``TARGETS``). For (c) the report lists the rows each
model touched: those stamped with (c)'s `refreshed_at`, every row of a table rebuilt in full,
none of a view. The default scale factors are 1, 10 and 30 (about 86 million sales lines),
one run each; ``--skip`` leaves out the optional steps (b'), (c'), (d), (e).

Every step runs in a subprocess whose own wall time and peak resident memory are taken
(GNU time); each figure is the median of ``--runs`` runs, each run on a fresh copy of the
sources. The results go to a Markdown file (default ``docs/benchmarks.md``).

    python -m devtools.benchmark --sf 1 10 30 --runs 1 --workdir bench
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

DEFAULT_SCALE_FACTORS = [1.0, 10.0, 30.0]
DEFAULT_SCORING_MODEL = "customer_segment_scores"
# Steps a run may leave out (--skip): the like-for-like and diagnostic ones.
OPTIONAL_STEPS = ("b_run", "c_run", "d", "e")
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


@dataclass(frozen=True)
class TouchedRows:
    """What one model's relation holds after (c), and how much of it (c) wrote."""

    model: str
    materialized: str
    touched: int | None
    total: int | None


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


def touched_rows(database: Path, target: Path) -> list[TouchedRows]:
    """The rows each model of the last dbt invocation wrote, read after it finished: rows
    stamped with its `refreshed_at` (its start, which a build without failures logs in
    `source_table_builds`), all rows of a table rebuilt in full, none of a view."""
    manifest = json.loads((target / "manifest.json").read_text())
    ran = set(node_times(target))
    models = sorted(
        (
            n
            for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["unique_id"] in ran
        ),
        key=lambda n: n["name"],
    )
    rows = []
    with duckdb.connect(str(database), read_only=True) as con:
        (stamp,) = con.execute("select max(built_at) from main.source_table_builds").fetchone()
        for node in models:
            materialized = node["config"]["materialized"]
            if materialized == "view":
                rows.append(TouchedRows(node["name"], materialized, 0, None))
                continue
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            columns = {
                name.lower()
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [node["schema"], node["alias"]],
                ).fetchall()
            }
            (total,) = con.execute(f"select count(*) from {relation}").fetchone()
            if "refreshed_at" in columns and stamp is not None:
                (touched,) = con.execute(
                    f"select count(*) from {relation} where refreshed_at = cast(? as timestamp)",
                    [stamp],
                ).fetchone()
            elif materialized == "table":
                touched = total
            else:
                touched = None
            rows.append(TouchedRows(node["name"], materialized, touched, total))
    return rows


def benchmark_sf(
    sf: float,
    runs: int,
    workdir: Path,
    scoring_model: str,
    skip: tuple[str, ...] = (),
    sources_dir: Path | None = None,
) -> dict:
    """Every step at one scale factor; returns the results and the data's row counts. The
    sources are read from (or generated once into) ``sources_dir``, default ``workdir``;
    everything the steps write goes to ``workdir``."""
    label = f"sf{sf:g}"
    sources = (sources_dir or workdir) / f"{label}.duckdb"
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
    touched: list[TouchedRows] = []
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
        if "b_run" not in skip or "c_run" not in skip:
            steps["b_run"].runs.append(measure([*dbt, "run", "--full-refresh", *dbt_args], env))
            append(work)
            steps["c_run"].runs.append(measure([*dbt, "run", *dbt_args], env))
            shutil.copyfile(sources, work)
        steps["b"].runs.append(measure([*dbt, "build", "--full-refresh", *dbt_args], env))
        steps["b"].node_times = node_times(target)
        appended = append(work)
        steps["c"].runs.append(measure([*dbt, "build", *dbt_args], env))
        steps["c"].node_times = node_times(target)
        # Before any later step writes: (c)'s stamp is the latest build logged.
        touched = touched_rows(work, target)
        if "d" not in skip:
            steps["d"].runs.append(measure([*dbt, "run", "-s", scoring_model, *dbt_args], env))
        steps["f"].runs.append(measure([*dbt, "run", "-s", FLOOR_MODEL, *dbt_args], env))
        # Last: new vars make dbt parse the project again, as they would for a user.
        if "e" not in skip:
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
        "steps": {key: step for key, step in steps.items() if step.runs},
        "touched": touched,
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
        "memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "3GB (the profiles.yml default)"),
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


def _wall(steps: dict[str, StepResult], key: str) -> float | None:
    step = steps.get(key)
    return step.wall_s if step is not None and step.runs else None


def net_of_floor(steps: dict[str, StepResult], key: str) -> float:
    """A dbt step's wall time minus dbt's floor (f): what the project's own work took."""
    floor = _wall(steps, "f") or 0.0
    return steps[key].wall_s - floor


def project_peak(steps: dict[str, StepResult]) -> float:
    """The highest peak memory of the project's steps (every step but the tutorial's)."""
    return max(step.peak_rss for key, step in steps.items() if key != "a" and step.runs)


def ratio_row(sf: float, steps: dict[str, StepResult]) -> str:
    """One row of the ratios table: each build against the tutorial (a), as measured and net
    of dbt's floor (f), and the peak memory of the project's steps."""
    a = steps["a"].wall_s
    b, c = steps["b"].wall_s, steps["c"].wall_s
    b_run, c_run = _wall(steps, "b_run"), _wall(steps, "c_run")
    return (
        f"| {sf:g} | {_ratio(b, a)} | {_ratio(c, a)} | {_ratio(net_of_floor(steps, 'b'), a)} | "
        f"{_ratio(net_of_floor(steps, 'c'), a)} | "
        f"{_ratio(net_of_floor(steps, 'c'), net_of_floor(steps, 'b'))} | "
        f"{_ratio(b_run, a) if b_run is not None else '-'} | "
        f"{_ratio(c_run, b_run) if c_run is not None and b_run else '-'} | "
        f"{project_peak(steps) / GIB:.2f} GiB |"
    )


@dataclass(frozen=True)
class TargetCheck:
    """One of the issue's targets at the scale factor(s) it applies to, as measured."""

    target: str
    measured: float
    bound: float

    @property
    def met(self) -> bool:
        return self.measured <= self.bound


def target_checks(results: dict[float, dict[str, StepResult]]) -> list[TargetCheck]:
    """The issue's targets that the measured scale factors allow: at sf=30 (c) <= 0.5 x (a),
    (b) <= 1.5 x (a) and peak memory <= 4 GiB; at sf=10 (c)-(f) <= 1.0 x (a); (c)-(f) at most
    1.3 times larger at sf=30 than at sf=10."""
    checks = []
    sf10, sf30 = results.get(10.0), results.get(30.0)
    if sf30 is not None:
        a = sf30["a"].wall_s
        checks += [
            TargetCheck("sf=30: (c) <= 0.5 x (a)", sf30["c"].wall_s / a, 0.5),
            TargetCheck("sf=30: (b) <= 1.5 x (a)", sf30["b"].wall_s / a, 1.5),
            TargetCheck("sf=30: peak memory <= 4 GiB", project_peak(sf30) / GIB, 4.0),
        ]
    if sf10 is not None:
        checks.append(
            TargetCheck(
                "sf=10: (c)-(f) <= 1.0 x (a)", net_of_floor(sf10, "c") / sf10["a"].wall_s, 1.0
            )
        )
    if sf10 is not None and sf30 is not None:
        checks.append(
            TargetCheck(
                "(c)-(f) grows <= 1.3x from sf=10 to sf=30",
                net_of_floor(sf30, "c") / net_of_floor(sf10, "c"),
                1.3,
            )
        )
    return checks


def target_row(check: TargetCheck) -> str:
    unit = " GiB" if "GiB" in check.target else ""
    return (
        f"| {check.target} | {check.measured:.2f}{unit} | {check.bound:g}{unit} | "
        f"{'met' if check.met else 'missed'} |"
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
        f"- DuckDB memory limit (`DUCKDB_MEMORY_LIMIT`): {info['memory_limit']}",
        f"- Each figure: {'one run' if runs == 1 else f'median of {runs} runs'}; "
        "wall time of the whole process (start-up, "
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
        "## Ratios",
        "",
        "Net of (f): each dbt step minus dbt's fixed cost (f), what the project's own work "
        "takes. Peak: the highest of the project's steps, (b) to (f).",
        "",
        "| sf | (b)/(a) | (c)/(a) | (b-f)/(a) | (c-f)/(a) | (c-f)/(b-f) | (b')/(a) | (c')/(b') "
        "| peak |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [ratio_row(r["sf"], r["steps"]) for r in results]
    checks = target_checks({r["sf"]: r["steps"] for r in results})
    lines += [
        "",
        "## Targets",
        "",
        "The issue's targets, where the measured scale factors allow (sf=10 and sf=30).",
        "",
        "| target | measured | bound | |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [target_row(check) for check in checks] or ["| (no sf=10 or sf=30 run) | | | |"]
    lines += [
        "",
        "## Rows each model touched in the nightly build (c), last run",
        "",
        "Rows stamped with (c)'s `refreshed_at`; a table rebuilt in full: all its rows; a "
        "view: none; `-`: an incremental model without `refreshed_at`.",
        "",
        "| sf | model | materialized | rows touched | rows in the table |",
        "| ---: | --- | --- | ---: | ---: |",
    ]
    for r in results:
        for row in r.get("touched", []):
            touched = f"{row.touched:,}" if row.touched is not None else "-"
            total = f"{row.total:,}" if row.total is not None else "-"
            lines.append(
                f"| {r['sf']:g} | `{row.model}` | {row.materialized} | {touched} | {total} |"
            )
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
            if key not in r["steps"]:
                continue
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
    parser.add_argument("--sf", type=float, nargs="+", default=DEFAULT_SCALE_FACTORS)
    parser.add_argument("--runs", type=int, default=1, help="runs per figure (median)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=OPTIONAL_STEPS,
        help="optional steps to leave out (b_run and c_run go together)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("bench"))
    parser.add_argument(
        "--sources-dir",
        type=Path,
        help="where sf<N>.duckdb are kept, read only once generated (default: --workdir)",
    )
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
    skip = tuple(args.skip)
    results = [
        benchmark_sf(sf, args.runs, args.workdir, args.scoring_model, skip, args.sources_dir)
        for sf in args.sf
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = render(results, args.runs, machine_info(), existing_notes(args.output))
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
