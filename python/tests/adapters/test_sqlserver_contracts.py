"""Every declared column type exists in T-SQL as written: dbt-sqlserver writes a contract's
`data_type` into its DDL and casts, so a type only DuckDB knows fails the build there, and a
string type without a length does not mean what it says (a bare `varchar` is `varchar(1)` in
T-SQL DDL; dbt-sqlserver's own aliasing turns it into `VARCHAR(8000)`)."""

from __future__ import annotations

import json
import re

import pytest
from sqlserver_fake import invoke_sqlserver

# Types DuckDB has and T-SQL has not, or has as something else (`text` is a deprecated LOB).
NOT_TSQL = {"boolean", "bool", "double", "text", "string"}
# String types that T-SQL sizes to 1 character (or the adapter to 8000) without a length.
NEEDS_LENGTH = re.compile(r"n?(var)?char|character( varying)?|national char(acter)?( varying)?")


def tsql_type_problem(data_type: str) -> str | None:
    """Why ``data_type`` cannot stand in T-SQL DDL as written, or None when it can."""
    normalised = " ".join(data_type.lower().split())
    if normalised in NOT_TSQL:
        return f"{data_type} is not a T-SQL type"
    if NEEDS_LENGTH.fullmatch(normalised):
        return f"{data_type} needs a length in T-SQL, e.g. {normalised}(50)"
    return None


@pytest.fixture(scope="module")
def sqlserver_manifest(default_sqlserver_env, tmp_path_factory) -> dict:
    """The manifest of the SQL Server target: models enabled there, columns as declared."""
    workdir = tmp_path_factory.mktemp("sqlserver_parse")
    result = invoke_sqlserver(workdir, "parse")
    assert result.success, f"dbt parse --target sqlserver failed: {result.exception}"
    return json.loads((workdir / "target" / "manifest.json").read_text())


@pytest.mark.parametrize(
    "data_type",
    ["boolean", "BOOL", "double", "text", "string", "varchar", "nvarchar", "char", "NCHAR "],
)
def test_a_type_sql_server_lacks_or_sizes_to_one_character_is_rejected(data_type):
    assert tsql_type_problem(data_type) is not None


@pytest.mark.parametrize(
    "data_type",
    ["varchar(50)", "nvarchar(4000)", "char(1)", "double precision", "float", "bigint", "int"],
)
def test_a_type_that_stands_in_tsql_as_written_is_accepted(data_type):
    assert tsql_type_problem(data_type) is None


def test_every_declared_column_type_of_the_sql_server_target_stands_in_tsql(sqlserver_manifest):
    declared = {
        f"{node['name']}.{name}": column["data_type"]
        for node in sqlserver_manifest["nodes"].values()
        if node["resource_type"] == "model"
        for name, column in node["columns"].items()
        if column.get("data_type")
    }
    # The enforced contracts and the procedure's cluster table are all checked.
    assert {
        "customer_campaign_emails.c_email_address",
        "int_segment_centroids_current.centroid_value",
        "customer_clusters_sqlserver.cluster",
    } <= declared.keys()
    problems = {
        column: problem
        for column, data_type in declared.items()
        if (problem := tsql_type_problem(data_type)) is not None
    }
    assert problems == {}


def test_the_campaign_name_column_holds_the_longest_name_the_var_accepts(
    sqlserver_manifest, default_sqlserver_env, tmp_path
):
    columns = sqlserver_manifest["nodes"]["model.customer_segmentation.customer_campaign_emails"]
    assert columns["columns"]["campaign_name"]["data_type"] == "varchar(100)"
    result = invoke_sqlserver(
        tmp_path,
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--select",
        "int_campaign_recipients_screened",
        "--vars",
        "{campaign_name: " + "x" * 101 + "}",
    )
    assert not result.success
    assert "use 1 to 100 letters" in str(result.exception)
