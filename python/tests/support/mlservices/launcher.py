"""Runs one @script inside an ML Services runtime, the way ``sp_execute_external_script`` does.

Started by ``emulator.py`` with the runtime's own interpreter: ``python -I launcher.py
REQUEST.json RESPONSE.json``. It builds the input DataFrame by SQL Server's type map, shuffles
its rows (a SELECT without ORDER BY has no order), writes ``sqlindb_0.py`` (a preamble, then
``def transform(<input>, <params>):`` with the script as its body), imports it, calls it, and
converts the output variable to the WITH RESULT SETS types. The request and the response are
JSON, never pickle: the two sides run different pandas versions.

It must stay valid Python 3.7 and work with pandas 0.23 (SQL Server 2019) as well as pandas 2
(SQL Server 2022); ``emulator.py`` imports its type tables too, so there is one copy of them.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import math
import re
import sys
import traceback
import uuid
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MODULE_NAME = "sqlindb_0"
INTEGER_RANGES = {
    "tinyint": (0, 2**8 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
STRING_TYPES = ("char", "varchar", "nchar", "nvarchar")
DATE_TYPES = ("date", "smalldatetime", "datetime", "datetime2")
# Microsoft's "Python and SQL data types" table (int and datetime2 are missing from it, and
# arrive as int32 and datetime64): the dtype an input column of each T-SQL type gets.
INPUT_DTYPES = {
    "bigint": "float64",
    "int": "int32",
    "smallint": "int32",
    "tinyint": "int32",
    "bit": "bool",
    "float": "float64",
    "real": "float64",
    "uniqueidentifier": "object",
    **{name: "object" for name in STRING_TYPES},
    **{name: "datetime64[ns]" for name in DATE_TYPES},
}
# The Python type of a @params variable of each T-SQL type: the same map, as scalars.
PARAM_TYPES = {
    "bigint": float,
    "int": int,
    "smallint": int,
    "tinyint": int,
    "bit": bool,
    "float": float,
    "real": float,
    "uniqueidentifier": str,
    **{name: str for name in STRING_TYPES},
    **{name: datetime.datetime.fromisoformat for name in DATE_TYPES},
}
RESULT_TYPES = (*INTEGER_RANGES, "bit", "float", "real", *STRING_TYPES, *DATE_TYPES)
_TYPE_PATTERN = re.compile(r"^\s*([a-z0-9]+)\s*(?:\(\s*(max|\d+)\s*\))?\s*$", re.IGNORECASE)
_REAL_MAX = float(np.finfo(np.float32).max)


class ConversionError(Exception):
    """SQL Server refused the output: the conversion to the WITH RESULT SETS types failed."""

    def __init__(self, number: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.number = number
        self.message = message
        self.detail = detail


def parse_sql_type(text: str) -> tuple[str, int | None]:
    """Split a T-SQL type into (name, length): ``nvarchar(40)`` -> ("nvarchar", 40).

    The length is None for ``(max)`` and for types without one; a bare string type has
    length 1, as in T-SQL declarations.
    """
    match = _TYPE_PATTERN.match(text)
    if match is None or match.group(1).lower() not in INPUT_DTYPES:
        raise ValueError(f"T-SQL type {text!r} is not in SQL Server's Python type map")
    name, length = match.group(1).lower(), match.group(2)
    if name in STRING_TYPES:
        if length is None:
            return name, 1
        return name, None if length.lower() == "max" else int(length)
    if length is not None and name not in ("datetime2", "float"):
        raise ValueError(f"T-SQL type {text!r} takes no length")
    return name, None


def generated_module(script: str, input_name: str, param_names: list[str], output: str) -> str:
    """The text of ``sqlindb_0.py``: a short preamble, then the script as transform's body."""
    body = [f"    {line}" if line.strip() else "" for line in script.splitlines()]
    return "\n".join(
        [
            "# Generated as SQL Server generates it: @script is the body of transform().",
            "import pandas as _sqlindb_pandas",
            "",
            f"{output} = _sqlindb_pandas.DataFrame()",
            "",
            "",
            f"def transform({', '.join([input_name, *param_names])}):",
            *body,
            f"    return {output}",
            "",
        ]
    )


