"""dbt-project-evaluator's rules, checked over the manifest of `dbt parse`.

The package itself cannot be installed here, so each of its rules (modeling, testing,
documentation, structure, governance, performance; dbt-labs/dbt-project-evaluator,
docs/rules/) is a small function over ``target/manifest.json`` that returns the offending
nodes, and a test asserts that it returns none. Our own layout rule (a model reads only its
own flow stage or an earlier one, docs/decisions/layout-by-flow-stage.md) is checked the same
way. The one accepted departure is the marts naming convention of
docs/decisions/marts-naming.md: marts are entity-first plain names, not ``fct_``/``dim_``.

Governance rules apply to models with `access: public` (none: the project has no groups or
cross-project refs, so its models keep dbt's default, protected); they are checked so that
a model made public later needs a contract and a description.

Both targets are parsed: the SQL Server target enables the ``*_sqlserver`` models that stand
in for the Python models there, and they must follow the same rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pytest
from conftest import PROJECT_DIR, DbtProject
from sqlserver_fake import invoke_sqlserver

PACKAGE = "customer_segmentation"

# The evaluator's defaults (its dbt_project.yml vars).
MODEL_TYPE_PREFIXES = {
    "base": ("base_",),
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("fct_", "dim_"),
    "other": ("rpt_",),
}
MODEL_TYPE_FOLDERS = {
    "base": "base",
    "staging": "staging",
    "intermediate": "intermediate",
    "marts": "marts",
}
MODELS_FANOUT_THRESHOLD = 3
CHAINED_VIEWS_THRESHOLD = 5
TOO_MANY_JOINS_THRESHOLD = 7

# Our layout (docs/decisions/layout-by-flow-stage.md): flow stages, and dbt's layers.
STAGES = ("staging", "features", "training", "scoring", "campaigns")
LAYERS = ("staging", "intermediate", "marts")


@dataclass
class Project:
    """The parsed graph of this project: enabled nodes, sources and exposures, and edges
    without tests (the evaluator's DAG leaves tests out)."""

    target: str
    nodes: dict[str, Any]
    sources: dict[str, Any]
    exposures: dict[str, Any]
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    @property
    def models(self) -> dict[str, Any]:
        return {uid: n for uid, n in self.nodes.items() if n["resource_type"] == "model"}

    @property
    def tests(self) -> dict[str, Any]:
        return {uid: n for uid, n in self.nodes.items() if n["resource_type"] == "test"}

    def resource(self, uid: str) -> dict[str, Any]:
        return self.nodes.get(uid) or self.sources.get(uid) or self.exposures[uid]


def load_project(manifest: dict[str, Any], target: str) -> Project:
    """This package's resources of a manifest, with the DAG's edges among them."""
    ours = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["package_name"] == PACKAGE and node["resource_type"] != "unit_test"
    }
    sources = {u: s for u, s in manifest["sources"].items() if s["package_name"] == PACKAGE}
    exposures = manifest["exposures"]
    project = Project(target, ours, sources, exposures)
    in_dag = (
        {u for u, n in ours.items() if n["resource_type"] != "test"} | set(sources) | set(exposures)
    )
    for uid in in_dag:
        project.parents[uid] = sorted(p for p in manifest["parent_map"].get(uid, []) if p in in_dag)
        project.children[uid] = sorted(c for c in manifest["child_map"].get(uid, []) if c in in_dag)
    return project


@pytest.fixture(scope="module", params=["duckdb", "sqlserver"])
def project(request, tmp_path_factory, default_sqlserver_env) -> Iterator[Project]:
    """`dbt parse` of the project on one target (no data, no server needed)."""
    workdir = tmp_path_factory.mktemp(f"evaluator_{request.param}")
    if request.param == "sqlserver":
        result = invoke_sqlserver(workdir, "parse")
    else:
        result = DbtProject(database=workdir / "unused.duckdb", workdir=workdir).invoke("parse")
    assert result.success, f"dbt parse ({request.param}) failed: {result.exception}"
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    yield load_project(manifest, request.param)


