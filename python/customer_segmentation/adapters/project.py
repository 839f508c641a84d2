"""Where the dbt project is: given, else $DBT_PROJECT_DIR, else the working directory.

The package never looks for the project beside its own files (an installed wheel has none).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR_ENV = "DBT_PROJECT_DIR"


def project_dir(given: Path | str | None = None) -> Path:
    """The dbt project's directory, checked to hold dbt_project.yml."""
    chosen = given or os.environ.get(PROJECT_DIR_ENV) or Path.cwd()
    path = Path(chosen).resolve()
    if not (path / "dbt_project.yml").is_file():
        raise FileNotFoundError(
            f"{path} holds no dbt_project.yml: run from the project directory, set "
            f"{PROJECT_DIR_ENV}, or pass --project-dir"
        )
    return path
