"""The SQL Server client check says what to install instead of failing with a stack trace."""

from __future__ import annotations

from types import ModuleType

import pytest

from customer_segmentation.adapters.sqlserver_check import check


def importer(modules: dict[str, ModuleType | Exception]):
    def import_module(name: str) -> ModuleType:
        found = modules.get(name, ModuleNotFoundError(f"No module named {name!r}"))
        if isinstance(found, Exception):
            raise found
        return found

    return import_module


def fake_pyodbc(*drivers: str) -> ModuleType:
    module = ModuleType("pyodbc")
    module.drivers = lambda: list(drivers)
    return module


def test_missing_unixodbc_names_the_package_to_install():
    missing = ImportError("libodbc.so.2: cannot open shared object file: No such file")
    problems = check({}, importer({"pyodbc": missing}))
    assert len(problems) == 1
    assert "libodbc.so.2" in problems[0]
    assert "apt-get install unixodbc" in problems[0]
    assert "msodbcsql18" in problems[0]
    assert "MSSQL_BACKEND=mssql-python" in problems[0]


def test_missing_odbc_driver_18_lists_the_installed_drivers():
    problems = check({}, importer({"pyodbc": fake_pyodbc("FreeTDS")}))
    assert len(problems) == 1
    assert "'ODBC Driver 18 for SQL Server'" in problems[0]
    assert "FreeTDS" in problems[0]
    assert "msodbcsql18" in problems[0]


def test_installed_driver_named_in_mssql_driver_passes():
    environ = {"MSSQL_DRIVER": "ODBC Driver 17 for SQL Server"}
    assert check(environ, importer({"pyodbc": fake_pyodbc("ODBC Driver 17 for SQL Server")})) == []
    assert check(environ, importer({"pyodbc": fake_pyodbc("ODBC Driver 18 for SQL Server")}))


def test_mssql_python_backend_needs_no_odbc_driver():
    environ = {"MSSQL_BACKEND": "mssql-python"}
    missing_odbc = ImportError("libodbc.so.2: cannot open shared object file")
    modules = {"mssql_python": ModuleType("mssql_python"), "pyodbc": missing_odbc}
    assert check(environ, importer(modules)) == []
    problems = check(environ, importer({}))
    assert len(problems) == 1
    assert "dbt-sqlserver[mssql]==1.11.3" in problems[0]


@pytest.mark.parametrize("backend", ["odbc", "pymssql"])
def test_unknown_backend_is_named(backend):
    problems = check({"MSSQL_BACKEND": backend}, importer({}))
    assert problems and repr(backend) in problems[0]