# --- what the rules need to know about a node ----------------------------------------------


def name(node: dict[str, Any]) -> str:
    if node["resource_type"] == "source":
        return f"{node['source_name']}.{node['name']}"
    return node["name"]


def folders(node: dict[str, Any]) -> tuple[str, ...]:
    """The folders of a node's file, under models/."""
    return PurePosixPath(node["original_file_path"]).parent.parts


def model_type_folder(node: dict[str, Any]) -> str | None:
    """The model type of the folder closest to the file, as the evaluator ranks them."""
    for folder in reversed(folders(node)):
        for model_type, folder_name in MODEL_TYPE_FOLDERS.items():
            if folder == folder_name:
                return model_type
    return None


def model_type_prefix(node: dict[str, Any]) -> str | None:
    prefix = node["name"].split("_")[0] + "_"
    for model_type, prefixes in MODEL_TYPE_PREFIXES.items():
        if prefix in prefixes:
            return model_type
    return None


def model_type(node: dict[str, Any]) -> str:
    """The evaluator's model type: by prefix first, else by the closest folder, else other."""
    return model_type_prefix(node) or model_type_folder(node) or "other"


def resource_type(project: Project, uid: str) -> str:
    return project.resource(uid)["resource_type"]


def is_leaf(project: Project, uid: str) -> bool:
    return not project.children[uid]


# --- modeling -------------------------------------------------------------------------------


def direct_join_to_source(project: Project) -> list[str]:
    """Models that read both a source and a model."""
    return sorted(
        name(m)
        for uid, m in project.models.items()
        if {resource_type(project, p) for p in project.parents[uid]} >= {"source", "model"}
    )


def downstream_models_dependent_on_source(project: Project) -> list[str]:
    """Intermediate and marts models that read a source."""
    return sorted(
        name(m)
        for uid, m in project.models.items()
        if model_type(m) in {"intermediate", "marts"}
        and any(resource_type(project, p) == "source" for p in project.parents[uid])
    )


def model_fanout(project: Project) -> list[str]:
    """Models with at least the threshold of direct children that are leaf models."""
    found = []
    for uid, model in project.models.items():
        leaves = [
            c
            for c in project.children[uid]
            if resource_type(project, c) == "model" and is_leaf(project, c)
        ]
        if len(leaves) >= MODELS_FANOUT_THRESHOLD:
            found.append(f"{name(model)} -> {sorted(name(project.resource(c)) for c in leaves)}")
    return sorted(found)


def multiple_sources_joined(project: Project) -> list[str]:
    """Models that read more than one source."""
    return sorted(
        name(m)
        for uid, m in project.models.items()
        if sum(resource_type(project, p) == "source" for p in project.parents[uid]) > 1
    )


def rejoining_of_upstream_concepts(project: Project) -> list[str]:
    """parent -> between -> child where the child also reads the parent directly and the model
    in between has no other child: the in-between model could be a CTE of the child."""
    found = []
    for parent, parent_children in project.children.items():
        if resource_type(project, parent) == "exposure":
            continue
        for between in parent_children:
            if resource_type(project, between) == "exposure":
                continue
            between_children = [
                c for c in project.children[between] if resource_type(project, c) != "exposure"
            ]
            if len(between_children) != 1:
                continue
            child = between_children[0]
            if child in parent_children:
                found.append(
                    " -> ".join(name(project.resource(u)) for u in (parent, between, child))
                )
    return sorted(found)


def root_models(project: Project) -> list[str]:
    """Models with no parent: they read something dbt does not know of."""
    return sorted(name(m) for uid, m in project.models.items() if not project.parents[uid])


def source_fanout(project: Project) -> list[str]:
    """Sources read by more than one model."""
    return sorted(
        name(s)
        for uid, s in project.sources.items()
        if sum(resource_type(project, c) == "model" for c in project.children[uid]) > 1
    )


