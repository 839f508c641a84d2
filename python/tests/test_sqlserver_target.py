"""The SQL Server target proven without a server: every model and the stored procedure compile
to T-SQL that parses, the procedure's input query returns the feature model's rows, its
Python script gives the Python model's clusters, and its text is pinned by a golden file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import sqlfluff
import sqlglot
from dbt.cli.main import dbtRunner
from sqlglot import exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlserver_fake import FakeSqlServer, fake_sqlserver

from customer_segmentation import sqlserver_script
from customer_segmentation.clustering import CLUSTER_TABLE_COLUMNS

PROJECT_DIR = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "py_generate_customer_return_clusters.sql"
PROCEDURE_ANALYSIS = "analysis.customer_segmentation.py_generate_customer_return_clusters"
SOURCE_TABLES = [("dbo", "store_sales"), ("dbo", "store_returns"), ("dbo", "customer")]
NOT_A_VIEW_BODY = "customer_clusters_sqlserver"  # `exec <procedure>`, run by procedure_table


def invoke_sqlserver(workdir: Path, *args: str):
    return dbtRunner().invoke(
        [
            *args,
            "--target",
            "sqlserver",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(workdir / "target"),
            "--log-path",
            str(workdir / "logs"),
            "--no-partial-parse",
            "--quiet",
        ]
    )


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
        if node["resource_type"] in ("model", "analysis", "test") and node.get("compiled")
    }


@pytest.fixture(scope="module")
def deploy_batches(default_sqlserver_env, tmp_path_factory) -> list[str]:
    """The batches `dbt run-operation deploy_py_generate_customer_return_clusters` sends."""
    workdir = tmp_path_factory.mktemp("sqlserver_deploy")
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch) as server:
        result = invoke_sqlserver(
            workdir, "run-operation", "deploy_py_generate_customer_return_clusters"
        )
    assert result.success, f"deploy run-operation failed: {result.exception}"
    return server.batches_without_comment()


@pytest.fixture(scope="module")
def cluster_table_run(default_sqlserver_env, tmp_path_factory) -> FakeSqlServer:
    """The batches `dbt run -s customer_clusters_sqlserver` sends to fill py_customer_clusters."""
    workdir = tmp_path_factory.mktemp("sqlserver_run")
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, SOURCE_TABLES) as server:
        result = invoke_sqlserver(workdir, "run", "--select", "customer_clusters_sqlserver")
    assert result.success, f"dbt run --target sqlserver failed: {result.exception}"
    return server


def procedure_text(deploy_batches: list[str]) -> str:
    procedures = [b for b in deploy_batches if "create or alter procedure" in b.lower()]
    assert len(procedures) == 1, f"expected one procedure batch, got {len(procedures)}"
    return procedures[0]


def n_literal(procedure: str, parameter: str) -> str:
    """The value of `@parameter = N'...'` in the procedure, with doubled quotes undone."""
    match = re.search(rf"{parameter} = N'((?:[^']|'')*)'", procedure)
    assert match, f"{parameter} = N'...' not found in the procedure"
    return match.group(1).replace("''", "'")


def assert_parses_as_tsql(sql: str, name: str) -> None:
    try:
        sqlfluff.parse(sql, dialect="tsql")
    except sqlfluff.api.APIParsingError as exc:  # pragma: no cover - the failure message
        pytest.fail(f"{name}: sqlfluff cannot parse it as T-SQL: {exc}")


def to_duckdb(tsql: str) -> str:
    """Transpile T-SQL to DuckDB for the built test database (schema main, its own catalog).

    T-SQL's `float` is float(53), 8 bytes; sqlglot maps it to DuckDB's 4-byte REAL, which
    would round the ratios differently, so it becomes DOUBLE here.
    """
    tree = sqlglot.parse_one(tsql, read="tsql")
    for table in tree.find_all(exp.Table):
        if table.args.get("db"):
            table.set("catalog", None)
            table.set("db", exp.to_identifier("main"))
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.FLOAT:
            data_type.replace(exp.DataType.build("double"))
    return tree.sql(dialect="duckdb")


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
    models = {uid.split(".")[-1]: sql for uid, sql in compiled.items() if uid.startswith("model.")}
    assert "customer_clusters" not in models, "the Python model must be disabled on SQL Server"
    assert {"customer_return_features", "customer_clusters_sqlserver"} <= models.keys()
    for name, sql in models.items():
        if name == NOT_A_VIEW_BODY:
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
        "model.customer_segmentation.cluster_email_coverage",
        "model.customer_segmentation.customer_segments",
        "model.customer_segmentation.int_campaign_recipients_screened",
    ]


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
        if node["resource_type"] in ("model", "seed")
    }
    holding_pii = {relation for relation, _ in pii_columns(manifest)} & schemas.keys()
    assert holding_pii == PII_RELATIONS
    # <target schema>_pii (macros/generate_schema_name.sql); everything else stays in dbo.
    assert {name for name, schema in schemas.items() if schema == "dbo_pii"} == PII_RELATIONS
    assert set(schemas.values()) == {"dbo", "dbo_pii"}
    history = compiled["model.customer_segmentation.campaign_list_history"]
    assert '"tpcxbb_1gb"."dbo_pii"."customer_campaign_emails"' in history


def test_only_the_campaign_role_is_granted_the_pii_models_on_sql_server(manifest):
    grants = {
        node["name"]: node["config"]["grants"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["grants"]
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


def test_procedure_is_deployed_alone_in_its_batch_and_parses_as_tsql(deploy_batches):
    procedure = procedure_text(deploy_batches)
    assert procedure.lower().startswith("create or alter procedure"), procedure[:80]
    assert '"dbo"."py_generate_customer_return_clusters"' in procedure
    assert "@input_data_1_name = N'my_input_data'" in procedure
    assert "@language = N'Python'" in procedure
    assert_parses_as_tsql(procedure, "the procedure")


def test_procedure_declares_the_cluster_tables_columns_and_types(deploy_batches):
    declared = re.search(r"with result sets \(\((.*?)\)\);", procedure_text(deploy_batches), re.S)
    assert declared
    columns = [line.strip().rstrip(",").split() for line in declared.group(1).strip().splitlines()]
    assert columns == [
        ["Customer", "bigint"],
        ["OrderRatio", "float"],
        ["itemsRatio", "float"],
        ["monetaryRatio", "float"],
        ["frequency", "float"],
        ["cluster", "int"],
    ]
    assert [name for name, _ in columns] == list(CLUSTER_TABLE_COLUMNS)


def test_procedure_text_equals_the_reviewed_golden_file(deploy_batches):
    procedure = procedure_text(deploy_batches) + "\n"
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
    features = built_project.query("select * from main.customer_return_features order by 1")
    assert len(features) > 100
    assert list(ours.columns) == list(features.columns)
    pd.testing.assert_frame_equal(ours, features, check_dtype=False, check_exact=True)


def test_procedure_script_gives_the_python_models_cluster_to_every_customer(
    deploy_batches, built_project
):
    procedure = procedure_text(deploy_batches)
    query = to_duckdb(n_literal(procedure, "@input_data_1"))
    script = n_literal(procedure, "@script")
    # As sp_execute_external_script runs it: the script is the module, the input query's
    # rows arrive as the DataFrame my_input_data, the result is read from OutputDataSet.
    namespace = {"__name__": "__main__", "my_input_data": built_project.query(query)}
    exec(compile(script, "<sp_execute_external_script>", "exec"), namespace)
    output = namespace["OutputDataSet"]
    assert list(output.columns) == list(CLUSTER_TABLE_COLUMNS)
    clusters = built_project.query("select Customer, cluster from main.py_customer_clusters")
    expected = clusters.set_index("Customer")["cluster"].sort_index()
    got = output.set_index("Customer")["cluster"].sort_index()
    assert len(got) == len(expected) > 100
    assert got.index.tolist() == expected.index.tolist()
    assert got.tolist() == expected.tolist()


def test_cluster_table_is_replaced_in_one_transaction_after_the_procedure_ran(cluster_table_run):
    main = [b for b in cluster_table_run.batches_without_comment() if "#py_customer_clusters" in b]
    assert len(main) == 1, "expected one batch filling py_customer_clusters"
    sql = main[0]
    assert_parses_as_tsql(sql, "the procedure_table materialization")
    table = '"tpcxbb_1gb"."dbo"."py_customer_clusters"'
    steps = [
        'exec "dbo"."py_generate_customer_return_clusters"',
        "begin transaction",
        f"create table {table}",
        f"delete from {table}",
        f"insert into {table}",
        "commit transaction",
        "rollback transaction",
    ]
    positions = [sql.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the steps run out of order"
    assert "[customer] bigint," in sql.lower() and "[cluster] int\n" in sql.lower()


def test_generated_clustering_script_macro_is_up_to_date():
    wanted = sqlserver_script.render_macro(sqlserver_script.clustering_source())
    assert sqlserver_script.MACRO_PATH.read_text(encoding="utf-8") == wanted, (
        "macros/sqlserver/clustering_script.sql is stale: run `make sqlserver-script`"
    )


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
            "deploy_py_generate_customer_return_clusters",
            "--vars",
            "{n_clusters: four}",
        )
    assert not result.success
    assert not any("procedure" in batch.lower() for batch in server.batches)
    assert "n_clusters must be an integer >= 1, got four" in run_operation_messages(result, capsys)


def test_deploy_refuses_a_target_that_is_not_sql_server(built_project, capsys):
    result = built_project.invoke("run-operation", "deploy_py_generate_customer_return_clusters")
    assert not result.success
    assert "Use --target sqlserver" in run_operation_messages(result, capsys)
