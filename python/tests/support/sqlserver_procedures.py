"""Read the SQL Server procedures dbt deploys, and run their parts without a server: the
T-SQL they send (the deploy run-operation through the recording fake), their `@script`,
`@input_data_1` and `WITH RESULT SETS`, and their queries transpiled to DuckDB."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp
from sqlserver_fake import fake_sqlserver, invoke_sqlserver

# The T-SQL type of each column of the procedures' input query (customer_return_features_query):
# keys as wide as TPCx-BB's bigint keys, ratios cast to float, frequency a T-SQL COUNT (int).
FEATURE_INPUT_TYPES = {
    "customer": "bigint",
    "orderRatio": "float",
    "itemsRatio": "float",
    "monetaryRatio": "float",
    "frequency": "int",
}


def deployed_batches(workdir: Path, *extra: str) -> list[str]:
    """The batches `dbt run-operation deploy_segment_model_procedures` sends."""
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch) as server:
        result = invoke_sqlserver(
            workdir, "run-operation", "deploy_segment_model_procedures", *extra
        )
    assert result.success, f"deploy run-operation failed: {result.exception}"
    return server.batches_without_comment()


def procedure_text(batches: list[str], name: str = "py_generate_customer_return_clusters") -> str:
    """The one batch that creates procedure ``name``."""
    header = f'create or alter procedure "dbo"."{name}"'
    procedures = [b for b in batches if b.lower().startswith(header)]
    assert len(procedures) == 1, f"expected one batch creating {name}, got {len(procedures)}"
    return procedures[0]


def n_literal(procedure: str, parameter: str) -> str:
    """The value of `@parameter = N'...'` in the procedure, with doubled quotes undone."""
    match = re.search(rf"{parameter} = N'((?:[^']|'')*)'", procedure)
    assert match, f"{parameter} = N'...' not found in the procedure"
    return match.group(1).replace("''", "'")


def result_set(procedure: str) -> list[tuple[str, str]]:
    """The procedure's WITH RESULT SETS columns, (name, T-SQL type)."""
    declared = re.search(r"with result sets \(\((.*?)\)\);", procedure, re.S)
    assert declared, "no WITH RESULT SETS"
    columns = []
    for line in declared.group(1).strip().splitlines():
        name, data_type = line.strip().rstrip(",").split(" ", 1)
        columns.append((name.strip("[]"), data_type.strip()))
    return columns


def to_duckdb(tsql: str) -> str:
    """Transpile T-SQL to DuckDB for a built test database (schema main, its own catalog).

    T-SQL's `float` is float(53), 8 bytes; sqlglot maps it to DuckDB's 4-byte REAL, which
    would round the ratios differently, so it becomes DOUBLE here. `convert(varchar(30), x, 3)`
    (style 3: a float as 17 significant digits) becomes the same text in DuckDB.
    """
    tsql = re.sub(r"convert\(varchar\(30\), (\w+), 3\)", r"printf('%.16e', \1)", tsql, flags=re.I)
    tree = sqlglot.parse_one(tsql, read="tsql")
    for table in tree.find_all(exp.Table):
        if table.args.get("db"):
            table.set("catalog", None)
            table.set("db", exp.to_identifier("main"))
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.FLOAT:
            data_type.replace(exp.DataType.build("double"))
    return tree.sql(dialect="duckdb")


def procedure_input(procedure: str, database: Path) -> pd.DataFrame:
    """The rows of the procedure's @input_data_1, run on the DuckDB build."""
    query = to_duckdb(n_literal(procedure, "@input_data_1"))
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(query).df()


def run_json(procedure: str, variable: str, run_id: int | None, database: Path) -> str | None:
    """What `declare <variable> nvarchar(max) = (select ... for json path, include_null_values)`
    holds for run ``run_id``: the procedure's own SELECT run on DuckDB, its rows as FOR JSON
    PATH writes them (one object per row, NULL as null, bit as true/false). NULL when the
    SELECT has no row, as in T-SQL."""
    match = re.search(
        rf"declare {variable} nvarchar\(max\) = \(\s*(select\b.*?)\s*for json path, "
        r"include_null_values\s*\);",
        procedure,
        re.S,
    )
    assert match, f"no FOR JSON declaration of {variable}"
    literal = "null" if run_id is None else str(int(run_id))
    select = re.sub(r"= @\w+\s*$", f"= {literal}", match.group(1).strip())
    with duckdb.connect(str(database), read_only=True) as con:
        frame = con.execute(to_duckdb(select)).df()
    if frame.empty:
        return None
    records = [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return json.dumps(records)


def _json_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
