"""The SQL Server procedures run as Machine Learning Services runs them, on both runtimes.

Everything comes from what dbt deploys: each procedure's `@script`, its `@input_data_1` (run on
the sf=0.01 DuckDB build), the registry rows its own FOR JSON SELECT would hand over through
`@params`, and its WITH RESULT SETS. The emulator runs the script as the body of transform()
in sqlindb_0.py on SQL Server 2019's Python 3.7 / pandas 0.23.4 and 2022's Python 3.10, with
bigint keys as float64 and rows shuffled; the results are compared with the DuckDB build.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlservices.emulator import (
    RUNTIMES,
    ExternalScriptError,
    pinned_versions,
    run_external_script,
)
from scipy.optimize import linear_sum_assignment
from sqlserver_procedures import (
    FEATURE_INPUT_TYPES,
    deployed_batches,
    n_literal,
    procedure_input,
    procedure_text,
    result_set,
    run_json,
)

from customer_segmentation.adapters import sqlserver_script
from customer_segmentation.core.features import FEATURE_COLUMNS
from customer_segmentation.core.registry import typed_registry
from customer_segmentation.core.scoring import score_customers, transitions

SCORE = "py_generate_customer_return_clusters"
TRAIN = "py_train_customer_segment_model"
TRANSITIONS = "py_segment_transitions"
# The training procedure's defaults (the dbt vars) as its parameters reach the script.
TRAIN_SETTINGS = {
    "n_clusters": ("int", 4),
    "random_state": ("int", 111),
    "n_init": ("int", 10),
    "scale_features": ("bit", False),
    "retrain": ("bit", False),
    "retrain_after_days": ("float", 7.0),
    "max_fit_drift": ("float", 0.1),
    "full_refresh": ("bit", False),
    "silhouette_sample_size": ("int", 5000),
    "outlier_quantile": ("float", 0.99),
    "min_segment_share": ("float", 0.02),
    "min_silhouette": ("float", 0.25),
    "max_davies_bouldin": ("float", 1.5),
    # What the procedure's STRING_AGG over the segments seed gives.
    "named_segments": ("nvarchar(max)", "0,1,2,3"),
}
# The tutorial's own clustering step, as an app would run it in ML Services: its KMeans on the
# feature rows, ordered by customer so the fit does not depend on the order rows arrive in.
TUTORIAL_SCRIPT = f"""
from sklearn.cluster import KMeans
rows = my_input_data.sort_values("customer")
est = KMeans(n_clusters=4, random_state=111, n_init=10).fit(rows[{list(FEATURE_COLUMNS)!r}])
rows["cluster"] = est.labels_
OutputDataSet = rows[["customer", "cluster"]]
"""


@pytest.fixture(scope="module")
def procedures(default_sqlserver_env, tmp_path_factory) -> dict[str, str]:
    """Each procedure's text, as `dbt run-operation deploy_segment_model_procedures` sends it
    with the profile's defaults."""
    batches = deployed_batches(tmp_path_factory.mktemp("deploy"))
    return {name: procedure_text(batches, name) for name in (SCORE, TRAIN, TRANSITIONS)}


@pytest.fixture(scope="module")
def features(procedures, built_project) -> pd.DataFrame:
    return procedure_input(procedures[SCORE], built_project.database)


def call(procedure: str, runtime: str, database: Path, params: dict) -> pd.DataFrame:
    """Run the procedure's script in the emulator as sp_execute_external_script would, on
    the rows of its own @input_data_1 (run on the DuckDB build)."""
    declared = n_literal(procedure, "@params")
    assert [p.split()[0].lstrip("@") for p in declared.split(", ")] == list(params)
    return run_external_script(
        runtime,
        n_literal(procedure, "@script"),
        input_data=procedure_input(procedure, database),
        input_types=FEATURE_INPUT_TYPES,
        input_data_1_name=n_literal(procedure, "@input_data_1_name"),
        params=params,
        result_set=result_set(procedure),
        shuffle_seed=7,
    ).output


def train(procedures, runtime, database, current_json, next_run_id, **settings) -> pd.DataFrame:
    params = {
        "current_model_json": ("nvarchar(max)", current_json),
        "next_run_id": ("bigint", next_run_id),
        **{name: (t, settings.get(name, value)) for name, (t, value) in TRAIN_SETTINGS.items()},
    }
    return call(procedures[TRAIN], runtime, database, params)


