"""`segmentation-build` refuses to start dbt on a project whose generated macros are missing or
stale, naming the command that writes them."""

from __future__ import annotations

from customer_segmentation.adapters import sqlserver_script
from customer_segmentation.cli.build import EXIT_FAILED, main


def project(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    return tmp_path


def test_a_missing_generated_file_stops_the_build_before_dbt(tmp_path, capsys):
    database = tmp_path / "never-created.duckdb"
    code = main(["--database", str(database), "build", "--project-dir", str(project(tmp_path))])
    assert code == EXIT_FAILED
    assert "segment_model_core.sql is missing: run `make sqlserver-script`" in (
        capsys.readouterr().err
    )
    assert not database.exists()


def test_a_stale_generated_file_stops_the_build_before_dbt(tmp_path, capsys, monkeypatch):
    path = project(tmp_path) / sqlserver_script.GENERATED_MACROS
    path.parent.mkdir(parents=True)
    path.write_text("{#- written from an older core -#}\n")
    monkeypatch.setenv("DBT_PROJECT_DIR", str(tmp_path))
    database = tmp_path / "never-created.duckdb"
    assert main(["--database", str(database), "build"]) == EXIT_FAILED
    assert "is stale" in capsys.readouterr().err
    assert not database.exists()