def input_frame(columns: list[dict[str, Any]], rows: list[list[Any]], seed: int | None) -> Any:
    """The input DataFrame typed by the map, its rows in a seeded order, index 0..n-1."""
    data = {}
    for position, column in enumerate(columns):
        values = [row[position] for row in rows]
        data[column["name"]] = _input_column(parse_sql_type(column["type"])[0], values)
    frame = pd.DataFrame(data, columns=[column["name"] for column in columns])
    if seed is not None and len(frame) > 1:
        order = np.random.RandomState(seed).permutation(len(frame))
        frame = frame.take(order).reset_index(drop=True)
    return frame


def _input_column(name: str, values: list[Any]) -> Any:
    """One column as SQL Server hands it over; NULL is NaN in numbers, None or NaT otherwise."""
    dtype = INPUT_DTYPES[name]
    has_null = any(value is None for value in values)
    if dtype == "float64" or (dtype == "int32" and has_null):
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    if dtype == "bool" and has_null:
        return np.array(values, dtype="object")
    if dtype == "datetime64[ns]":
        return pd.to_datetime(pd.Series(values, dtype="object")).values
    return np.array(values, dtype=dtype)


def param_value(sql_type: str, value: Any) -> Any:
    """A @params value as the Python variable the script sees (None for NULL)."""
    if value is None:
        return None
    return PARAM_TYPES[parse_sql_type(sql_type)[0]](value)


def run_transform(path: Path, source: str, arguments: list[Any]) -> Any:
    """Write ``sqlindb_0.py`` at ``path``, import it, and call its transform."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module.transform(*arguments)


def script_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the first frame in ``sqlindb_0.py`` on; the launcher's are dropped."""
    frames = traceback.extract_tb(error.__traceback__)
    first = next((i for i, f in enumerate(frames) if f.filename == str(path)), len(frames))
    lines = ["Traceback (most recent call last):\n"]
    lines.extend(traceback.format_list(frames[first:]))
    lines.extend(traceback.format_exception_only(type(error), error))
    return "".join(lines)


