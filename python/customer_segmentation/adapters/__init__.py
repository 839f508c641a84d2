"""Adapters around the core: DuckDB, HTTP, dbt, SQL Server tools, plots.

They import the core and each other, never the command lines."""
