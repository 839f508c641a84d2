"""Faults from outside through vars: every var of the project is validated in one place
(macros/vars/validated_var.sql) before any dbt command does anything, and no var value is
ever rendered as Jinja or spliced into SQL as the text it was given in.

Hostile values are tried for every var of dbt_project.yml (plus source_schema, cluster and
list_day) one kind at a time, all vars at once: one invocation per kind, whose single error
must name each var. dbt parses the project (and renders the on-run-start hook) before anything runs,
so these invocations cost a parse each."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_DIR, DbtProject, error_messages
from dbt.cli.main import dbtRunnerResult
from published import assert_checksums_unchanged, relation_checksums
from sqlserver_fake import invoke_sqlserver

# The vars dbt_project.yml leaves unset, read with a default (see macros/vars/validated_var.sql).
UNSET_VARS = ("source_schema", "cluster", "list_day")
DROP_HISTORY = "{% do run_query('drop table main.campaign_list_history') %}0.02"


def project_vars() -> list[str]:
    """Every var of the project: dbt_project.yml's `vars:` and the ones it leaves unset."""
    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    return [*declared, *UNSET_VARS]


# A value of the right type but outside the var's range (or its length/charset), per var: the
# test below fails if a var of dbt_project.yml has none, so a new var must get one.
OUT_OF_RANGE = {
    "n_clusters": 0,
    "random_state": 2**31,
    "n_init": 0,
    "campaign_name": "x" * 101,
    "holdout_share": 1,
    "campaign_segments": [-1],
    "campaign_role": "1role",
    "scale_features": "yes",
    "model_run_id": -1,
    "retrain": "no",
    "retrain_after_days": -1,
    "max_fit_drift": -0.1,
    "silhouette_sample_size": 1,
    "outlier_quantile": 0,
    "source_test_rows_per_partition": 0,
    "k_selection_min": 0,
    "k_selection_max": 0,
    "min_segment_share": 1,
    "min_silhouette": -1.5,
    "max_davies_bouldin": 0,
    "source_schema": "x" * 129,
    "cluster": -1,
    "list_day": "2027-02-29",
}


def hostile_values(kind: str) -> dict[str, object]:
    """One hostile value of the given kind for every var."""
    names = project_vars()
    if kind == "jinja_statement":
        return dict.fromkeys(names, DROP_HISTORY)
    if kind == "jinja_expression":
        return dict.fromkeys(names, "{{ 1 }}")
    if kind == "sql":
        return dict.fromkeys(names, "0; drop table x --")
    if kind == "quote":
        return dict.fromkeys(names, "x'")
    if kind == "wrong_type":
        # A list where a scalar is expected; a mapping where the list of segments is.
        return {name: {"a": 1} if name == "campaign_segments" else [1] for name in names}
    if kind == "out_of_range":
        return {name: OUT_OF_RANGE[name] for name in names}
    raise ValueError(kind)


KINDS = ("jinja_statement", "jinja_expression", "sql", "quote", "wrong_type", "out_of_range")


def as_vars(values: dict[str, object]) -> str:
    """--vars text for the values: YAML, as a user writes it (a float stays a float; JSON would
    write 4e-05, which YAML reads as text)."""
    return yaml.safe_dump(values, default_flow_style=True, allow_unicode=True, width=10**6)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> DbtProject:
    """The project on an empty DuckDB file: validation happens before anything is read."""
    workdir = tmp_path_factory.mktemp("vars")
    return DbtProject(database=workdir / "empty.duckdb", workdir=workdir)


@pytest.fixture(scope="module")
def refusals(scratch) -> dict[str, str]:
    """The error of `dbt run-operation validate_all_vars` with every var hostile, per kind."""
    messages = {}
    for kind in KINDS:
        result = scratch.invoke(
            "run-operation", "validate_all_vars", "--vars", as_vars(hostile_values(kind))
        )
        assert not result.success, kind
        messages[kind] = error_messages(result)
    return messages


def test_every_var_of_the_project_has_an_out_of_range_value_here():
    assert sorted(OUT_OF_RANGE) == sorted(project_vars())


def test_the_var_table_lists_exactly_the_projects_vars():
    table = (PROJECT_DIR / "macros" / "vars" / "validated_var.sql").read_text()
    listed = re.findall(r"^        '(\w+)': \{$", table, flags=re.MULTILINE)
    assert sorted(listed) == sorted(project_vars())


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_value_of_every_var_is_refused_naming_each_var(refusals, kind):
    message = refusals[kind]
    unnamed = [name for name in project_vars() if f"var {name}=" not in message]
    assert not unnamed, f"{kind}: not named in\n{message}"
    assert message.count(" is not allowed: ") >= len(project_vars())


def test_a_refused_value_is_shown_as_given_not_rendered(refusals):
    assert (
        "var min_segment_share=" + DROP_HISTORY + " is not allowed" in refusals["jinja_statement"]
    )
    assert "var n_clusters={{ 1 }} is not allowed" in refusals["jinja_expression"]


