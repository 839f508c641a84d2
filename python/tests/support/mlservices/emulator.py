"""Run a Python script as SQL Server Machine Learning Services' ``sp_execute_external_script``
runs it, on the Python and packages each SQL Server version ships, so that tests can prove a
procedure's @script really runs there.

Each runtime is a virtualenv built by ``make mlservices`` from ``<runtime>-requirements.txt``
(its first line names the Python version). ``launcher.py`` runs inside it; see there for how
the script is wrapped. What SQL Server does and the emulator follows:

* @script is the body of ``transform(<input_data_1_name>, <params...>)`` in ``sqlindb_0.py``:
  ``from __future__`` imports are a SyntaxError, top-level names are locals of transform;
* input columns arrive typed by Microsoft's "Python and SQL data types" table (bigint and real
  as float64, smallint and tinyint as int32, bit as bool), NULL as NaN in numeric columns,
  in no particular order (a seeded shuffle);
* the output variable is converted by position to the WITH RESULT SETS types; a wrong column
  count, an overflow, a string too long, a non-integral value for an integer column fail.

Where SQL Server's behaviour is not documented the emulator is the stricter choice: a
string too long or a non-integral float for an int fails here (SQL Server's own conversion
may truncate), and NULL in an int column arrives as float64 NaN, in a bit column as None.
"""

from __future__ import annotations

import json
import keyword
import numbers
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import launcher

RUNTIMES: tuple[str, ...] = ("sql2019", "sql2022")
HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[3]
VENVS = PROJECT_ROOT / ".venv-mlservices"
LAUNCHER = HERE / "launcher.py"
# Nullable dtypes: any result-set column may hold NULL.
_RESULT_DTYPES = {
    "bigint": "Int64",
    "int": "Int32",
    "smallint": "Int16",
    "tinyint": "UInt8",
    "bit": "boolean",
    "float": "Float64",
    "real": "Float32",
    **dict.fromkeys(launcher.STRING_TYPES, "string"),
    **dict.fromkeys(launcher.DATE_TYPES, "datetime64[ns]"),
}
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")


class RuntimeMissingError(RuntimeError):
    """A runtime's virtualenv is not built, or is older than its requirements file."""


