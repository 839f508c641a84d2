"""The SQL Server target proven without a server: every model and the stored procedures compile
to T-SQL that parses, the procedures' input query returns the feature model's rows, the
materialization fills the tables in the right order, and the tutorial's procedure is pinned
by a golden file. test_sqlserver_procedures.py runs their scripts in the ML Services emulator."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlfluff
import sqlglot
import yaml
from conftest import PROJECT_DIR, error_messages
from dbt.cli.main import dbtRunner
from sqlglot import exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlserver_fake import SOURCE_TABLES, FakeSqlServer, fake_sqlserver, invoke_sqlserver
from sqlserver_procedures import (
    deployed_batches,
    n_literal,
    procedure_text,
    result_set,
    to_duckdb,
)

from customer_segmentation.adapters import sqlserver_script
from customer_segmentation.core.features import (
    CLUSTER_TABLE_COLUMNS,
    CUSTOMER_KEY,
    FEATURE_COLUMNS,
)

GOLDEN = (
    PROJECT_DIR
    / "python"
    / "tests"
    / "support"
    / "golden"
    / "py_generate_customer_return_clusters.sql"
)
PROCEDURE_ANALYSIS = "analysis.customer_segmentation.py_generate_customer_return_clusters"
# `exec <procedure>`, run by the procedure_table materialization.
NOT_A_VIEW_BODY = {
    "customer_clusters_sqlserver",
    "segment_model_registry_sqlserver",
    "segment_transitions_sqlserver",
}


@pytest.fixture(scope="module")
def compile_workdir(default_sqlserver_env, tmp_path_factory) -> Path:
    """Where `dbt compile --target sqlserver` wrote the compiled SQL and the manifest."""
    workdir = tmp_path_factory.mktemp("sqlserver_compile")
    result = invoke_sqlserver(workdir, "compile", "--no-introspect", "--no-populate-cache")
    assert result.success, f"dbt compile --target sqlserver failed: {result.exception}"
    return workdir


@pytest.fixture(scope="module")
def manifest(compile_workdir) -> dict:
    """The manifest of the SQL Server compile: nodes with their schema, config and columns."""
    return json.loads((compile_workdir / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def compiled(manifest) -> dict[str, str]:
    """Compiled SQL of every model, analysis and data test for SQL Server, by unique id."""
    return {
        uid: node["compiled_code"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot", "analysis", "test")
        and node.get("compiled")
    }


@pytest.fixture(scope="module")
def deploy_batches(default_sqlserver_env, tmp_path_factory) -> list[str]:
    """The batches `dbt run-operation deploy_segment_model_procedures` sends."""
    return deployed_batches(tmp_path_factory.mktemp("sqlserver_deploy"))


@pytest.fixture(scope="module")
def cluster_table_run(default_sqlserver_env, tmp_path_factory) -> FakeSqlServer:
    """The batches `dbt run -s customer_clusters_sqlserver` sends to fill py_customer_clusters."""
    workdir = tmp_path_factory.mktemp("sqlserver_run")
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, SOURCE_TABLES) as server:
        result = invoke_sqlserver(workdir, "run", "--select", "customer_clusters_sqlserver")
    assert result.success, f"dbt run --target sqlserver failed: {result.exception}"
    return server


def assert_parses_as_tsql(sql: str, name: str) -> None:
    try:
        sqlfluff.parse(sql, dialect="tsql")
    except sqlfluff.api.APIParsingError as exc:  # pragma: no cover - the failure message
        pytest.fail(f"{name}: sqlfluff cannot parse it as T-SQL: {exc}")


def assert_one_select_legal_in_a_view(sql: str, name: str) -> None:
    """dbt-sqlserver wraps table models and data tests in CREATE VIEW: one SELECT, no
    top-level ORDER BY, no WITH nested in a CTE."""
    assert_parses_as_tsql(sql, name)
    statements = [s for s in sqlglot.parse(sql, read="tsql") if s is not None]
    assert len(statements) == 1, f"{name}: {len(statements)} statements"
    select = statements[0]
    assert isinstance(select, exp.Select), f"{name} is not a SELECT"
    assert select.args.get("order") is None, f"{name} has a top-level ORDER BY"
    for cte in select.find_all(exp.CTE):
        assert cte.this.args.get("with") is None, f"{name}: nested WITH in {cte.alias}"


def test_every_model_compiles_for_sql_server_as_tsql_legal_in_a_view(compiled):
    # dbt-sqlserver builds a snapshot from a view of its query too.
    models = {
        uid.split(".")[-1]: sql
        for uid, sql in compiled.items()
        if uid.startswith(("model.", "snapshot."))
    }
    assert "customer_clusters" not in models, "the Python model must be disabled on SQL Server"
    assert {
        "customer_return_features",
        "customer_clusters_sqlserver",
        "campaign_list_history",
    } <= models.keys()
    for name, sql in models.items():
        if name in NOT_A_VIEW_BODY:
            assert_parses_as_tsql(sql, name)
            statement = sqlglot.parse_one(sql, read="tsql")
            assert isinstance(statement, exp.Execute), f"{name} must only exec the procedure"
        else:
            assert_one_select_legal_in_a_view(sql, name)


def test_every_data_test_compiles_for_sql_server_as_tsql_legal_in_a_view(compiled):
    tests = {uid: sql for uid, sql in compiled.items() if uid.startswith("test.")}
    assert any("assert_every_featured_customer_is_clustered" in uid for uid in tests)
    assert any("customer_clusters_sqlserver" in uid for uid in tests)
    for uid, sql in tests.items():
        assert_one_select_legal_in_a_view(sql, uid)


def test_downstream_models_read_the_procedures_cluster_table_on_sql_server(compiled):
    readers = [
        uid
        for uid, sql in compiled.items()
        if '"tpcxbb_1gb"."dbo"."py_customer_clusters"' in sql and uid.startswith("model.")
    ]
    # Every model downstream of the clusters reads them, directly or through these.
    assert sorted(readers) == [
        "model.customer_segmentation.customer_segments",
        "model.customer_segmentation.int_campaign_recipients_screened",
    ]


PROCEDURES = (
    "py_generate_customer_return_clusters",
    "py_train_customer_segment_model",
    "py_segment_transitions",
)


def pii_columns(manifest: dict) -> set[tuple[str, str]]:
    """(relation, column) of every column tagged `meta: {pii: true}`, sources included."""
    return {
        (node.get("alias") or node["identifier"], name)
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        for name, column in node.get("columns", {}).items()
        if column.get("meta", {}).get("pii") or column.get("config", {}).get("meta", {}).get("pii")
    }


def relation_columns(manifest: dict) -> dict:
    """sqlglot's schema of every relation of the manifest: database, schema, relation, the
    columns its YAML declares (so that `select *` can be expanded)."""
    schema: dict = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] in ("model", "seed", "source") and node.get("columns"):
            relation = node.get("alias") or node["identifier"]
            tables = schema.setdefault(node["database"], {}).setdefault(node["schema"], {})
            tables[relation] = {name: "varchar" for name in node["columns"]}
    return schema


def _inside(column: exp.Expression, kinds: tuple[type, ...], root: exp.Expression) -> bool:
    node = column
    while node is not None:
        if isinstance(node, kinds):
            return True
        if node is root:
            return False
        node = node.parent
    return False


def _only_counted(expression: exp.Expression, column_name: str) -> bool:
    """Whether ``expression`` uses the column only to count it or test it for NULL."""
    table, _, name = column_name.rpartition(".")
    uses = [
        column
        for column in expression.find_all(exp.Column)
        if column.name == name.strip('"') and column.table in ("", table.strip('"'))
    ]
    return bool(uses) and all(_inside(use, (exp.Count, exp.Is), expression) for use in uses)


def values_carrying(sql: str, schema: dict, sensitive: set[tuple[str, str]]) -> dict[str, str]:
    """The output columns of the T-SQL ``sql`` whose values carry a sensitive (relation,
    column), each with the one it carries, followed through CTEs with sqlglot's lineage.
    Counting a column or testing it for NULL carries none of its value."""
    # Relations the schema does not describe (none holds PII) keep their columns unresolved.
    tree = qualify(
        sqlglot.parse_one(sql, read="tsql"),
        schema=schema,
        dialect="tsql",
        validate_qualify_columns=False,
    )
    carried: dict[str, str] = {}
    for output in tree.named_selects:
        pending = [lineage(output, tree, schema=schema, dialect="tsql")]
        while pending and output not in carried:
            node = pending.pop()
            source = (node.expression.name, node.name.rpartition(".")[2].strip('"'))
            if isinstance(node.expression, exp.Table) and source in sensitive:
                carried[output] = ".".join(source)
            pending.extend(
                child for child in node.downstream if not _only_counted(node.expression, child.name)
            )
    return carried


PII_RELATIONS = {
    "stg_tpcxbb__customers",
    "int_campaign_recipients_screened",
    "customer_campaign_emails",
    "campaign_holdout",
    "campaign_list_history",
    "email_opt_outs",
}


def test_every_relation_holding_pii_lands_in_the_pii_schema_on_sql_server(manifest, compiled):
    schemas = {
        node["name"]: node["schema"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    holding_pii = {relation for relation, _ in pii_columns(manifest)} & schemas.keys()
    assert holding_pii == PII_RELATIONS
    # <target schema>_pii (macros/dbt_overrides/generate_schema_name.sql); everything else
    # stays in dbo.
    assert {name for name, schema in schemas.items() if schema == "dbo_pii"} == PII_RELATIONS
    assert set(schemas.values()) == {"dbo", "dbo_pii"}
    history = compiled["snapshot.customer_segmentation.campaign_list_history"]
    assert '"tpcxbb_1gb"."dbo_pii"."customer_campaign_emails"' in history


def test_only_the_campaign_role_is_granted_the_pii_models_on_sql_server(manifest):
    grants = {
        node["name"]: node["config"]["grants"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot") and node["config"]["grants"]
    }
    assert grants == {
        name: {"select": ["campaign_mailer"]} for name in PII_RELATIONS - {"email_opt_outs"}
    }


def readers_of_pii(manifest: dict) -> set[str]:
    """Unique ids of the models that read PII, directly or through other models."""
    holding = {relation for relation, _ in pii_columns(manifest)}
    pending = [
        uid
        for uid, node in [*manifest["nodes"].items(), *manifest["sources"].items()]
        if (node.get("alias") or node.get("identifier")) in holding
    ]
    readers: set[str] = set()
    while pending:
        for child in manifest["child_map"].get(pending.pop(), []):
            if child.startswith("model.") and child not in readers:
                readers.add(child)
                pending.append(child)
    return readers


def test_no_model_outside_the_pii_schema_carries_pii_in_its_columns(manifest):
    schema = relation_columns(manifest)
    sensitive = pii_columns(manifest)
    outside = {
        manifest["nodes"][uid]["name"]: manifest["nodes"][uid]["compiled_code"]
        for uid in readers_of_pii(manifest)
        if manifest["nodes"][uid]["schema"] != "dbo_pii"
    }
    # Models that read no PII cannot carry any; these two read it only to count customers.
    assert outside.keys() == {"cluster_email_coverage", "campaign_list_exclusions"}
    carried = {name: values_carrying(sql, schema, sensitive) for name, sql in outside.items()}
    assert carried == {"cluster_email_coverage": {}, "campaign_list_exclusions": {}}
    listed = manifest["nodes"]["model.customer_segmentation.customer_campaign_emails"]
    assert values_carrying(listed["compiled_code"], schema, sensitive) == {
        "c_email_address": "int_campaign_recipients_screened.email_address"
    }


@pytest.mark.parametrize(
    ("select", "carried"),
    [
        ("c.email_address as contact", {"contact": "customers.email_address"}),
        ("lower(ltrim(c.email_address)) as contact", {"contact": "customers.email_address"}),
        ("max(c.email_address) as last_address", {"last_address": "customers.email_address"}),
        ("count(c.email_address) as with_address", {}),
        ("sum(case when c.email_address is null then 1 else 0 end) as without_address", {}),
        ("c.customer_sk", {}),
    ],
)
def test_a_column_carries_pii_unless_it_only_counts_it(select, carried):
    schema = {"db": {"pii": {"customers": {"customer_sk": "int", "email_address": "varchar"}}}}
    sql = (
        f"with c as (select * from db.pii.customers) select {select} from c group by c.customer_sk"
    )
    sensitive = {("customers", "email_address")}
    assert values_carrying(sql, schema, sensitive) == carried


@pytest.mark.parametrize("name", PROCEDURES)
def test_each_procedure_is_deployed_alone_in_its_batch_and_parses_as_tsql(deploy_batches, name):
    procedure = procedure_text(deploy_batches, name)
    assert "@input_data_1_name = N'my_input_data'" in procedure
    assert "@language = N'Python'" in procedure
    assert_parses_as_tsql(procedure, name)


@pytest.mark.parametrize("name", PROCEDURES)
def test_each_procedure_names_the_setting_before_it_runs_python(deploy_batches, name):
    procedure = procedure_text(deploy_batches, name)
    checks = [
        "serverproperty('IsAdvancedAnalyticsInstalled')",
        "name = N'external scripts enabled'",
        "exec sp_execute_external_script",
    ]
    positions = [procedure.find(check) for check in checks]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "''external scripts enabled'' is 0" in procedure


@pytest.mark.parametrize(
    "name", ["py_generate_customer_return_clusters", "py_train_customer_segment_model"]
)
def test_a_pinned_run_that_does_not_exist_stops_the_procedure_listing_the_known_runs(
    deploy_batches, name
):
    procedure = procedure_text(deploy_batches, name)
    check = procedure.find("is not in the model registry (runs: ")
    assert check != -1, "no unknown-run message"
    assert "string_agg(cast(runs.run_id as nvarchar(20))" in procedure
    assert check < procedure.find("exec sp_execute_external_script")


def test_procedure_declares_the_cluster_tables_columns_and_types(deploy_batches):
    columns = result_set(procedure_text(deploy_batches))
    assert columns == [
        ("Customer", "bigint"),
        ("OrderRatio", "float"),
        ("itemsRatio", "float"),
        ("monetaryRatio", "float"),
        ("frequency", "float"),
        ("cluster", "int"),
    ]
    assert [name for name, _ in columns] == list(CLUSTER_TABLE_COLUMNS)


def without_script(procedure: str) -> str:
    """The procedure with its @script literal elided: the script is the generated macro,
    pinned by its staleness test and run by the emulator, not copied a third time here."""
    script = procedure.index("@script = N'") + len("@script = N'")
    end = procedure.index("',\n        @input_data_1 = N'", script)
    return procedure[:script] + "<segment_model_script() + the procedure's call>" + procedure[end:]


def test_procedure_text_equals_the_reviewed_golden_file(deploy_batches):
    procedure = without_script(procedure_text(deploy_batches)) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(procedure, encoding="utf-8")
    assert GOLDEN.exists(), "no golden file: run `make golden` and review the diff"
    assert procedure == GOLDEN.read_text(encoding="utf-8"), (
        "the generated procedure changed: run `make golden` and review the diff of "
        f"{GOLDEN.relative_to(PROJECT_DIR)}"
    )


def test_procedure_input_query_returns_the_feature_models_rows(deploy_batches, built_project):
    query = to_duckdb(n_literal(procedure_text(deploy_batches), "@input_data_1"))
    ours = built_project.query(f"select * from ({query}) order by customer")
    # The feature table's columns but the build stamp, which the tutorial's query has no use for.
    features = built_project.query(
        "select * exclude (refreshed_at) from main.customer_return_features order by 1"
    )
    assert len(features) > 100
    assert list(ours.columns) == list(features.columns)
    pd.testing.assert_frame_equal(ours, features, check_dtype=False, check_exact=True)


def steps_in_order(sql: str, steps: list[str]) -> None:
    positions = [sql.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the steps run out of order"


def test_cluster_table_is_replaced_in_one_transaction_after_the_procedure_ran(cluster_table_run):
    batches = cluster_table_run.batches_without_comment()
    table = '"tpcxbb_1gb"."dbo"."py_customer_clusters"'
    deploy = next(i for i, b in enumerate(batches) if b.startswith("create or alter procedure"))
    assert '"dbo"."py_generate_customer_return_clusters"' in batches[deploy].split("\n")[0]
    create = next(i for i, b in enumerate(batches) if f"create table {table}" in b)
    main = [i for i, b in enumerate(batches) if "#py_customer_clusters" in b]
    assert len(main) == 1, "expected one batch filling py_customer_clusters"
    assert deploy < create < main[0], "deploy, then create if missing, then fill"
    sql = batches[main[0]]
    assert_parses_as_tsql(sql, "the procedure_table materialization")
    steps_in_order(
        sql,
        [
            "set xact_abort on",
            'exec "dbo"."py_generate_customer_return_clusters"',
            "begin transaction",
            f"delete from {table}",
            f"insert into {table}",
            "commit transaction",
            "rollback transaction",
        ],
    )
    assert "[customer] bigint," in batches[create].lower()
    assert "[cluster] int\n" in batches[create].lower()


def test_registry_rows_are_appended_never_deleted_even_on_full_refresh(
    default_sqlserver_env, tmp_path
):
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, SOURCE_TABLES) as server:
        result = invoke_sqlserver(
            tmp_path, "run", "--select", "segment_model_registry_sqlserver", "--full-refresh"
        )
    assert result.success, f"dbt run --target sqlserver failed: {result.exception}"
    registry = '"tpcxbb_1gb"."dbo"."segment_model_registry"'
    main = [b for b in server.batches_without_comment() if "#segment_model_registry" in b]
    assert len(main) == 1
    assert_parses_as_tsql(main[0], "the registry's procedure_table batch")
    steps_in_order(
        main[0],
        [
            'exec "dbo"."py_train_customer_segment_model"',
            "@full_refresh = 1",
            "begin transaction",
            f"insert into {registry}",
            "commit transaction",
        ],
    )
    assert f"delete from {registry}" not in main[0]
    assert f"drop table if exists {registry}" not in main[0]


def test_generated_macro_file_is_up_to_date():
    assert sqlserver_script.stale_reason(PROJECT_DIR) is None


def test_a_missing_or_stale_generated_file_is_named_with_the_command_that_fixes_it(tmp_path):
    reason = sqlserver_script.stale_reason(tmp_path)
    assert "segment_model_core.sql is missing: run `make sqlserver-script`" in reason
    path = tmp_path / sqlserver_script.GENERATED_MACROS
    path.parent.mkdir(parents=True)
    path.write_text(sqlserver_script.wanted_macros().replace("orderRatio", "ordreRatio"))
    assert "is stale" in sqlserver_script.stale_reason(tmp_path)
    assert sqlserver_script.write_macros(tmp_path)
    assert sqlserver_script.stale_reason(tmp_path) is None


def test_the_generated_feature_macro_is_the_cores_feature_list():
    text = (PROJECT_DIR / sqlserver_script.GENERATED_MACROS).read_text(encoding="utf-8")
    listed = re.search(
        r"macro generated_segment_features\(\) -%}\s*{{ return\((\[.*?\])\) }}", text
    )
    assert listed, "generated_segment_features() not found in the generated file"
    assert ast.literal_eval(listed.group(1)) == list(FEATURE_COLUMNS)


def test_the_yaml_columns_of_customer_return_features_are_the_cores_features():
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for node in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            if node["name"] == "customer_return_features":
                columns = [c["name"] for c in node["columns"]]
                # The key, the core's features in its order, then the build stamp.
                assert columns == [CUSTOMER_KEY, *FEATURE_COLUMNS, "refreshed_at"]
                return
    raise AssertionError("customer_return_features has no YAML")


def test_dbt_without_the_generated_file_says_how_to_write_it(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(
            ".*", "python", "target", "logs", "bench", "*.duckdb", "generated"
        ),
    )
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--no-partial-parse",
            "--quiet",
        ]
    )
    assert not result.success
    assert "segment_model_core.sql is missing" in str(result.exception)
    assert "make venv" in str(result.exception)


def run_operation_messages(result, capsys: pytest.CaptureFixture[str]) -> str:
    """A failed run-operation's message: dbt prints it rather than returning it."""
    parts = [str(result.exception or ""), capsys.readouterr().out]
    for node in getattr(result.result, "results", None) or []:
        parts.append(str(getattr(node, "message", "") or ""))
    return "\n".join(parts)


