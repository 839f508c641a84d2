"""Faults of the machinery around the data: work relations left behind, views bound to the
file's name, a corrupt or busy database file, two builds at once, and the scoring endpoint
reading the file while builds write it. Each case says what the build or the service does,
and that nothing published changes when it refuses."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from conftest import DbtProject, build_command, error_messages
from fastapi.testclient import TestClient
from published import assert_checksums_unchanged, relation_checksums
from service_fakes import AUTH, KEY, ManualClock, Registry
from test_sqlserver_builds import (  # noqa: F401 (module-scoped fixtures, used by name)
    WORK_RELATION,
    first_build,
    manifest,
    nightly_build,
)

from customer_segmentation.adapters import http_app
from customer_segmentation.adapters.dbt_build import DatabaseInUse, open_for_build
from customer_segmentation.adapters.duckdb_registry import current_run_id, load_scoring_model
from customer_segmentation.adapters.http_app import Health, create_app
from customer_segmentation.cli import serve
from customer_segmentation.cli.build import EXIT_IN_USE, EXIT_UNREADABLE

pytestmark = pytest.mark.e2e


def work_relations(database: Path) -> list[str]:
    """Every table or view of the file whose name contains dbt_tmp, in any schema."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where contains(table_name, 'dbt_tmp') "
            "union all select schema_name || '.' || view_name from duckdb_views() "
            "where contains(view_name, 'dbt_tmp') order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def twice_built(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The project built on sf=0.01, then built again incrementally (a nightly build), with
    the work relations found after each; the file is only read and copied from."""
    workdir = tmp_path_factory.mktemp("twice_built")
    database = workdir / "segmentation.duckdb"
    shutil.copyfile(small_source_db, database)
    project = DbtProject(database=database, workdir=workdir)
    first = project.invoke("build")
    assert first.success, error_messages(first)
    after_first = work_relations(database)
    second = project.invoke("build")
    assert second.success, error_messages(second)
    return SimpleNamespace(
        project=project,
        after_first=after_first,
        after_incremental=work_relations(database),
        log=(workdir / "logs" / "dbt.log").read_text(),
    )


def copy_of(twice_built, tmp_path: Path, name: str = "segmentation.duckdb") -> DbtProject:
    database = tmp_path / name
    shutil.copyfile(twice_built.project.database, database)
    return DbtProject(database=database, workdir=tmp_path)


# Work relations ------------------------------------------------------------------------


def test_a_first_build_leaves_no_dbt_tmp_relation(twice_built):
    assert twice_built.after_first == []


def test_an_incremental_build_leaves_no_dbt_tmp_relation(twice_built):
    # The Python incremental models (registry, transitions) wrote `<model>__dbt_tmp<time>`.
    assert twice_built.after_incremental == []


def test_builds_that_succeed_drop_their_own_work_tables_before_the_end_of_run_sweep(twice_built):
    # The on-run-end hook is for failed and killed builds; it found nothing to drop here.
    assert "START python incremental model main.segment_model_registry" in twice_built.log
    assert "left behind by a failed or killed build" not in twice_built.log


def test_a_failed_incremental_build_leaves_no_dbt_tmp_relation(twice_built, tmp_path):
    project = copy_of(twice_built, tmp_path)
    leftover = "segment_model_registry__dbt_tmp19990101000000000000"
    with duckdb.connect(str(project.database)) as con:
        # What a killed build leaves, and a target the nightly rows no longer fit: the Python
        # model writes its work table, then the insert into the target fails.
        con.execute(f"create table main.{leftover} as select 1 as run_id")
        con.execute("alter table main.segment_transitions add column sabotaged integer")
    before = relation_checksums(project.database, exclude={leftover})
    result = project.invoke("build", "--select", "segment_transitions")
    assert not result.success
    assert "sabotaged" in error_messages(result)
    assert work_relations(project.database) == []
    # Both were there to drop: the planted one, and the work table of the failed model.
    swept = re.findall(
        r"dropping \S+\.\"(\w+)\", left behind", (tmp_path / "logs/dbt.log").read_text()
    )
    assert leftover in swept
    assert any(name.startswith("segment_transitions__dbt_tmp") for name in swept)
    assert_checksums_unchanged(before, relation_checksums(project.database))


def sqlserver_work_relations(build) -> tuple[set[str], set[str]]:
    """The work relations (`__dbt_` relations, `#` temp tables) a recorded build created,
    and those it dropped or renamed away, by name."""
    created, gone = set(), set()
    for event in build.server.events:
        if WORK_RELATION.search(event.name):
            if event.action in ("create", "rename_to"):
                created.add(event.name)
            elif event.action in ("drop", "rename_away"):
                gone.add(event.name)
    for batch in build.batches():
        created |= {n.lower() for n in re.findall(r"(?:\btable|\binto)\s+\[?(#\w+)", batch, re.I)}
        gone |= {
            n.lower()
            for n in re.findall(r"\bdrop\s+table\s+(?:if\s+exists\s+)?\[?(#\w+)", batch, re.I)
        }
    return created, gone


@pytest.mark.parametrize("name", ["first", "nightly"])
def test_sqlserver_builds_drop_every_work_relation_they_create(name, request):
    build = request.getfixturevalue(f"{name}_build")
    assert build.result.success, build.result.exception
    created, gone = sqlserver_work_relations(build)
    assert created, "the recorded build created no work relation: the check checks nothing"
    assert created - gone == set()
    assert not [r for r in build.server.relation_names() if WORK_RELATION.search(r)]


# Views ---------------------------------------------------------------------------------


def test_every_view_works_in_a_copy_of_the_file_under_another_name(twice_built, tmp_path):
    copy = copy_of(twice_built, tmp_path, "backup-2026-11-24.duckdb")
    with duckdb.connect(str(copy.database), read_only=True) as con:
        views = con.execute(
            "select schema_name, view_name from duckdb_views() "
            "where not internal and database_name = current_database()"
        ).fetchall()
        assert views, "the build made no view"
        for schema, view in views:
            con.execute(f'select count(*) from "{schema}"."{view}"').fetchall()


# The database file ---------------------------------------------------------------------


def random_bytes(twice_built, path: Path) -> None:
    path.write_bytes(random.Random(0).randbytes(1 << 16))


def truncated(twice_built, path: Path) -> None:
    data = twice_built.project.database.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def checksum_mismatch(twice_built, path: Path) -> None:
    """A valid header, damaged blocks: DuckDB says "Corrupt database file ... in block"."""
    data = bytearray(twice_built.project.database.read_bytes())
    noise = random.Random(0)
    for offset in range(3 * 4096 + 100, len(data) - 2000, 1 << 18):
        data[offset : offset + 2000] = noise.randbytes(2000)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [random_bytes, truncated, checksum_mismatch])
def test_a_corrupt_database_file_is_refused_in_one_line_with_exit_3(twice_built, tmp_path, damage):
    database = tmp_path / "segmentation.duckdb"
    damage(twice_built, database)
    before = sha256(database)
    build = subprocess.run(
        build_command(database, tmp_path), capture_output=True, text=True, timeout=120
    )
    assert build.returncode == EXIT_UNREADABLE
    lines = build.stderr.strip().splitlines()
    assert len(lines) == 1, build.stderr
    assert "segmentation.duckdb is not a readable DuckDB database" in lines[0]
    assert "restore it from a backup, or delete it and run `make run`" in lines[0]
    assert "Traceback" not in build.stdout + build.stderr
    assert sha256(database) == before


def test_the_data_step_of_make_run_refuses_a_corrupt_file_in_the_same_line(tmp_path):
    database = tmp_path / "segmentation.duckdb"
    random_bytes(None, database)
    before = sha256(database)
    command = ["-m", "devtools.datagen", "--if-missing", "--database", database]
    datagen = subprocess.run(
        [sys.executable, *map(str, command)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert datagen.returncode == EXIT_UNREADABLE
    assert datagen.stderr.strip().startswith(f"{database} is not a readable DuckDB database")
    assert len(datagen.stderr.strip().splitlines()) == 1
    assert "Traceback" not in datagen.stdout + datagen.stderr
    assert sha256(database) == before


@pytest.mark.parametrize("gap", [0.0, 0.5])
def test_two_builds_started_together_never_print_a_traceback(twice_built, tmp_path, gap):
    project = copy_of(twice_built, tmp_path)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first = subprocess.Popen(
        build_command(project.database, first_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(gap)
    second = subprocess.Popen(
        build_command(project.database, second_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    outcomes = []
    for build in (first, second):
        out, err = build.communicate(timeout=300)
        outcomes.append((build.returncode, out.decode() + err.decode()))
    for returncode, output in outcomes:
        assert "Traceback" not in output
        assert returncode in (0, EXIT_IN_USE), output[-2000:]
        if returncode == EXIT_IN_USE:
            in_use = r"segmentation\.duckdb is in use by another process \(pid \d+\)"
            assert re.search(in_use, output)
    assert 0 in [returncode for returncode, _ in outcomes]
    assert work_relations(project.database) == []


def hold_file(database: Path, seconds: float, read_only: bool = True) -> subprocess.Popen:
    """Another process holding the file open for ``seconds``, once it has printed ready."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; "
            "con = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == 'ro'); "
            "print('ready', flush=True); time.sleep(float(sys.argv[2]))",
            str(database),
            str(seconds),
            "ro" if read_only else "rw",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_build_waits_for_a_reader_to_let_go_of_the_file(tmp_path):
    database = tmp_path / "segmentation.duckdb"
    duckdb.connect(str(database)).close()
    holder = hold_file(database, 1.5)
    try:
        started = time.monotonic()
        open_for_build(database, wait_seconds=10).close()
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert waited > 0.5