def staging_dependent_on_downstream(project: Project) -> list[str]:
    """Staging models that read intermediate or marts models."""
    return sorted(
        f"{name(project.resource(p))} -> {name(m)}"
        for uid, m in project.models.items()
        if model_type(m) == "staging"
        for p in project.parents[uid]
        if resource_type(project, p) == "model"
        and model_type(project.nodes[p]) in {"intermediate", "marts"}
    )


def staging_dependent_on_staging(project: Project) -> list[str]:
    """Staging models that read other staging models."""
    return sorted(
        f"{name(project.resource(p))} -> {name(m)}"
        for uid, m in project.models.items()
        if model_type(m) == "staging"
        for p in project.parents[uid]
        if resource_type(project, p) == "model" and model_type(project.nodes[p]) == "staging"
    )


def unused_sources(project: Project) -> list[str]:
    """Sources nothing reads."""
    return sorted(name(s) for uid, s in project.sources.items() if not project.children[uid])


def too_many_joins(project: Project) -> list[str]:
    """Models that read at least the threshold of models and sources."""
    return sorted(
        name(m)
        for uid, m in project.models.items()
        if len(project.parents[uid]) >= TOO_MANY_JOINS_THRESHOLD
    )


# The evaluator's patterns for a relation named in SQL instead of ref()/source(): after from
# or join (not `distinct from`), a var, a dotted name or a quoted name.
HARD_CODED = re.compile(
    r"""(?ix)(?<!distinct\s)\b(?:from|join)\s+(
        \{\{\s*var\s*\([^)]*\)\s*\}\}
        | [`\["']?\w+[`\]"']?\.[`\["']?\w+[`\]"']?(?:\.[`\["']?\w+[`\]"']?)?
        | [`\["']\w+[`\]"']
    )"""
)
JINJA_OUTSIDE_VARS = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{(?!\s*var\s*\().*?\}\}", re.S)


def hard_coded_references(project: Project) -> list[str]:
    """SQL models that name a relation in SQL rather than through ref() or source()."""
    found = []
    for model in project.models.values():
        if model["language"] != "sql":
            continue
        code = re.sub(r"--[^\n]*", "", model["raw_code"])
        code = JINJA_OUTSIDE_VARS.sub(" x ", code)
        # `extract(... from <column>)` and `... from <table>.<column>` inside functions are
        # not relations: the evaluator's regex ignores them only after `distinct`.
        code = re.sub(r"(?i)\b(extract|trim|substring)\s*\([^()]*\)", " x ", code)
        found += [f"{name(model)}: {match.strip()}" for match in HARD_CODED.findall(code)]
    return sorted(found)


def duplicate_sources(project: Project) -> list[str]:
    """Source definitions that point at the same relation."""
    seen: dict[str, list[str]] = {}
    for source in project.sources.values():
        location = ".".join(str(source[k]).lower() for k in ("database", "schema", "identifier"))
        seen.setdefault(location, []).append(name(source))
    return sorted(f"{loc}: {names}" for loc, names in seen.items() if len(names) > 1)


# --- testing --------------------------------------------------------------------------------


def model_tests(project: Project, uid: str) -> list[dict[str, Any]]:
    """The generic and singular tests whose primary model is ``uid``."""
    found = []
    for test in project.tests.values():
        attached = test.get("attached_node")
        if attached == uid or (attached is None and test["depends_on"]["nodes"][:1] == [uid]):
            found.append(test)
    return found


def kind_of_test(test: dict[str, Any]) -> str | None:
    return (test.get("test_metadata") or {}).get("name")


def is_combination_key_test(test: dict[str, Any]) -> bool:
    """dbt-utils' unique_combination_of_columns or our own generic test with its shape (a
    uniqueness test over a `combination` of columns, whatever it is called)."""
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs", {})
    return "unique" in metadata.get("name", "") and bool({"combination", "columns"} & set(kwargs))


