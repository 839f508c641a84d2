"""Print the one-time SQL Server setup (``sqlserver/setup.sql``) with its sqlcmd variables
filled in from the settings the dbt profile uses, for a DBA to run (``make sqlserver-setup``,
``segmentation-sqlserver setup``).

The database, the dbt login and the target schema come from the MSSQL_* environment
variables of ``profiles.yml``, with the profile's defaults; the PII schema is dbt's name for
the custom schema ``pii`` (``<schema>_pii``); the campaign role is the default of the var
``campaign_role``. Every value must be a plain identifier: it is spliced into T-SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

# Relative to the dbt project.
SETUP_SQL = Path("sqlserver") / "setup.sql"
PROFILES = Path("profiles.yml")
DBT_PROJECT = Path("dbt_project.yml")
BUILD_ROLE = "segmentation_builder"
SOURCE_SCHEMA = "dbo"
# The login when MSSQL_USER is unset (the profile's default is empty: Entra ID, say).
DEFAULT_LOGIN = "dbt_user"

_VARIABLE = re.compile(r"\$\((\w+)\)")
_ENV_DEFAULT = re.compile(r"env_var\('(MSSQL_\w+)',\s*'([^']*)'\)")
# A name that is safe inside [...] and N'...': no bracket, quote, semicolon or blank. A
# Windows login (DOMAIN\user) and dots are allowed.
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_@#$.\\-]{0,127}")


def profile_defaults(profiles: Path) -> dict[str, str]:
    """The default of every MSSQL_* environment variable profiles.yml reads."""
    return dict(_ENV_DEFAULT.findall(profiles.read_text(encoding="utf-8")))


def setup_variables(project: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The value of each sqlcmd variable of setup.sql, checked to be a safe identifier, from
    ``environ`` and the profile and vars of the dbt project in ``project``."""
    defaults = profile_defaults(project / PROFILES)
    dbt_project = project / DBT_PROJECT

    def setting(name: str) -> str:
        return environ.get(name) or defaults[name]

    schema = setting("MSSQL_SCHEMA")
    project_vars = yaml.safe_load(dbt_project.read_text(encoding="utf-8"))["vars"]
    values = {
        "DatabaseName": setting("MSSQL_DATABASE"),
        "BuildLogin": setting("MSSQL_USER") or DEFAULT_LOGIN,
        "Schema": schema,
        "PiiSchema": f"{schema}_pii",
        "SourceSchema": SOURCE_SCHEMA,
        "CampaignRole": str(project_vars["campaign_role"]),
        "BuildRole": BUILD_ROLE,
    }
    for name, value in values.items():
        if not _SAFE_NAME.fullmatch(value):
            raise ValueError(
                f"{name}={value!r} is not allowed in setup.sql: use letters, digits and _ "
                "(no brackets, quotes, semicolons or blanks)"
            )
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    """The script with every $(Name) replaced; a variable without a value is an error."""
    missing = sorted(set(_VARIABLE.findall(template)) - values.keys())
    if missing:
        raise ValueError(f"setup.sql uses variables without a value: {', '.join(missing)}")
    return _VARIABLE.sub(lambda match: values[match.group(1)], template)


def setup_script(project: Path, environ: Mapping[str, str]) -> str:
    """setup.sql of the project in ``project`` with every variable filled in."""
    template = (project / SETUP_SQL).read_text(encoding="utf-8")
    return render(template, setup_variables(project, environ))
