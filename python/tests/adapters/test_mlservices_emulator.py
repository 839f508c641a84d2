"""The ML Services emulator runs a script as SQL Server's ``sp_execute_external_script`` runs
it, on the Python and packages SQL Server 2019 and 2022 ship (``make mlservices`` builds them)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from mlservices import emulator
from mlservices.emulator import (
    RUNTIMES,
    ExternalScriptError,
    ResultSetError,
    RuntimeMissingError,
    pinned_versions,
    run_external_script,
    runtime_versions,
)


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each SQL Server runtime in turn."""
    return request.param


def test_a_future_import_is_a_syntax_error_because_the_script_is_a_function_body(
    runtime: str,
) -> None:
    script = "from __future__ import annotations\nOutputDataSet = InputDataSet\n"

    with pytest.raises(ExternalScriptError) as failure:
        run_external_script(runtime, script)

    assert failure.value.error_type == "SyntaxError"
    assert "sqlindb_0.py" in str(failure.value)
    assert "Msg 39004" in str(failure.value)


def test_top_level_names_of_the_script_are_locals_of_transform(runtime: str) -> None:
    script = "seed = 7\nprint('seed' in locals(), 'seed' in globals())\n"

    result = run_external_script(runtime, script)

    assert result.stdout == "True False\n"


@pytest.mark.parametrize(("runtime", "fails"), [("sql2019", True), ("sql2022", False)])
def test_dataframe_to_numpy_fails_in_transform_on_pandas_0_23_only(
    runtime: str, fails: bool
) -> None:
    script = "values = InputDataSet.to_numpy()\n"
    data = pd.DataFrame({"x": [1.0, 2.0]})

    if not fails:
        run_external_script(runtime, script, data)
        return
    with pytest.raises(ExternalScriptError) as failure:
        run_external_script(runtime, script, data)
    assert failure.value.error_type == "AttributeError"
    assert re.search(r'sqlindb_0\.py", line \d+, in transform', failure.value.traceback)
    assert "has no attribute 'to_numpy'" in str(failure.value)


@pytest.mark.parametrize(("runtime", "fails"), [("sql2019", True), ("sql2022", False)])
def test_builtin_generic_annotations_fail_on_python_3_7_only(runtime: str, fails: bool) -> None:
    script = "def first(names: tuple[str, ...]) -> str:\n    return names[0]\n"

    if not fails:
        run_external_script(runtime, script)
        return
    with pytest.raises(ExternalScriptError) as failure:
        run_external_script(runtime, script)
    assert failure.value.error_type == "TypeError"
    assert "not subscriptable" in str(failure.value)


def test_input_columns_arrive_typed_by_the_sql_server_type_map(runtime: str) -> None:
    data = pd.DataFrame(
        {"customer": [11, 12], "orders": [3, 4], "name": ["ann", "bob"], "opted_out": [1, 0]}
    )
    types = {"customer": "bigint", "orders": "int", "name": "nvarchar(40)", "opted_out": "bit"}
    script = (
        "import pandas as pd\n"
        "OutputDataSet = pd.DataFrame({\n"
        "    'dtype': [str(t) for t in my_input_data.dtypes],\n"
        "    'first': [type(my_input_data[c][0]).__name__ for c in my_input_data.columns],\n"
        "})\n"
    )

    result = run_external_script(
        runtime,
        script,
        data,
        types,
        input_data_1_name="my_input_data",
        result_set=[("dtype", "nvarchar(20)"), ("first", "nvarchar(20)")],
    )

    assert result.output.to_dict("list") == {
        "dtype": ["float64", "int32", "object", "bool"],
        "first": ["float64", "int32", "str", "bool_"],
    }


def test_input_rows_arrive_in_another_order_than_the_query_gave_them(runtime: str) -> None:
    data = pd.DataFrame({"customer": list(range(10))})

    result = run_external_script(
        runtime,
        "OutputDataSet = InputDataSet\n",
        data,
        {"customer": "int"},
        result_set=[("customer", "int")],
        shuffle_seed=0,
    )

    received = result.output["customer"].tolist()
    assert received != list(range(10))
    assert sorted(received) == list(range(10))


def test_params_arrive_as_variables_of_their_python_types(runtime: str) -> None:
    params = {
        "model_json": ("nvarchar(max)", '{"k": 4}'),
        "n_clusters": ("int", 4),
        "tolerance": ("float", 0.5),
        "scale": ("bit", True),
    }
    script = "print(*[type(v).__name__ for v in (model_json, n_clusters, tolerance, scale)])\n"

    result = run_external_script(runtime, script, params=params)

    assert result.stdout == "str int float bool\n"


def test_output_is_converted_by_position_to_the_result_set_types(runtime: str) -> None:
    script = (
        "import numpy as np\n"
        "import pandas as pd\n"
        "OutputDataSet = pd.DataFrame(\n"
        "    {'a': [2 ** 53 + 1, 7], 'b': [np.nan, 0.1], 'c': [2.0, 0.0], 'd': ['x', None]}\n"
        ")\n"
    )
    result_set = [
        ("Customer", "bigint"),
        ("frequency", "float"),
        ("cluster", "int"),
        ("segment", "nvarchar(10)"),
    ]

    result = run_external_script(runtime, script, result_set=result_set)

    expected = pd.DataFrame(
        {
            "Customer": pd.array([2**53 + 1, 7], dtype="Int64"),
            "frequency": pd.array([None, 0.1], dtype="Float64"),
            "cluster": pd.array([2, 0], dtype="Int32"),
            "segment": pd.array(["x", None], dtype="string"),
        }
    )
    pd.testing.assert_frame_equal(result.output, expected)


@pytest.mark.parametrize(
    ("output", "result_type", "message"),
    [
        ("{'a': [1], 'b': [2]}", "int", "Msg 11537"),
        ("{'a': ['too long']}", "nvarchar(3)", "String or binary data would be truncated"),
        ("{'a': [2 ** 31]}", "int", "Arithmetic overflow error converting expression"),
        ("{'a': [1.5]}", "int", "Error converting data type float to int"),
    ],
)
def test_output_that_does_not_fit_the_result_set_fails(
    output: str, result_type: str, message: str
) -> None:
    script = f"import pandas as pd\nOutputDataSet = pd.DataFrame({output})\n"

    with pytest.raises(ResultSetError, match=message):
        run_external_script("sql2019", script, result_set=[("a", result_type)])


def test_a_runtime_reports_the_versions_its_requirements_pin(runtime: str) -> None:
    pins = pinned_versions(runtime)

    reported = runtime_versions(runtime)

    assert reported["python"].startswith(pins["python"] + ".")
    assert {name: reported[name] for name in ("pandas", "numpy", "scikit-learn", "scipy")} == {
        name: pins[name] for name in ("pandas", "numpy", "scikit-learn", "scipy")
    }


def test_a_missing_runtime_fails_saying_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emulator, "VENVS", tmp_path)

    with pytest.raises(RuntimeMissingError, match="run `make mlservices`"):
        run_external_script("sql2019", "OutputDataSet = InputDataSet\n")