def has_primary_key_test(project: Project, uid: str) -> bool:
    """unique + not_null on one column (a not_null constraint counts for not_null), or a
    combination-of-columns uniqueness test."""
    by_column: dict[str, set[str]] = {}
    for test in model_tests(project, uid):
        if is_combination_key_test(test):
            return True
        column = test.get("column_name")
        if column:
            by_column.setdefault(column.lower(), set()).add(kind_of_test(test) or "")
    for column, spec in project.nodes[uid]["columns"].items():
        if any(c.get("type") == "not_null" for c in spec.get("constraints", [])):
            by_column.setdefault(column.lower(), set()).add("not_null")
    return any({"unique", "not_null"} <= kinds for kinds in by_column.values())


def missing_primary_key_tests(project: Project) -> list[str]:
    return sorted(
        name(m) for uid, m in project.models.items() if not has_primary_key_test(project, uid)
    )


def untested_models(project: Project) -> list[str]:
    """Test coverage below 100 %: models without any test."""
    return sorted(name(m) for uid, m in project.models.items() if not model_tests(project, uid))


def sources_without_freshness(project: Project) -> list[str]:
    def enabled(freshness: dict[str, Any] | None) -> bool:
        return bool(freshness) and any(
            (freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")
        )

    return sorted(name(s) for s in project.sources.values() if not enabled(s.get("freshness")))


# --- documentation --------------------------------------------------------------------------


def undocumented_models(project: Project) -> list[str]:
    return sorted(name(m) for m in project.models.values() if not m["description"].strip())


def undocumented_columns(project: Project) -> list[str]:
    """Columns declared without a description, and models that declare no columns."""
    found = []
    for model in project.models.values():
        if not model["columns"]:
            found.append(f"{name(model)}: no columns declared")
        found += [
            f"{name(model)}.{column}"
            for column, spec in model["columns"].items()
            if not spec["description"].strip()
        ]
    return sorted(found)


def undocumented_sources(project: Project) -> list[str]:
    found = []
    for source in project.sources.values():
        if not source["description"].strip():
            found.append(name(source))
        if not source["source_description"].strip():
            found.append(source["source_name"])
        found += [
            f"{name(source)}.{column}"
            for column, spec in source["columns"].items()
            if not spec["description"].strip()
        ]
    return sorted(set(found))


# --- structure ------------------------------------------------------------------------------


def model_naming_conventions(project: Project, plain_marts: bool) -> list[str]:
    """Models whose prefix does not name their folder's model type. With ``plain_marts`` (our
    convention, docs/decisions/marts-naming.md) a marts model may also have no type prefix."""
    found = []
    for model in project.models.values():
        folder_type = model_type_folder(model) or "other"
        prefix_type = model_type_prefix(model)
        if prefix_type == folder_type:
            continue
        if plain_marts and folder_type == "marts" and prefix_type is None:
            continue
        found.append(f"{name(model)} ({model['original_file_path']})")
    return sorted(found)


def model_directories(project: Project) -> list[str]:
    """Staging models outside staging/<their source>/; other models not nested closest to
    the folder of their type."""
    found = []
    for uid, model in project.models.items():
        where = f"{name(model)} ({model['original_file_path']})"
        if model_type(model) == "staging":
            for parent in project.parents[uid]:
                source = project.sources.get(parent)
                if source and source["source_name"] not in folders(model):
                    found.append(where)
        elif model_type(model) != model_type_folder(model):
            found.append(where)
    return sorted(set(found))


def source_directories(project: Project) -> list[str]:
    """Sources not defined under models/staging/<source name>/."""
    return sorted(
        f"{name(s)} ({s['original_file_path']})"
        for s in project.sources.values()
        if folders(s)[:3] != ("models", "staging", s["source_name"])
    )


def generic_test_directories(project: Project) -> list[str]:
    """Generic tests defined in a YAML file outside their model's folder."""
    found = []
    for test in project.tests.values():
        model = project.nodes.get(test.get("attached_node") or "")
        if not test.get("test_metadata") or not model or model["resource_type"] != "model":
            continue
        if folders(test) != folders(model):
            found.append(f"{test['name']} ({test['original_file_path']} for {name(model)})")
    return sorted(found)


# --- governance -----------------------------------------------------------------------------


def public_models_without_contract(project: Project) -> list[str]:
    return sorted(
        name(m)
        for m in project.models.values()
        if m.get("access") == "public" and not m["config"]["contract"]["enforced"]
    )


def exposures_dependent_on_private_models(project: Project) -> list[str]:
    """Exposures reading a model whose access is private (no group may read it). The
    evaluator flags every parent that is not public; without groups every model is protected,
    so only private parents are a finding here."""
    return sorted(
        f"{name(project.resource(p))} -> {e['name']}"
        for uid, e in project.exposures.items()
        for p in project.parents[uid]
        if project.resource(p).get("access") == "private"
    )


# --- performance ----------------------------------------------------------------------------


def is_view(node: dict[str, Any]) -> bool:
    return node["resource_type"] == "model" and node["config"]["materialized"] in {
        "view",
        "ephemeral",
    }


def chained_views(project: Project) -> list[str]:
    """Models reading through a chain of views longer than the threshold."""
    depth: dict[str, int] = {}

    def view_depth(uid: str) -> int:
        """Length of the longest path of views ending at ``uid``'s parents, plus one."""
        if uid not in depth:
            depth[uid] = max(
                (
                    1 + view_depth(p) if is_view(project.resource(p)) else 1
                    for p in project.parents[uid]
                ),
                default=0,
            )
        return depth[uid]

    return sorted(
        f"{name(m)}: {view_depth(uid)}"
        for uid, m in project.models.items()
        if view_depth(uid) > CHAINED_VIEWS_THRESHOLD
    )


def exposure_parents_materializations(project: Project) -> list[str]:
    """Exposures that read a source, a view or an ephemeral model."""
    found = []
    for uid, exposure in project.exposures.items():
        for parent in project.parents[uid]:
            node = project.resource(parent)
            if node["resource_type"] == "source" or is_view(node):
                found.append(f"{name(node)} -> {exposure['name']}")
    return sorted(found)


# --- our layout: a model reads only its own stage or an earlier one -------------------------


def stage_and_layer(node: dict[str, Any]) -> tuple[int, int]:
    """(flow stage, dbt layer) of a model from its folder; seeds come first of all."""
    if node["resource_type"] == "seed":
        return (-1, -1)
    parts = (*folders(node), "", "")
    layer = parts[1] if parts[1] in LAYERS else "marts"
    stage = "staging" if layer == "staging" else parts[2]
    # A model outside the layout (models_outside_the_layout lists it) sorts last.
    return (STAGES.index(stage) if stage in STAGES else len(STAGES)), LAYERS.index(layer)


def reads_a_later_stage(project: Project) -> list[str]:
    """Models that read a model of a later flow stage, or of a later layer in their own
    stage (docs/decisions/layout-by-flow-stage.md)."""
    found = []
    for uid, model in project.models.items():
        for parent in project.parents[uid]:
            node = project.resource(parent)
            if node["resource_type"] not in {"model", "seed", "snapshot"}:
                continue
            if node["resource_type"] == "snapshot":
                continue
            if stage_and_layer(node) > stage_and_layer(model):
                found.append(f"{node['original_file_path']} -> {model['original_file_path']}")
    return sorted(found)


def models_outside_the_layout(project: Project) -> list[str]:
    """Models not in models/staging/<source>/ or models/<layer>/<stage>/."""
    found = []
    for model in project.models.values():
        parts = folders(model)
        ok = len(parts) == 3 and parts[0] == "models" and parts[1] in LAYERS
        if ok and parts[1] == "staging":
            ok = parts[2] in {s["source_name"] for s in project.sources.values()}
        elif ok:
            ok = parts[2] in STAGES[1:]
        if not ok:
            found.append(model["original_file_path"])
    return sorted(found)


RULES = [
    direct_join_to_source,
    downstream_models_dependent_on_source,
    model_fanout,
    multiple_sources_joined,
    rejoining_of_upstream_concepts,
    root_models,
    source_fanout,
    staging_dependent_on_downstream,
    staging_dependent_on_staging,
    unused_sources,
    too_many_joins,
    hard_coded_references,
    duplicate_sources,
    missing_primary_key_tests,
    untested_models,
    sources_without_freshness,
    undocumented_models,
    undocumented_columns,
    undocumented_sources,
    model_directories,
    source_directories,
    generic_test_directories,
    public_models_without_contract,
    exposures_dependent_on_private_models,
    chained_views,
    exposure_parents_materializations,
    reads_a_later_stage,
    models_outside_the_layout,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_project_breaks_no_rule(project, rule):
    offending = rule(project)
    assert offending == [], f"{rule.__name__} on {project.target}: {offending}"


def test_models_are_named_for_their_type_with_plain_marts(project):
    assert model_naming_conventions(project, plain_marts=True) == []


def test_the_only_naming_departure_is_plain_marts_names(project):
    """Without our convention the evaluator's naming rule reports the marts models, and only
    them: the departure docs/decisions/marts-naming.md accepts."""
    strict = model_naming_conventions(project, plain_marts=False)
    marts = sorted(
        f"{name(m)} ({m['original_file_path']})"
        for m in project.models.values()
        if model_type_folder(m) == "marts"
    )
    assert strict == marts


def test_the_marts_naming_convention_is_written_down():
    record = (PROJECT_DIR / "docs" / "decisions" / "marts-naming.md").read_text()
    assert "fct_" in record and "dim_" in record


# The relations the consumers read (and `make run` lists), by relation name: these names
# never change, and each must be in an exposure, which is where the outputs list comes from.
PUBLISHED_RELATIONS = {
    "customer_return_features",
    "py_customer_clusters",
    "customer_campaign_emails",
    "cluster_email_coverage",
    "campaign_holdout",
    "campaign_list_exclusions",
    "campaign_list_history",
    "customer_segments",
    "segment_model_runs",
    "segment_model_registry",
    "segment_centroids",
    "segment_transitions",
}


def test_every_published_relation_keeps_its_name_and_is_exposed(project):
    exposed = {
        project.resource(p).get("alias") or project.resource(p)["name"]
        for uid in project.exposures
        for p in project.parents[uid]
    }
    assert PUBLISHED_RELATIONS - exposed == set()
    if project.target == "duckdb":
        assert "segment_k_selection" in exposed


def test_every_exposure_has_an_owner_with_an_email_and_a_description(project):
    for exposure in project.exposures.values():
        assert exposure["owner"]["name"] and "@" in (exposure["owner"]["email"] or "")
        assert exposure["description"].strip() and exposure["maturity"]
        assert project.parents[exposure["unique_id"]], exposure["name"]


def test_every_model_is_exposed_or_read_by_another_model(project):
    """A mart nobody reads is dead code: every leaf model feeds an exposure."""
    leaves = [
        name(m)
        for uid, m in project.models.items()
        if not project.children[uid] and "on_demand" not in m["config"]["tags"]
    ]
    assert leaves == []


# --- the rules find what they look for ------------------------------------------------------


def graph(edges: dict[str, list[str]], **files: str) -> Project:
    """A small project from `parent -> children` edges among models named for their role;
    ``files`` gives a model's path when it matters."""
    names = set(edges) | {c for cs in edges.values() for c in cs}
    nodes, sources = {}, {}
    for n in names:
        if n.startswith("src."):
            sources[n] = {
                "resource_type": "source",
                "source_name": "src",
                "name": n[4:],
                "original_file_path": "models/staging/src/_src__sources.yml",
            }
        else:
            nodes[n] = {
                "resource_type": "model",
                "name": n,
                "original_file_path": files.get(n, f"models/marts/x/{n}.sql"),
                "config": {"materialized": "view" if n.startswith("v") else "table"},
            }
    project = Project("test", nodes, sources, {})
    for n in names:
        project.children[n] = sorted(edges.get(n, []))
        project.parents[n] = sorted(p for p, cs in edges.items() if n in cs)
    return project


def test_fanout_counts_leaf_children_only():
    assert model_fanout(graph({"a": ["b", "c", "d"]})) == ["a -> ['b', 'c', 'd']"]
    assert model_fanout(graph({"a": ["b", "c", "d"], "d": ["e"]})) == []


def test_rejoining_flags_a_model_that_could_be_a_cte():
    assert rejoining_of_upstream_concepts(graph({"a": ["b", "c"], "b": ["c"]})) == ["a -> b -> c"]
    assert rejoining_of_upstream_concepts(graph({"a": ["b", "c"], "b": ["c", "d"]})) == []


def test_direct_join_and_downstream_source_reads_are_found():
    project = graph(
        {"src.t": ["int_x"], "stg_y": ["int_x"]},
        int_x="models/intermediate/f/int_x.sql",
        stg_y="models/staging/src/stg_y.sql",
    )
    assert direct_join_to_source(project) == ["int_x"]
    assert downstream_models_dependent_on_source(project) == ["int_x"]


def test_a_chain_of_six_views_is_too_long():
    chain = {f"v{i}": [f"v{i + 1}"] for i in range(5)} | {"v5": ["t"]}
    assert chained_views(graph(chain)) == ["t: 6"]
    assert chained_views(graph({"v0": ["v1"], "v1": ["t"]})) == []


def test_reading_a_later_stage_is_found():
    project = graph(
        {"customer_segments": ["int_customer_orders"]},
        customer_segments="models/marts/scoring/customer_segments.sql",
        int_customer_orders="models/intermediate/features/int_customer_orders.sql",
    )
    assert reads_a_later_stage(project) == [
        "models/marts/scoring/customer_segments.sql -> "
        "models/intermediate/features/int_customer_orders.sql"
    ]


def test_an_earlier_layer_of_the_same_stage_and_an_earlier_stage_may_be_read():
    project = graph(
        {"int_c": ["x"], "y": ["x"]},
        int_c="models/intermediate/campaigns/int_c.sql",
        y="models/marts/features/y.sql",
        x="models/marts/campaigns/x.sql",
    )
    assert reads_a_later_stage(project) == []


def test_a_relation_named_in_sql_is_a_hard_coded_reference():
    project = graph({"m": []})
    project.nodes["m"] |= {
        "language": "sql",
        "raw_code": "with a as (select * from {{ ref('x') }}) select * from main.orders "
        "-- from c.d\njoin a on 1 = 1",
    }
    assert hard_coded_references(project) == ["m: main.orders"]


def test_a_model_with_only_a_unique_test_has_no_primary_key_test():
    project = graph({"m": []})
    project.nodes["m"]["columns"] = {"id": {"constraints": []}}
    project.nodes["t"] = {
        "resource_type": "test",
        "attached_node": "m",
        "column_name": "id",
        "test_metadata": {"name": "unique", "kwargs": {}},
    }
    assert not has_primary_key_test(project, "m")
    project.nodes["m"]["columns"]["id"]["constraints"] = [{"type": "not_null"}]
    assert has_primary_key_test(project, "m")


def readme_output_relations() -> set[str]:
    """The relations named in the first column of the README's "What comes out" table."""
    section = (PROJECT_DIR / "README.md").read_text(encoding="utf-8").split("## What comes out")[1]
    section = section.split("\n## ")[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return names


def test_the_readme_lists_exactly_the_relations_the_exposures_read(project):
    """One list of outputs: the exposures; the README's table is checked against it."""
    exposed = {
        project.resource(p).get("alias") or project.resource(p)["name"]
        for uid in project.exposures
        for p in project.parents[uid]
        if project.resource(p)["resource_type"] in ("model", "snapshot")
    }
    # The k sweep is an analysis of the DuckDB copy only (no exposure on SQL Server).
    on_duckdb_only = set() if project.target == "duckdb" else {"segment_k_selection"}
    assert readme_output_relations() - on_duckdb_only == exposed