class ExternalScriptError(Exception):
    """``sp_execute_external_script`` failed; the message reads like SQL Server's."""

    def __init__(
        self,
        number: int,
        message: str,
        *,
        error_type: str = "",
        traceback: str = "",
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.number = number
        self.error_type = error_type
        self.traceback = traceback
        self.stdout = stdout
        self.stderr = stderr


class ResultSetError(ExternalScriptError):
    """The script ran, but its output does not convert to the WITH RESULT SETS columns."""


@dataclass(frozen=True)
class ExternalScriptResult:
    """What the caller of the procedure gets: the result set and the script's output."""

    output: pd.DataFrame
    stdout: str
    stderr: str


def requirements_file(runtime: str) -> Path:
    """The pinned requirements a runtime's virtualenv is built from."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; expected one of {RUNTIMES}")
    return HERE / f"{runtime}-requirements.txt"


def pinned_versions(runtime: str) -> dict[str, str]:
    """The ``==`` pins of a runtime's requirements file, plus ``python`` from its first line."""
    lines = requirements_file(runtime).read_text(encoding="utf-8").splitlines()
    pins = {"python": lines[0].split("python:", 1)[1].strip()}
    for line in lines:
        match = _PIN.match(line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def runtime_python(runtime: str) -> Path:
    """The interpreter of a runtime's virtualenv."""
    requirements_file(runtime)
    return VENVS / runtime / "bin" / "python"


def runtime_ready(runtime: str) -> bool:
    """Whether a runtime's virtualenv is built and newer than its requirements file."""
    stamp = VENVS / runtime / ".installed"
    return (
        stamp.exists()
        and runtime_python(runtime).exists()
        and stamp.stat().st_mtime >= requirements_file(runtime).stat().st_mtime
    )


def require_runtime(runtime: str) -> Path:
    """The runtime's interpreter, or RuntimeMissingError saying how to build it."""
    if not runtime_ready(runtime):
        raise RuntimeMissingError(
            f"the {runtime} ML Services runtime ({VENVS / runtime}) is missing or older than "
            f"{requirements_file(runtime).name}: run `make mlservices`"
        )
    return runtime_python(runtime)


def runtime_versions(runtime: str) -> dict[str, str]:
    """The versions of Python, pandas, numpy, scikit-learn and scipy a runtime reports."""
    completed = subprocess.run(
        [str(require_runtime(runtime)), "-I", str(LAUNCHER), "--versions"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def run_external_script(
    runtime: str,
    script: str,
    input_data: pd.DataFrame | None = None,
    input_types: Mapping[str, str] | None = None,
    input_data_1_name: str = "InputDataSet",
    params: Mapping[str, tuple[str, object]] | None = None,
    result_set: Sequence[tuple[str, str]] | None = None,
    shuffle_seed: int | None = 0,
    output_data_1_name: str = "OutputDataSet",
    timeout: float = 300.0,
) -> ExternalScriptResult:
    """Run ``script`` as ``sp_execute_external_script @language = N'Python'`` on ``runtime``.

    ``input_data`` holds the rows of @input_data_1 and ``input_types`` the T-SQL type of each
    of its columns (inferred from the dtypes when omitted); ``params`` maps each @params name
    to (T-SQL type, value); ``result_set`` is the WITH RESULT SETS column list (None: RESULT
    SETS UNDEFINED). ``shuffle_seed`` None keeps the input order. Raises ExternalScriptError
    (ResultSetError for a refused output) like SQL Server's messages.
    """
    python = require_runtime(runtime)
    for name in (input_data_1_name, output_data_1_name):
        _check_identifier(name)
    columns, rows = _input_rows(input_data, input_types)
    request = {
        "script": script,
        "input_name": input_data_1_name,
        "output": output_data_1_name,
        "columns": columns,
        "rows": rows,
        "params": _params(params or {}, input_data_1_name),
        "result_set": _result_set(result_set),
        "shuffle_seed": shuffle_seed,
    }
    with tempfile.TemporaryDirectory(prefix="mlservices-") as workdir:
        request_path, response_path = Path(workdir, "request.json"), Path(workdir, "response.json")
        request_path.write_text(json.dumps(request, allow_nan=False), encoding="utf-8")
        completed = subprocess.run(
            [str(python), "-I", str(LAUNCHER), str(request_path), str(response_path)],
            capture_output=True,
            text=True,
            cwd=workdir,
            timeout=timeout,
            check=False,
        )
        if not response_path.exists():
            raise RuntimeError(
                f"the {runtime} launcher failed (exit {completed.returncode}):\n{completed.stderr}"
            )
        response = json.loads(response_path.read_text(encoding="utf-8"))
    return _result(response)


def _check_identifier(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a Python identifier, so it cannot name a variable")


def _input_rows(
    data: pd.DataFrame | None, types: Mapping[str, str] | None
) -> tuple[list[dict[str, str]], list[list[object]]]:
    """The input query's columns (name, T-SQL type) and its rows as JSON values."""
    if data is None:
        return [], []
    names = [str(name) for name in data.columns]
    if types is None:
        types = {name: launcher.inferred_type(data[name]) for name in names}
    if sorted(types) != sorted(names):
        raise ValueError(f"input_types {sorted(types)} must name the input columns {names}")
    columns = [{"name": name, "type": types[name]} for name in names]
    values = [
        [_input_value(column["name"], column["type"], value) for value in series.tolist()]
        for column, (_, series) in zip(columns, data.items(), strict=True)
    ]
    return columns, [list(row) for row in zip(*values, strict=True)]


def _input_value(column: str, sql_type: str, value: object) -> object:
    """One input value as JSON, checked against the column's T-SQL type."""
    name, length = launcher.parse_sql_type(sql_type)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return _scalar(f"input column {column!r}", name, length, value)


def _scalar(where: str, name: str, length: int | None, value: object) -> object:
    """A value that fits T-SQL type ``name``, as JSON; ValueError when it cannot be one."""
    if name in launcher.INTEGER_RANGES:
        low, high = launcher.INTEGER_RANGES[name]
        integral = isinstance(value, numbers.Real) and float(value).is_integer()
        if isinstance(value, bool) or not integral or not low <= int(value) <= high:
            raise ValueError(f"{where}: {value!r} is not a {name}")
        return int(value)
    if name in ("float", "real"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{where}: {value!r} is not a {name}")
        return float(np.float32(value)) if name == "real" else float(value)
    if name == "bit":
        if value not in (0, 1):
            raise ValueError(f"{where}: {value!r} is not a bit")
        return bool(value)
    if name in launcher.DATE_TYPES:
        return pd.Timestamp(value).isoformat()
    if not isinstance(value, str) or (length is not None and len(value) > length):
        raise ValueError(f"{where}: {value!r} is not a {name}({length or 'max'})")
    return value


def _params(params: Mapping[str, tuple[str, object]], input_name: str) -> list[dict[str, object]]:
    """The @params declarations in order, each (name without @, T-SQL type, JSON value)."""
    declared = []
    for raw_name, (sql_type, value) in params.items():
        name = raw_name.removeprefix("@")
        _check_identifier(name)
        if name == input_name:
            raise ValueError(f"parameter @{name} has the name of the input data set")
        type_name, length = launcher.parse_sql_type(sql_type)
        json_value = None if value is None else _scalar(f"@{name}", type_name, length, value)
        declared.append({"name": name, "type": sql_type, "value": json_value})
    return declared


def _result_set(result_set: Sequence[tuple[str, str]] | None) -> list[dict[str, str]] | None:
    if result_set is None:
        return None
    for _, sql_type in result_set:
        if launcher.parse_sql_type(sql_type)[0] not in launcher.RESULT_TYPES:
            raise ValueError(f"{sql_type!r} is not an emulated WITH RESULT SETS type")
    return [{"name": name, "type": sql_type} for name, sql_type in result_set]


def _result(response: dict[str, Any]) -> ExternalScriptResult:
    """The result set of a successful run, or the SQL Server error of a failed one."""
    stdout, stderr = str(response["stdout"]), str(response["stderr"])
    if response["status"] == "script_error":
        traceback = str(response["traceback"])
        raise ExternalScriptError(
            39004,
            _script_error_message(traceback, stdout, stderr),
            error_type=str(response["error_type"]),
            traceback=traceback,
            stdout=stdout,
            stderr=stderr,
        )
    if response["status"] == "result_set_error":
        number = int(response["number"])
        lines = [f"Msg {number}, Level 16, State 1, Line 0", response["message"]]
        if response["detail"]:
            lines.append(f"(emulator: {response['detail']})")
        raise ResultSetError(number, "\n".join(lines), stdout=stdout, stderr=stderr)
    columns = response["columns"]
    frame = pd.DataFrame({i: _output_column(c) for i, c in enumerate(columns)})
    frame.columns = [c["name"] for c in columns]
    return ExternalScriptResult(output=frame, stdout=stdout, stderr=stderr)


def _output_column(column: dict[str, Any]) -> Any:
    """A result-set column as a pandas array of the column's (nullable) dtype."""
    name = launcher.parse_sql_type(column["type"])[0]
    values = column["values"]
    if name in launcher.DATE_TYPES:
        return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
    return pd.array(values, dtype=_RESULT_DTYPES[name])


def _script_error_message(traceback: str, stdout: str, stderr: str) -> str:
    """SQL Server's Msg 39004 and 39019, the runtime's traceback, then the script's output."""
    lines = [
        "Msg 39004, Level 16, State 20, Line 0",
        "A 'Python' script error occurred during execution of 'sp_execute_external_script' "
        "with HRESULT 0x80004004.",
        "Msg 39019, Level 16, State 2, Line 0",
        "An external script error occurred: ",
        "Error in execution.  Check the output for more information.",
        traceback.rstrip("\n"),
        "",
        "SqlSatelliteCall error: Error in execution.  Check the output for more information.",
    ]
    if stdout:
        lines += ["STDOUT message(s) from external script: ", stdout.rstrip("\n")]
    if stderr:
        lines += ["STDERR message(s) from external script: ", stderr.rstrip("\n")]
    return "\n".join(lines)
