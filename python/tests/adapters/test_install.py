"""The package works as a plain (non-editable) install: every console script answers --help
and every module imports from the installed copy, run from a directory outside the repo."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
SCRIPTS = sorted(PYPROJECT["project"]["scripts"])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package installed with pip into a folder of its own (no editable link)."""
    site = tmp_path_factory.mktemp("install") / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(site),
            str(PROJECT_DIR),
        ],
        check=True,
        capture_output=True,
    )
    return site


def outside_env(site: Path) -> dict[str, str]:
    """An environment that finds the package only in ``site`` and no project by default."""
    env = {k: v for k, v in os.environ.items() if k not in {"DBT_PROJECT_DIR", "PYTHONPATH"}}
    env["PYTHONPATH"] = str(site)
    return env


def test_the_wheel_holds_the_runtime_package_only(installed):
    assert (installed / "customer_segmentation" / "core" / "clustering.py").exists()
    assert not (installed / "devtools").exists()
    assert not (installed / "tests").exists()


def test_every_module_imports_from_the_installed_copy_outside_the_repo(installed, tmp_path):
    script = (
        "import importlib, pkgutil\n"
        "import customer_segmentation as package\n"
        "prefix = package.__name__ + '.'\n"
        "names = [m.name for m in pkgutil.walk_packages(package.__path__, prefix)]\n"
        "for name in names:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(installed)!r}), module.__file__\n"
        "print(len(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=outside_env(installed),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 20


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_console_script_answers_help_outside_the_repo(installed, tmp_path, script):
    done = subprocess.run(
        [str(installed / "bin" / script), "--help"],
        cwd=tmp_path,
        env=outside_env(installed),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_installed_generator_checks_a_project_it_is_pointed_at(installed, tmp_path):
    # No project beside the installed files: the project is the argument.
    done = subprocess.run(
        [
            str(installed / "bin" / "segmentation-sqlserver"),
            "--project-dir",
            str(PROJECT_DIR),
            "script",
            "--check",
        ],
        cwd=tmp_path,
        env=outside_env(installed),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_command_run_outside_any_project_says_where_it_looked(installed, tmp_path):
    done = subprocess.run(
        [str(installed / "bin" / "segmentation-sqlserver"), "script", "--check"],
        cwd=tmp_path,
        env=outside_env(installed),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "holds no dbt_project.yml" in done.stderr