def test_a_bad_k_stops_the_deploy_with_a_message_naming_the_var(
    default_sqlserver_env, tmp_path, monkeypatch, capsys
):
    with fake_sqlserver(monkeypatch) as server:
        result = invoke_sqlserver(
            tmp_path,
            "run-operation",
            "deploy_segment_model_procedures",
            "--vars",
            "{n_clusters: four}",
        )
    assert not result.success
    assert not any("procedure" in batch.lower() for batch in server.batches)
    messages = run_operation_messages(result, capsys)
    assert "var n_clusters=four is not allowed: use an integer >= 1" in messages


def test_deploy_refuses_a_target_that_is_not_sql_server(built_project, capsys):
    result = built_project.invoke("run-operation", "deploy_segment_model_procedures")
    assert not result.success
    assert "Use --target sqlserver" in run_operation_messages(result, capsys)


def test_a_failing_script_stops_the_build_naming_the_setting_before_the_table_is_touched(
    default_sqlserver_env, tmp_path
):
    # What the procedure throws when external scripts are off (see ml_services_checks).
    message = (
        "Msg 50002: external scripts are disabled: the server configuration option "
        "'external scripts enabled' is 0"
    )
    exec_call = 'exec "dbo"."py_generate_customer_return_clusters"'
    with (
        pytest.MonkeyPatch.context() as patch,
        fake_sqlserver(patch, SOURCE_TABLES, errors={exec_call: message}) as server,
    ):
        result = invoke_sqlserver(tmp_path, "run", "--select", "customer_clusters_sqlserver")
    assert not result.success
    assert "'external scripts enabled' is 0" in error_messages(result)
    batches = server.batches_without_comment()
    failed = next(i for i, b in enumerate(batches) if exec_call in b and "#py_customer" in b)
    table = '"tpcxbb_1gb"."dbo"."py_customer_clusters"'
    # Nothing after the failed batch writes to or grants on the table, and in the failed
    # batch XACT_ABORT ends everything at the procedure call, before the first change.
    assert not [b for b in batches[failed + 1 :] if table in b]
    sql = batches[failed]
    assert sql.find("set xact_abort on") < sql.find(exec_call) < sql.find(f"delete from {table}")