def result_columns(output: Any, result_set: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    """Convert the output DataFrame, column by column, to the WITH RESULT SETS types.

    Columns match by position, as in SQL Server; without a result set each column gets the
    type SQL Server infers from its dtype.
    """
    if not isinstance(output, pd.DataFrame):
        raise ConversionError(
            39004, "The output data set is not a pandas DataFrame.", type(output).__name__
        )
    if result_set is None:
        result_set = [
            {"name": str(name), "type": inferred_type(output[name])} for name in output.columns
        ]
    if len(output.columns) == 0 and result_set:
        raise ConversionError(
            11536,
            "EXECUTE statement failed because its WITH RESULT SETS clause specified 1 result "
            "set(s), but the statement only sent 0 result set(s) at run time.",
        )
    if len(output.columns) != len(result_set):
        raise ConversionError(
            11537,
            "EXECUTE statement failed because its WITH RESULT SETS clause specified "
            f"{len(result_set)} column(s) for result set number 1, but the statement sent "
            f"{len(output.columns)} column(s) at run time.",
        )
    columns = []
    for position, column in enumerate(result_set):
        name, length = parse_sql_type(column["type"])
        converted = []
        for row, value in enumerate(output.iloc[:, position].tolist(), start=1):
            try:
                converted.append(_result_value(name, length, value))
            except ConversionError as error:
                error.detail = f"column {column['name']!r} (#{position + 1}), row {row}: {value!r}"
                raise
            except (TypeError, ValueError, OverflowError):
                raise ConversionError(
                    8114,
                    f"Error converting data type {type(value).__name__} to {name}.",
                    f"column {column['name']!r} (#{position + 1}), row {row}: {value!r}",
                ) from None
        columns.append({"name": column["name"], "type": column["type"], "values": converted})
    return columns


def inferred_type(series: Any) -> str:
    """The T-SQL type SQL Server sends for a column when no result set is declared.

    An object column takes the type of its first non-null value (bit for bool, bigint for
    int, float for float), else ``nvarchar(max)``.
    """
    kind, size = series.dtype.kind, series.dtype.itemsize
    if kind == "O":
        values = series.dropna()
        kind = np.asarray(values.iloc[:1].tolist()).dtype.kind if len(values) else "O"
    if kind == "b":
        return "bit"
    if kind in "iu":
        return "bigint" if size == 8 else "int"
    if kind == "f":
        return "float"
    if kind == "M":
        return "datetime2"
    return "nvarchar(max)"


def _result_value(name: str, length: int | None, value: Any) -> Any:
    """One output value as the JSON of its result-set type; None for NULL."""
    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        raise ConversionError(8114, f"Error converting data type {type(value).__name__} to {name}.")
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if name in INTEGER_RANGES:
        return _integer(name, value)
    if name == "bit":
        return _bit(value)
    if name in ("float", "real"):
        return _float(name, value)
    if name in STRING_TYPES:
        return _string(name, length, value)
    return _datetime(name, value)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise ConversionError(
                245,
                f"Conversion failed when converting the nvarchar value '{value}' to data type "
                f"{name}.",
            ) from None
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != math.floor(value):
            raise ConversionError(8114, f"Error converting data type float to {name}.")
        number = int(value)
    else:
        number = int(value)
    low, high = INTEGER_RANGES[name]
    if not low <= number <= high:
        raise ConversionError(
            8115, f"Arithmetic overflow error converting expression to data type {name}."
        )
    return number


def _bit(value: Any) -> bool:
    if isinstance(value, str):
        text = value.strip().lower()
        if text not in ("1", "0", "true", "false"):
            raise ConversionError(
                245,
                f"Conversion failed when converting the nvarchar value '{value}' to data type bit.",
            )
        return text in ("1", "true")
    return bool(value)


def _float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConversionError(8114, f"Error converting data type nvarchar to {name}.") from None
    if not math.isfinite(number) or (name == "real" and abs(number) > _REAL_MAX):
        raise ConversionError(
            8115, f"Arithmetic overflow error converting expression to data type {name}."
        )
    return float(np.float32(number)) if name == "real" else number


def _string(name: str, length: int | None, value: Any) -> str:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, np.integer)):
        raise ConversionError(8114, f"Error converting data type {type(value).__name__} to {name}.")
    text = str(value)
    if length is not None and len(text) > length:
        raise ConversionError(8152, "String or binary data would be truncated.")
    if name in ("char", "nchar") and length is not None:
        text = text.ljust(length)
    return text


def _datetime(name: str, value: Any) -> str:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ConversionError(
            241, "Conversion failed when converting date and/or time from character string."
        ) from None
    return (stamp.normalize() if name == "date" else stamp).isoformat()


def versions() -> dict[str, str]:
    """The versions a runtime reports: Python and the packages the scripts import."""
    import scipy
    import sklearn

    return {
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
    }


def execute(request: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one request; return the response (rows or the error) and the captured output."""
    directory = workdir / str(uuid.uuid4())
    directory.mkdir()
    path = directory / f"{MODULE_NAME}.py"
    params = request["params"]
    frame = input_frame(request["columns"], request["rows"], request["shuffle_seed"])
    arguments = [frame] + [param_value(p["type"], p["value"]) for p in params]
    source = generated_module(
        request["script"], request["input_name"], [p["name"] for p in params], request["output"]
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    response: dict[str, Any]
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            output = run_transform(path, source, arguments)
    except (Exception, SystemExit) as error:
        response = {
            "status": "script_error",
            "error_type": type(error).__name__,
            "traceback": script_traceback(error, path),
        }
    else:
        try:
            response = {"status": "ok", "columns": result_columns(output, request["result_set"])}
        except ConversionError as error:
            response = {
                "status": "result_set_error",
                "number": error.number,
                "message": error.message,
                "detail": error.detail,
            }
    response["stdout"] = stdout.getvalue()
    response["stderr"] = stderr.getvalue()
    return response


def main(argv: list[str]) -> int:
    """``launcher.py REQUEST RESPONSE`` runs a script; ``launcher.py --versions`` prints them."""
    if argv[1:] == ["--versions"]:
        print(json.dumps(versions()))
        return 0
    sys.dont_write_bytecode = True
    request_path, response_path = Path(argv[1]), Path(argv[2])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    response = execute(request, request_path.parent)
    response_path.write_text(json.dumps(response, allow_nan=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
