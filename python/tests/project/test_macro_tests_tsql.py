"""The macro tests of tests/macros/ on SQL Server, without a server: each compiles for the
SQL Server target and its T-SQL parses (sqlglot and sqlfluff), and where a macro has a
`sqlserver__` version (or renders T-SQL of its own), the compiled test's cases are run
through `tsql_eval`, T-SQL's semantics in Python, and `actual` must equal `expected` there
as it does on DuckDB."""

from __future__ import annotations

import math

import pytest
import sqlfluff
import sqlglot
from conftest import PROJECT_DIR, error_messages
from sqlglot import exp
from sqlserver_fake import invoke_sqlserver
from tsql_eval import FOUR_BYTE_FLOAT, NStr, UnsupportedError, ctes_of, evaluate, rows

MACRO_TESTS = sorted(p.stem for p in (PROJECT_DIR / "tests" / "macros").glob("*.sql"))
# The tests whose T-SQL is evaluated: every macro with a sqlserver__ version or T-SQL of its
# own (count_rows' aggregates and the feature SQL's joins are beyond tsql_eval: parsed only).
EVALUATED = [
    "assert_email_is_valid_macro",
    "assert_has_address_character_macro",
    "assert_holdout_macros",
    "assert_normalized_email_macro",
    "assert_return_ratio_macro",
    "assert_run_passed_gates_macros",
    "assert_type_double_macro",
]


@pytest.fixture(scope="module")
def compiled(default_sqlserver_env, tmp_path_factory) -> dict[str, str]:
    """Each macro test's T-SQL, as `dbt compile --target sqlserver` renders it."""
    result = invoke_sqlserver(
        tmp_path_factory.mktemp("macro_tests_sqlserver"),
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--select",
        "path:tests/macros",
    )
    assert result.success, error_messages(result)
    return {r.node.name: r.node.compiled_code for r in result.result.results}


def checked_rows(statement: exp.Expression) -> list[dict]:
    """The rows of every CTE of the test that computes `actual` beside `expected`."""
    ctes = ctes_of(statement)
    found = []
    for query in ctes.values():
        selects = [query] if isinstance(query, exp.Select) else list(query.find_all(exp.Select))
        names = {p.alias_or_name.lower() for s in selects for p in s.expressions}
        if {"actual", "expected"} <= names:
            found += rows(query, ctes)
    return found


def same(actual, expected) -> bool:
    if isinstance(actual, float) or isinstance(expected, float):
        return actual is not None and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-15)
    return actual == expected


def test_every_macro_test_compiles_for_sql_server(compiled):
    assert sorted(compiled) == MACRO_TESTS


@pytest.mark.parametrize("name", MACRO_TESTS)
def test_the_macro_tests_tsql_parses(compiled, name):
    sql = compiled[name]
    sqlglot.parse_one(sql, read="tsql")
    sqlfluff.parse(sql, dialect="tsql")


@pytest.mark.parametrize("name", EVALUATED)
def test_on_sql_server_each_case_gives_the_expected_value(compiled, name):
    assert not FOUR_BYTE_FLOAT.search(compiled[name]), "a 4-byte float: tsql_eval has no such type"
    checked = checked_rows(sqlglot.parse_one(compiled[name], read="tsql"))
    assert checked, f"{name}: no CTE computes actual beside expected"
    wrong = [row for row in checked if not same(row["actual"], row["expected"])]
    assert not wrong, f"{name} on SQL Server: {wrong}"


# The evaluator itself: it must tell right T-SQL from wrong, or the tests above prove nothing.


def expression(sql: str) -> exp.Expression:
    return sqlglot.parse_one(f"select {sql} as value", read="tsql").expressions[0]


def test_hashbytes_of_nvarchar_text_hashes_other_bytes_than_of_varchar():
    varchar = "convert(bigint, substring(hashbytes('MD5', '1|default'), 1, 4)) % 10000"
    nvarchar = "convert(bigint, substring(hashbytes('MD5', N'1|default'), 1, 4)) % 10000"
    assert evaluate(expression(varchar), {}) == 7713
    assert evaluate(expression(nvarchar), {}) != 7713


def test_like_classes_are_case_insensitive_unless_the_collation_is_binary():
    assert evaluate(expression("case when 'ANN' like '%[a-z]%' then 1 else 0 end"), {}) == 1
    binary = "case when 'ANN' collate Latin1_General_100_BIN2 like '%[a-z]%' then 1 else 0 end"
    assert evaluate(expression(binary), {}) == 0


def test_a_varchar_cast_loses_characters_outside_the_code_page():
    value = evaluate(expression("lower(cast(nchar(8203) + 'A' as varchar(10)))"), {})
    assert value == "?a" and not isinstance(value, NStr)


def test_len_ignores_trailing_blanks_and_null_propagates():
    assert evaluate(expression("len('ab  ')"), {}) == 2
    ratio = "round(coalesce(cast(x as float) / nullif(0, 0), 0), 7)"
    assert evaluate(expression(ratio), {"x": 1}) == 0


def test_four_byte_floats_are_found_in_the_text():
    assert FOUR_BYTE_FLOAT.search("cast(x as real)") and FOUR_BYTE_FLOAT.search("float(24)")
    assert not FOUR_BYTE_FLOAT.search("cast(x as float) + float(53)")


def test_an_unknown_function_is_refused_not_guessed():
    with pytest.raises(UnsupportedError):
        evaluate(expression("soundex('ann')"), {})