def as_registry(rows: pd.DataFrame) -> pd.DataFrame:
    """Registry rows from a result set (nullable SQL types) in the registry's DuckDB types."""
    plain = rows.astype(object).where(rows.notna(), None)
    return typed_registry(plain)


def test_the_builds_procedures_read_the_feature_table_the_tutorials_recomputes(
    procedures, features, built_project
):
    # Training and transitions read the table the build just made, one scan of the feature
    # table instead of the fact tables; apps' tutorial procedure recomputes it from the sources.
    for name in (TRAIN, TRANSITIONS):
        assert "store_sales" not in n_literal(procedures[name], "@input_data_1")
        table = procedure_input(procedures[name], built_project.database)
        pd.testing.assert_frame_equal(
            table.sort_values("customer").reset_index(drop=True),
            features.sort_values("customer").reset_index(drop=True),
            check_dtype=False,
        )
    assert "store_sales" in n_literal(procedures[SCORE], "@input_data_1")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_tutorial_procedure_gives_every_customer_the_duckdb_builds_segment(
    procedures, features, built_project, runtime
):
    procedure = procedures[SCORE]
    model_json = run_json(procedure, "@model_json", 1, built_project.database)
    output = call(
        procedure, runtime, built_project.database, {"model_json": ("nvarchar(max)", model_json)}
    )
    expected = built_project.query(
        "select Customer, cluster from main.py_customer_clusters order by Customer"
    )
    got = output.sort_values("Customer").reset_index(drop=True)
    assert len(got) == len(expected) > 100
    assert got["Customer"].tolist() == expected["Customer"].tolist()
    assert got["cluster"].tolist() == expected["cluster"].tolist()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_training_a_first_run_gives_the_tutorials_partition_on_that_runtime(
    procedures, features, built_project, runtime
):
    rows = as_registry(train(procedures, runtime, built_project.database, None, 1))
    assert rows["run_id"].eq(1).all() and rows["train_reason"].eq("no model yet").all()
    assert rows["previous_run_id"].isna().all()
    ours = score_customers(features, rows).set_index("Customer")["cluster"].sort_index()
    tutorial = run_external_script(
        runtime,
        TUTORIAL_SCRIPT,
        input_data=features,
        input_types=FEATURE_INPUT_TYPES,
        input_data_1_name="my_input_data",
        result_set=[("customer", "bigint"), ("cluster", "int")],
        shuffle_seed=3,
    ).output
    reference = tutorial.set_index("customer")["cluster"].sort_index()
    # A first run keeps k-means' labels as fitted, so the ids are the tutorial's labels.
    assert ours.index.tolist() == reference.index.tolist()
    assert ours.tolist() == reference.tolist()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_registry_records_the_runtime_that_trained_each_run(procedures, built_project, runtime):
    rows = train(procedures, runtime, built_project.database, None, 1)
    pins = pinned_versions(runtime)
    first = rows.iloc[0]
    assert first["python_version"].startswith(pins["python"] + ".")
    assert first["pandas_version"] == pins["pandas"]
    assert first["numpy_version"] == pins["numpy"]
    assert first["sklearn_version"] == pins["scikit-learn"]


