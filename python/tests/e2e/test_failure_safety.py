"""A failed, killed or concurrent build never leaves the lists or the cluster table broken."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest
from conftest import build_command

pytestmark = pytest.mark.e2e

# The tables a mailer or BI tool reads, each with a column that orders its rows.
PUBLISHED = {
    "py_customer_clusters": "Customer",
    "customer_campaign_emails": "c_customer_sk",
    "campaign_holdout": "c_customer_sk",
    "campaign_list_exclusions": "cluster, exclusion_reason",
    "campaign_list_history": "campaign_name, list_name, c_customer_sk, valid_from",
}


def published_tables(project) -> dict[str, pd.DataFrame]:
    return {
        table: project.query(f"select * from main.{table} order by {order}")
        for table, order in PUBLISHED.items()
    }


def assert_unchanged(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for table, frame in before.items():
        pd.testing.assert_frame_equal(after[table], frame, obj=table)


def dbt_build_command(project, *args: str) -> list[str]:
    return build_command(project.database, project.workdir, *args, suffix="-sub")


def test_a_build_killed_while_clustering_leaves_the_previous_tables(make_project):
    project = make_project()
    assert project.invoke("build").success
    before = published_tables(project)
    # A build that would change every published table: other k, other campaign. Many k-means
    # initialisations keep it clustering long enough to be killed in the middle.
    build = subprocess.Popen(
        dbt_build_command(
            project, "--vars", "{n_clusters: 3, n_init: 5000, campaign_name: killed}"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = project.workdir / "logs-sub" / "dbt.log"
    deadline = time.monotonic() + 120
    try:
        # Training (n_init k-means runs) happens in the registry model, before the clusters.
        while "START python incremental model main.segment_model_registry" not in (
            log.read_text() if log.exists() else ""
        ):
            assert build.poll() is None, "the build ended before clustering started"
            assert time.monotonic() < deadline, "clustering never started"
            time.sleep(0.2)
        time.sleep(1)
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
    assert build.returncode == -signal.SIGKILL
    assert "OK created sql view model main.stg_tpcxbb__customers" in log.read_text()
    assert_unchanged(before, published_tables(project))


def test_a_second_build_on_a_database_in_use_says_so_and_exits_2(make_project):
    project = make_project()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(120)",
            str(project.database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        second = subprocess.run(
            dbt_build_command(project), capture_output=True, text=True, timeout=120
        )
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 2
    assert (
        f"segmentation.duckdb is in use by another process (pid {holder.pid}): "
        "wait for it to finish" in second.stderr
    )
    assert "Traceback" not in second.stderr + second.stdout


def test_a_failed_source_test_stops_the_lists_from_being_rebuilt(make_project):
    project = make_project()
    assert project.invoke("build").success
    before = published_tables(project)
    with duckdb.connect(str(project.database)) as con:
        # A customer loaded twice: every list would hold the customer twice.
        con.execute(
            "insert into tpcxbb.customer select * from tpcxbb.customer "
            "where c_customer_sk = (select min(c_customer_sk) from main.customer_campaign_emails)"
        )
    result = project.invoke("build")
    assert not result.success
    status = {r.node.name: str(r.status) for r in result.result.results}
    assert status["source_unique_tpcxbb_customer_c_customer_sk"] == "fail"
    lists = ["customer_campaign_emails", "campaign_holdout", "campaign_list_history"]
    for model in ["stg_tpcxbb__customers", "int_campaign_recipients_screened", *lists]:
        assert status[model] == "skipped", model
    after = published_tables(project)
    assert_unchanged({t: before[t] for t in lists}, after)
