"""Every macro of this project is documented: `dbt parse` gives each one (generic tests and
the materialization included) a description and, for every argument of its Jinja signature,
a YAML entry with a name, a type dbt knows and a description, in the signature's order.

Adapter implementations of a dispatched macro (`default__x`, `duckdb__x`, `sqlserver__x`)
share the documentation of their dispatching wrapper `x`, as in dbt-utils; one whose
wrapper is not a macro of this project (an override of dbt's or an adapter's own) needs its
own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import DbtProject, error_messages
from dbt.parser.schemas import is_valid_type

PACKAGE = "customer_segmentation"
ADAPTER_PREFIX = re.compile(r"^(?:default|duckdb|sqlserver|postgres|spark)__(?P<wrapper>.+)$")
# `{% macro name(args) %}` or `{% test name(args) %}`; materializations take no arguments.
SIGNATURE = re.compile(
    r"{%-?\s*(?:macro|test)\s+(?P<name>\w+)\s*\((?P<args>.*?)\)\s*-?%}", re.DOTALL
)


def signature_arguments(macro: dict) -> list[str]:
    """The argument names of a macro as its Jinja header declares them."""
    match = SIGNATURE.search(macro["macro_sql"])
    if match is None:
        assert macro["name"].startswith("materialization_"), macro["macro_sql"][:200]
        return []
    names = []
    for argument in match.group("args").split(","):
        name = argument.split("=")[0].strip()
        if name:
            names.append(name)
    return names


def documentation_problems(macros: dict[str, dict]) -> list[str]:
    """What is missing or wrong in the documentation of ``macros`` (name -> manifest node)."""
    problems = []
    for name, macro in sorted(macros.items()):
        where = f"{name} ({macro['original_file_path']})"
        adapter_version = ADAPTER_PREFIX.match(name)
        if adapter_version and adapter_version.group("wrapper") in macros:
            continue
        if not macro["description"].strip():
            problems.append(f"{where}: no description")
        documented = [argument["name"] for argument in macro["arguments"]]
        declared = signature_arguments(macro)
        if documented != declared:
            problems.append(f"{where}: arguments {declared} documented as {documented}")
        for argument in macro["arguments"]:
            if not (argument.get("type") or "").strip():
                problems.append(f"{where}: argument {argument['name']} has no type")
            elif not is_valid_type(argument["type"]):
                problems.append(f"{where}: argument {argument['name']} type {argument['type']!r}")
            if not (argument.get("description") or "").strip():
                problems.append(f"{where}: argument {argument['name']} has no description")
    return problems


@pytest.fixture(scope="module")
def project_macros(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """This project's macros as `dbt parse` writes them into the manifest."""
    workdir = tmp_path_factory.mktemp("macro_docs")
    project = DbtProject(database=workdir / "unused.duckdb", workdir=workdir)
    result = project.invoke("parse")
    assert result.success, error_messages(result)
    manifest = json.loads(Path(workdir / "target" / "manifest.json").read_text())
    return {
        macro["name"]: macro
        for macro in manifest["macros"].values()
        if macro["package_name"] == PACKAGE
    }


def test_every_macro_of_the_project_has_a_description_and_typed_documented_arguments(
    project_macros,
):
    assert not documentation_problems(project_macros)


def test_generic_tests_and_the_materialization_are_documented_like_macros(project_macros):
    for name in ("test_unique_key_columns", "materialization_procedure_table_sqlserver"):
        assert project_macros[name]["description"].strip(), name
    assert [a["name"] for a in project_macros["test_unique_key_columns"]["arguments"]] == [
        "model",
        "combination",
        "new_rows_after",
        "range_partitions",
    ]


def test_the_check_finds_a_missing_description_an_untyped_argument_and_a_missing_one():
    macros = {
        "holdout_bucket": {
            "name": "holdout_bucket",
            "original_file_path": "macros/campaigns/holdout_bucket.sql",
            "description": "",
            "arguments": [{"name": "customer_key", "type": "", "description": "the key"}],
            "macro_sql": "{%- macro holdout_bucket(customer_key, campaign) -%}{%- endmacro -%}",
        },
        "duckdb__holdout_bucket": {
            "name": "duckdb__holdout_bucket",
            "original_file_path": "macros/campaigns/holdout_bucket.sql",
            "description": "",
            "arguments": [],
            "macro_sql": "{%- macro duckdb__holdout_bucket(customer_key, campaign) -%}",
        },
        "duckdb__dispatch_temporary_relation": {
            "name": "duckdb__dispatch_temporary_relation",
            "original_file_path": "macros/dbt_overrides/temporary_relations.sql",
            "description": "An override.",
            "arguments": [{"name": "target_relation", "type": "table", "description": "x"}],
            "macro_sql": "{% macro duckdb__dispatch_temporary_relation(target_relation) %}",
        },
    }
    problems = documentation_problems(macros)
    assert problems == [
        "duckdb__dispatch_temporary_relation (macros/dbt_overrides/temporary_relations.sql): "
        "argument target_relation type 'table'",
        "holdout_bucket (macros/campaigns/holdout_bucket.sql): no description",
        "holdout_bucket (macros/campaigns/holdout_bucket.sql): arguments "
        "['customer_key', 'campaign'] documented as ['customer_key']",
        "holdout_bucket (macros/campaigns/holdout_bucket.sql): argument customer_key has no type",
    ]