def centroid_matrix(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per segment (indexed by ``by``), one column per feature, k-means space."""
    return rows.pivot(index=by, columns="feature_position", values="scaled_value").sort_index()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_retrain_in_the_procedure_gives_each_segment_the_id_of_its_nearest_current_one(
    procedures, features, built_project, runtime
):
    current = run_json(procedures[TRAIN], "@current_model", 1, built_project.database)
    rows = as_registry(
        train(procedures, runtime, built_project.database, current, 2, retrain=True, n_init=3)
    )
    assert rows["run_id"].eq(2).all() and rows["previous_run_id"].eq(1).all()
    assert rows["train_reason"].eq("retrain requested").all()
    before = centroid_matrix(
        built_project.query("select * from main.segment_model_registry where run_id = 1"),
        "segment_id",
    )
    after = centroid_matrix(rows, "fitted_label")
    # The optimal one-to-one pairing of the new centroids with the current ones.
    cost = np.linalg.norm(after.to_numpy()[:, None, :] - before.to_numpy()[None, :, :], axis=2)
    new_rows, old_rows = linear_sum_assignment(cost)
    expected = dict(zip(after.index[new_rows], before.index[old_rows], strict=True))
    got = rows.drop_duplicates("fitted_label").set_index("fitted_label")["segment_id"]
    assert got.to_dict() == expected


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_procedure_records_whether_a_run_passed_its_gates(procedures, built_project, runtime):
    passed = as_registry(train(procedures, runtime, built_project.database, None, 1))
    assert passed["passed_gates"].all() and passed["gate_failures"].isna().all()
    rejected = as_registry(
        train(procedures, runtime, built_project.database, None, 1, n_clusters=5)
    )
    assert not rejected["passed_gates"].any()
    assert all("without a name in the segments seed: 4" in f for f in rejected["gate_failures"])


def test_the_procedure_keeps_a_fresh_current_run_and_trains_nothing(
    procedures, features, built_project
):
    current = run_json(procedures[TRAIN], "@current_model", 1, built_project.database)
    rows = train(procedures, "sql2019", built_project.database, current, 2)
    assert rows.empty
    assert [c for c, _ in result_set(procedures[TRAIN])] == list(rows.columns)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_transitions_in_the_procedure_equal_the_python_models(
    procedures, features, built_project, runtime
):
    previous = built_project.query("select * from main.segment_model_registry where run_id = 1")
    shifted = previous.copy()
    shifted["run_id"], shifted["previous_run_id"] = 2, 1
    shifted["scaled_value"] = shifted["scaled_value"] * np.where(
        shifted["feature"] == "frequency", 1.2, 1.0
    )
    output = call(
        procedures[TRANSITIONS],
        runtime,
        built_project.database,
        {
            "previous_model_json": ("nvarchar(max)", _json(previous)),
            "current_model_json": ("nvarchar(max)", _json(shifted)),
        },
    )
    expected = transitions(previous, shifted, features)
    got = output.astype(expected.dtypes.to_dict())
    pd.testing.assert_frame_equal(
        got.sort_values(["from_segment_id", "to_segment_id"]).reset_index(drop=True),
        expected.sort_values(["from_segment_id", "to_segment_id"]).reset_index(drop=True),
    )


def _json(rows: pd.DataFrame) -> str:
    """Registry rows as the procedures' FOR JSON hands them over (floats as 17 digits)."""
    frame = rows.copy()
    for column in frame.columns:
        if frame[column].dtype.kind == "f":
            frame[column] = frame[column].map(lambda v: f"{v:.16e}")
        elif frame[column].dtype.kind == "M":
            frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return frame.astype(object).where(frame.notna(), None).to_json(orient="records")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_script_that_runs_as_a_module_but_not_in_transform_fails_in_the_emulator(
    procedures, features, runtime
):
    # The regression the generator exists to prevent: a future import left in the script.
    script = "from __future__ import annotations\n" + n_literal(procedures[SCORE], "@script")
    with pytest.raises(ExternalScriptError, match=r"(?s)sqlindb_0\.py.*SyntaxError"):
        run_external_script(
            runtime,
            script,
            input_data=features,
            input_types=FEATURE_INPUT_TYPES,
            input_data_1_name="my_input_data",
            params={"model_json": ("nvarchar(max)", "[]")},
        )


def test_the_core_embedded_as_written_fails_on_sql_server_2019(features):
    # Without the generator's rewriting (annotations such as tuple[str, ...], pandas 2 calls),
    # the core does not run on SQL Server 2019's Python 3.7 and pandas 0.23.
    core = "\n".join(
        line
        for module in sqlserver_script.BUNDLED_MODULES
        for line in Path(importlib.import_module(f"customer_segmentation.{module}").__file__)
        .read_text(encoding="utf-8")
        .splitlines()
        if not line.startswith(("from __future__", "from customer_segmentation"))
    )
    script = core + "\nOutputDataSet = score_from_procedure(my_input_data, '[]')\n"
    with pytest.raises(ExternalScriptError, match=r"sqlindb_0\.py"):
        run_external_script(
            "sql2019",
            script,
            input_data=features,
            input_types=FEATURE_INPUT_TYPES,
            input_data_1_name="my_input_data",
        )