@pytest.fixture(scope="module")
def targeted(scratch) -> str:
    """One invocation with the targeted bad values below (each var once)."""
    # YAML, not JSON: 0.00004 must reach dbt as the float YAML makes of it (4e-05 in Python).
    values = (
        "{holdout_share: 0.00004, model_run_id: \"\u0661\u0662\", campaign_name: ' spring', "
        "n_clusters: true, min_silhouette: .nan, max_fit_drift: .inf, k_selection_min: 5, "
        "k_selection_max: 3, n_cluster: 3}"
    )
    result = scratch.invoke("run-operation", "validate_all_vars", "--vars", values)
    assert not result.success
    return error_messages(result)


def test_a_small_decimal_is_shown_in_plain_decimal(targeted):
    assert "var holdout_share=0.00004 is not allowed" in targeted
    assert "4e-05" not in targeted


def test_a_holdout_that_rounds_to_no_bucket_is_refused_naming_the_rounding(targeted):
    assert "0.00004 rounds to 0 of the holdout's 10000 buckets (0 % held out)" in targeted


def test_arabic_indic_digits_are_not_a_run_id(targeted):
    assert (
        "var model_run_id=\u0661\u0662 is not allowed: use '' (the latest run) or a run id"
        in targeted
    )


def test_a_campaign_name_with_a_space_at_one_end_is_refused_not_trimmed(targeted):
    assert "var campaign_name= spring is not allowed" in targeted
    assert "not trimmed: ' spring' and 'spring' would be two campaigns" in targeted


def test_a_boolean_is_not_a_number(targeted):
    assert "var n_clusters=true is not allowed: use an integer >= 1" in targeted


def test_nan_and_infinity_are_not_numbers(targeted):
    assert "var min_silhouette=nan is not allowed" in targeted
    assert "var max_fit_drift=inf is not allowed" in targeted


def test_the_k_selection_range_must_not_be_empty(targeted):
    assert "var k_selection_max=3 is not allowed: use an integer >= k_selection_min (5)" in targeted
    assert "var k_selection_min=" not in targeted


def test_an_unknown_var_is_refused_naming_the_known_ones(targeted):
    assert "var n_cluster is not a var of this project (known: " in targeted
    assert "n_clusters, n_init" in targeted


def test_a_holdout_that_rounds_to_every_bucket_is_refused(scratch):
    result = scratch.invoke(
        "run-operation",
        "validate_all_vars",
        "--vars",
        "{holdout_share: 0.99996, campaign_name: 'spring '}",
    )
    assert not result.success
    message = error_messages(result)
    assert "var holdout_share=0.99996 is not allowed" in message
    assert "rounds to all 10000 buckets of the holdout (100 % held out)" in message
    assert "var campaign_name=spring  is not allowed" in message


def inline(project: DbtProject, jinja: str, *args: str) -> dbtRunnerResult:
    return project.invoke("compile", "--inline", jinja, *args)


def test_good_values_at_the_edges_of_every_range_pass_typed(scratch):
    edges = {
        "n_clusters": 1,
        "random_state": 2**31 - 1,
        "holdout_share": "0.9999",
        "campaign_segments": ["0", 2],
        "campaign_name": "spring-2027 b_2",
        "model_run_id": "",
        "retrain": "TRUE",
        "retrain_after_days": 0,
        "outlier_quantile": 1,
        "min_segment_share": 0.00004,
        "min_silhouette": -1,
        "max_davies_bouldin": ".5",
        "k_selection_min": 3,
        "k_selection_max": 3,
        "source_schema": "_Src1",
        "cluster": 0,
        "list_day": "2028-02-29",
    }
    names = list(edges)
    jinja = "{{ tojson([" + ", ".join(f"validated_var('{n}')" for n in names) + "]) }}"
    result = inline(scratch, jinja, "--vars", as_vars(edges))
    assert result.success, error_messages(result)
    typed = dict(zip(names, json.loads(result.result.results[0].node.compiled_code), strict=True))
    assert typed == {
        **edges,
        "holdout_share": 0.9999,
        "campaign_segments": [0, 2],
        "retrain": True,
        "max_davies_bouldin": 0.5,
    }


def test_a_list_day_is_a_calendar_day_as_a_yaml_date_or_text(scratch):
    result = inline(scratch, "{{ validated_var('list_day') }}", "--vars", "{list_day: 2028-02-29}")
    assert result.success, error_messages(result)
    assert result.result.results[0].node.compiled_code == "2028-02-29"
    for bad in ["2027-02-29", "2027-3-1"]:
        result = inline(
            scratch, "{{ validated_var('list_day') }}", "--vars", f"{{list_day: '{bad}'}}"
        )
        assert not result.success
        assert (
            f"var list_day={bad} is not allowed: use '' (the run's day) or a calendar day "
            "YYYY-MM-DD" in error_messages(result)
        )


