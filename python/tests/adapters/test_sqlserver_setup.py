"""The DBA's one-time setup (sqlserver/setup.sql, printed by `make sqlserver-setup`): filled
in, every batch parses as T-SQL; it grants the dbt user exactly what docs/sqlserver.md lists,
and SELECT on the PII schema to no other role than the campaign role; its PII schema is the
one dbt builds into."""

from __future__ import annotations

import json
import os
import re

import pytest
import sqlfluff
from conftest import PROJECT_DIR
from sqlserver_fake import invoke_sqlserver

from customer_segmentation.adapters.sqlserver_setup import render, setup_script, setup_variables
from customer_segmentation.cli import sqlserver as sqlserver_cli

GUIDE = PROJECT_DIR / "docs" / "sqlserver.md"
# T-SQL permissions the guide may list for the dbt user.
PERMISSIONS = {
    "ALTER",
    "CREATE PROCEDURE",
    "CREATE TABLE",
    "CREATE VIEW",
    "DELETE",
    "EXECUTE",
    "EXECUTE ANY EXTERNAL SCRIPT",
    "INSERT",
    "SELECT",
    "UPDATE",
    "VIEW DEFINITION",
}
GRANT = re.compile(
    r"GRANT (?P<permissions>.+?)(?: ON (?P<securable>\S+))? TO \[(?P<grantee>[^\]]+)\]"
    r"(?P<option> WITH GRANT OPTION)?;",
    re.IGNORECASE,
)


def batches(script: str) -> list[str]:
    """The batches sqlcmd and SSMS send: the text between `GO` lines."""
    parts = re.split(r"^\s*GO\s*$", script, flags=re.MULTILINE | re.IGNORECASE)
    return [part.strip() for part in parts if part.strip()]


def grants(script: str) -> list[tuple[str, str, str, bool]]:
    """(permission, securable or "" for the database, grantee, with grant option) of every
    GRANT statement."""
    statements = " ".join(re.sub(r"--[^\n]*", "", script).split())
    return [
        (
            permission.strip().upper(),
            match["securable"] or "",
            match["grantee"],
            bool(match["option"]),
        )
        for match in GRANT.finditer(statements)
        for permission in match["permissions"].split(",")
    ]


@pytest.fixture(scope="module")
def script() -> str:
    """setup.sql as `make sqlserver-setup` prints it with no MSSQL_* set."""
    return setup_script(PROJECT_DIR, {})


def test_the_printed_setup_fills_in_every_variable_from_the_profiles_defaults(script, capsys):
    assert "$(" not in script
    assert "USE [tpcxbb_1gb];" in script
    assert sqlserver_cli.main(["--project-dir", str(PROJECT_DIR), "setup"]) == 0
    assert capsys.readouterr().out == setup_script(PROJECT_DIR, os.environ)


def test_the_variables_follow_the_mssql_settings():
    values = setup_variables(
        PROJECT_DIR, {"MSSQL_DATABASE": "tpcxbb_10gb", "MSSQL_SCHEMA": "segmentation"}
    )
    assert values["DatabaseName"] == "tpcxbb_10gb"
    assert values["Schema"] == "segmentation"
    assert values["PiiSchema"] == "segmentation_pii"
    assert values["BuildLogin"] == "dbt_user"
    assert (
        setup_variables(PROJECT_DIR, {"MSSQL_USER": "CORP\\svc_dbt"})["BuildLogin"]
        == "CORP\\svc_dbt"
    )


@pytest.mark.parametrize("value", ["dbo]; drop table customer; --", "x'y", "two words", "[x]"])
def test_a_setting_that_could_break_out_of_a_name_is_refused(value):
    with pytest.raises(ValueError, match=r"^Schema="):
        setup_variables(PROJECT_DIR, {"MSSQL_SCHEMA": value})


def test_a_variable_without_a_value_is_an_error():
    with pytest.raises(ValueError, match="Unknown"):
        render("USE [$(Unknown)];", {"DatabaseName": "x"})


def test_every_batch_parses_as_tsql(script):
    parts = batches(script)
    assert len(parts) >= 8
    for number, batch in enumerate(parts, start=1):
        try:
            sqlfluff.parse(batch, dialect="tsql")
        except sqlfluff.api.APIParsingError as exc:
            pytest.fail(f"batch {number} of setup.sql does not parse as T-SQL: {exc}\n{batch}")


def test_it_enables_external_scripts_after_checking_machine_learning_services(script):
    assert "SERVERPROPERTY('IsAdvancedAnalyticsInstalled')" in script
    assert "EXEC sp_configure 'external scripts enabled', 1;" in script
    assert "RECONFIGURE" in script and "Launchpad" in script


def test_it_creates_the_schemas_owned_by_dbo_and_the_roles_only_when_missing(script):
    for schema in ("dbo", "dbo_pii"):
        assert f"IF SCHEMA_ID(N'{schema}') IS NULL" in script
        assert f"CREATE SCHEMA [{schema}] AUTHORIZATION [dbo];" in script
    for role in ("campaign_mailer", "segmentation_builder"):
        assert f"IF DATABASE_PRINCIPAL_ID(N'{role}') IS NULL" in script
        assert f"CREATE ROLE [{role}] AUTHORIZATION [dbo];" in script
    assert "ALTER ROLE [segmentation_builder] ADD MEMBER [dbt_user];" in script


def test_it_grants_the_dbt_user_what_the_guide_lists(script):
    section = GUIDE.read_text(encoding="utf-8").split("## Setting up the server")[1]
    section = section.split("\n#")[0]
    listed = set(re.findall(r"`([A-Z][A-Z ]+)`", " ".join(section.split()))) & PERMISSIONS
    granted = {
        permission
        for permission, _, grantee, _ in grants(script)
        if grantee in ("segmentation_builder", "dbt_user")
    }
    assert listed == granted
    builder = {(permission, on) for permission, on, grantee, _ in grants(script)}
    for schema in ("SCHEMA::[dbo]", "SCHEMA::[dbo_pii]"):
        for permission in ("ALTER", "SELECT", "INSERT", "UPDATE", "DELETE", "EXECUTE"):
            assert (permission, schema) in builder


def test_only_the_campaign_role_reads_the_pii_schema_and_the_dbt_user_may_grant_it(script):
    readers = {
        (grantee, option)
        for permission, on, grantee, option in grants(script)
        if on == "SCHEMA::[dbo_pii]" and permission == "SELECT"
    }
    # The build role reads what it builds; the dbt user's grant option lets dbt grant the
    # campaign role SELECT on each model (a role's grant option would need GRANT ... AS).
    assert readers == {
        ("campaign_mailer", False),
        ("segmentation_builder", False),
        ("dbt_user", True),
    }


def test_the_pii_schema_is_the_one_dbt_builds_the_pii_models_into(tmp_path, monkeypatch):
    monkeypatch.setenv("MSSQL_SCHEMA", "segmentation")
    result = invoke_sqlserver(tmp_path, "parse")
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    emails = manifest["nodes"]["model.customer_segmentation.customer_campaign_emails"]
    assert (
        emails["schema"]
        == setup_variables(PROJECT_DIR, {"MSSQL_SCHEMA": "segmentation"})["PiiSchema"]
    )