def test_a_file_held_longer_than_the_wait_is_in_use_naming_the_process(tmp_path):
    database = tmp_path / "segmentation.duckdb"
    holder = hold_file(database, 60, read_only=False)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseInUse) as in_use:
            open_for_build(database, wait_seconds=1)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert in_use.value.pid == str(holder.pid)
    assert waited >= 1


# The endpoint and the builds -----------------------------------------------------------

# Reads the model as the service does, as often as it can, until the stop file appears;
# prints how many reads got the file and how many found it busy.
READER = """
import sys, time
from pathlib import Path
from customer_segmentation.adapters.duckdb_registry import load_scoring_model
from customer_segmentation.core.serving import RegistryUnavailable
database, stop = Path(sys.argv[1]), Path(sys.argv[2])
read = busy = 0
while not stop.exists():
    try:
        load_scoring_model(database)
        read += 1
    except RegistryUnavailable:
        busy += 1
    time.sleep(0.005)
print(read, busy)
"""


def test_the_endpoint_reading_the_file_fails_none_of_several_back_to_back_builds(
    twice_built, tmp_path
):
    project = copy_of(twice_built, tmp_path)
    database = project.database
    app = create_app(
        lambda: load_scoring_model(database),
        lambda: current_run_id(database),
        KEY,
        reload_seconds=1,
    )
    client = TestClient(app)
    served = client.get("/health").json()
    assert served["status"] == "ok"
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(database), str(stop)], stdout=subprocess.PIPE, text=True
    )
    health: list[tuple[int, str, str | None]] = []
    polling = threading.Event()

    def poll() -> None:
        while not polling.is_set():
            answer = client.get("/health")
            health.append((answer.status_code, answer.json()["status"], answer.json()["run_id"]))
            time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        builds = [
            subprocess.run(
                build_command(database, tmp_path / f"build{i}"),
                capture_output=True,
                text=True,
                timeout=300,
            )
            for i in range(3)
        ]
    finally:
        polling.set()
        poller.join(30)
        stop.touch()
        reads, busy = map(int, reader.communicate(timeout=60)[0].split())
    for build in builds:
        assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
        assert "Traceback" not in build.stdout + build.stderr
    # The reader was in the file between the builds and kept out while they ran.
    assert reads > 0 and busy > 0
    # The service answered throughout with the model it had, stale while a build held the file.
    assert {status for _, status, _ in health} == {"ok", "stale"}
    assert all(code == 200 and run == served["run_id"] for code, _, run in health)
    time.sleep(1)
    assert client.get("/health").json()["status"] == "ok"