def test_segment_model_settings_are_tsql_literals_in_plain_decimal(scratch):
    variables = "{min_segment_share: 0.00004, retrain: true, retrain_after_days: 7}"
    result = inline(scratch, "{{ tojson(segment_model_settings()) }}", "--vars", variables)
    assert result.success, error_messages(result)
    settings = json.loads(result.result.results[0].node.compiled_code)
    assert settings["min_segment_share"] == "0.00004"
    assert settings["retrain"] == 1
    assert re.fullmatch(r"7(\.0*)?", settings["retrain_after_days"])
    assert settings["n_clusters"] == 4
    assert {"min_silhouette", "max_davies_bouldin", "outlier_quantile"} <= set(settings)


def test_an_unknown_name_passed_to_validated_var_is_a_compiler_error(scratch, capsys):
    result = scratch.invoke("run-operation", "validated_var", "--args", "{name: n_cluster}")
    assert not result.success
    # A failed run-operation prints its message rather than returning it.
    message = error_messages(result) + capsys.readouterr().out
    assert "validated_var: n_cluster is not a var of this project" in message


def test_no_var_is_read_outside_macros_vars():
    # Where dbt renders without the project's macros, validated_var cannot be called: the
    # sources' schema (YAML rendered at parse time). validate_all_vars checks it when dbt
    # parses the on-run-start hook, before anything runs.
    allowed = {
        (
            "models/staging/tpcxbb/_tpcxbb__sources.yml",
            "schema: \"{{ var('source_schema', 'dbo' if target.type == 'sqlserver' "
            "else 'tpcxbb') }}\"",
        )
    }
    read = re.compile(r"(?<![A-Za-z0-9_.])var\(")
    found = set()
    files = [*PROJECT_DIR.glob("*.yml")]
    for folder in ("models", "macros", "tests", "analyses", "snapshots", "seeds", "docs"):
        files += [
            p
            for p in (PROJECT_DIR / folder).rglob("*")
            if p.suffix in {".sql", ".yml", ".py", ".md"}
        ]
    for path in files:
        relative = path.relative_to(PROJECT_DIR).as_posix()
        if relative.startswith("macros/vars/"):
            continue
        for line in rendered_lines(path):
            if read.search(line):
                found.add((relative, line.strip()))
    assert found == allowed


def rendered_lines(path: Path) -> list[str]:
    """The lines of a file dbt renders as Jinja: all of it, but of Markdown (the guides share
    dbt's docs-paths) only what stands inside `{% docs %}` blocks."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = "\n".join(re.findall(r"{%-?\s*docs\b.*?{%-?\s*enddocs\s*-?%}", text, re.S))
    return text.splitlines()


def test_only_docs_blocks_of_markdown_count_as_rendered(tmp_path):
    guide = tmp_path / "guide.md"
    guide.write_text(
        "a guide may say `var(` in prose\n{% docs x %}\nuses {{ var('y') }}\n{% enddocs %}\n"
    )
    assert rendered_lines(guide) == ["{% docs x %}", "uses {{ var('y') }}", "{% enddocs %}"]


@pytest.fixture
def published(built_project, tmp_path) -> DbtProject:
    """A copy of the built project: what is published, to try a hostile build on."""
    database = tmp_path / "segmentation.duckdb"
    shutil.copyfile(built_project.database, database)
    return DbtProject(database=database, workdir=tmp_path)


@pytest.mark.parametrize("command", ["build", "run"])
def test_a_jinja_var_stops_the_build_before_any_node_runs_and_drops_nothing(published, command):
    before = relation_checksums(published.database)
    assert "main.campaign_list_history" in before
    result = published.invoke(command, "--vars", as_vars({"min_segment_share": DROP_HISTORY}))
    assert not result.success
    assert "var min_segment_share=" + DROP_HISTORY + " is not allowed" in error_messages(result)
    assert not getattr(result.result, "results", None)
    assert_checksums_unchanged(before, relation_checksums(published.database))


def test_sqlserver_compile_refuses_a_hostile_var_naming_it(default_sqlserver_env, tmp_path):
    result = invoke_sqlserver(
        tmp_path,
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--vars",
        "{campaign_role: 'x; drop user y'}",
    )
    assert not result.success
    assert "var campaign_role=x; drop user y is not allowed" in error_messages(result)


def test_sqlserver_compile_writes_a_gate_threshold_in_plain_decimal(
    default_sqlserver_env, tmp_path
):
    result = invoke_sqlserver(
        tmp_path,
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--vars",
        "{min_segment_share: 0.00004}",
    )
    assert result.success, error_messages(result)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    # The training procedure judges each run by the gates: the threshold reaches its call.
    registry = manifest["nodes"]["model.customer_segmentation.segment_model_registry_sqlserver"]
    sql = registry["compiled_code"]
    assert "@min_segment_share = 0.00004" in sql
    assert "4e-05" not in sql
