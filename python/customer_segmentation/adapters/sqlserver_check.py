"""Check that this machine can connect to SQL Server before dbt tries, and say what is missing.

dbt-sqlserver imports its database driver only when it connects; a missing unixODBC library
then surfaces as a raw ImportError stack trace. ``make sqlserver-deploy`` and
``make sqlserver-build`` run this check first, so the user reads what to install instead.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType

DEFAULT_DRIVER = "ODBC Driver 18 for SQL Server"
DBT_SQLSERVER = "dbt-sqlserver==1.11.3"
MSSQL_PYTHON_EXTRA = DBT_SQLSERVER.replace("==", "[mssql]==")
INSTALL_UNIXODBC = (
    "  install unixODBC: sudo apt-get install unixodbc (macOS: brew install unixodbc)"
)
INSTALL_MSODBC = (
    "  install Microsoft ODBC Driver 18 for SQL Server (Debian/Ubuntu: add Microsoft's package\n"
    "  repository, then sudo ACCEPT_EULA=Y apt-get install msodbcsql18), see\n"
    "  https://learn.microsoft.com/sql/connect/odbc/linux-mac/"
    "installing-the-microsoft-odbc-driver-for-sql-server"
)
NO_ODBC_ALTERNATIVE = (
    "  or use the mssql-python backend, which needs no ODBC driver:\n"
    f'  pip install "{MSSQL_PYTHON_EXTRA}" and export MSSQL_BACKEND=mssql-python'
)


def check(
    environ: dict[str, str] | None = None,
    import_module: Callable[[str], ModuleType] = importlib.import_module,
) -> list[str]:
    """Problems that would stop dbt from connecting, each with its fix; empty when none."""
    environ = dict(os.environ) if environ is None else environ
    backend = environ.get("MSSQL_BACKEND", "pyodbc").strip() or "pyodbc"
    if backend == "mssql-python":
        try:
            import_module("mssql_python")
        except ImportError as exc:
            return [
                f"the mssql-python backend is selected but cannot be imported ({exc})\n"
                f'  pip install "{MSSQL_PYTHON_EXTRA}"; on Debian/Ubuntu it also needs\n'
                "  sudo apt-get install libltdl7 libkrb5-3 libgssapi-krb5-2"
            ]
        return []
    if backend != "pyodbc":
        return [f"MSSQL_BACKEND={backend!r} is not a dbt-sqlserver backend: pyodbc or mssql-python"]
    try:
        pyodbc = import_module("pyodbc")
    except ModuleNotFoundError:
        return [f"pyodbc is not installed: pip install {DBT_SQLSERVER} (or make venv)"]
    except ImportError as exc:
        return [
            f"pyodbc cannot load the unixODBC library ({exc})\n"
            f"{INSTALL_UNIXODBC}\nthen\n{INSTALL_MSODBC}\n{NO_ODBC_ALTERNATIVE}"
        ]
    driver = environ.get("MSSQL_DRIVER", DEFAULT_DRIVER)
    installed = list(pyodbc.drivers())
    if driver not in installed:
        return [
            f"the ODBC driver {driver!r} (MSSQL_DRIVER) is not installed; installed ODBC "
            f"drivers: {', '.join(installed) or 'none'}\n{INSTALL_MSODBC}\n{NO_ODBC_ALTERNATIVE}"
        ]
    return []