# Promises of docs/serving.md that test_service.py does not cover -------------


def test_the_service_listens_on_loopback_unless_told_otherwise(monkeypatch, tmp_path):
    database = tmp_path / "segmentation.duckdb"
    duckdb.connect(str(database)).close()
    monkeypatch.setenv(http_app.API_KEY_ENV, KEY)
    monkeypatch.setenv(http_app.DATABASE_ENV, str(database))
    hosts = []
    monkeypatch.setattr("uvicorn.run", lambda app, host, port, **_: hosts.append((host, port)))
    assert serve.main([]) == 0
    assert serve.main(["--host", "0.0.0.0", "--port", "9000"]) == 0
    assert hosts == [("127.0.0.1", 8000), ("0.0.0.0", 9000)]


def test_the_registry_is_checked_every_five_seconds_by_default():
    registry = Registry()
    clock = ManualClock()
    client = TestClient(create_app(registry.load, registry.current_run, KEY, clock=clock))
    client.get("/health")
    clock.now += 4.9
    client.get("/health")
    assert registry.checks == 1
    clock.now += 0.1
    client.get("/health")
    assert registry.checks == 2


def test_each_read_of_the_registry_lets_go_of_the_file(twice_built, tmp_path):
    database = copy_of(twice_built, tmp_path).database
    load_scoring_model(database)
    current_run_id(database)
    # Another process, as the nightly build is, can take the file for writing at once.
    writer = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", database],
        capture_output=True,
        text=True,
    )
    assert writer.returncode == 0, writer.stderr


def test_only_score_needs_the_key_and_the_open_routes_return_no_customer_data():
    registry = Registry()
    client = TestClient(create_app(registry.load, registry.current_run, KEY))
    routes = set(client.get("/openapi.json").json()["paths"])
    assert routes == {"/score", "/health"}
    assert client.get("/docs").status_code == 200
    health = client.get("/health").json()
    assert set(health) == set(Health.model_fields)
    known_customer = {"data": [{"customer": 100}]}
    assert client.post("/score", json=known_customer).status_code == 401
    assert client.post("/score", json=known_customer, headers=AUTH).status_code == 200
