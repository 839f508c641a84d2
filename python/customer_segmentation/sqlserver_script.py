"""Embed the clustering core in a dbt macro, for the SQL Server procedure's ``@script``.

dbt's Jinja cannot read files, so the source text of ``clustering.py`` is copied into the
generated macro file ``macros/sqlserver/clustering_script.sql``. Run this module after every
change to ``clustering.py`` (``make sqlserver-script``); ``--check`` exits with status 1 when
the macro file is stale, and the test suite fails on a stale file too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from customer_segmentation import clustering

PROJECT_DIR = Path(__file__).resolve().parents[2]
MACRO_PATH = PROJECT_DIR / "macros" / "sqlserver" / "clustering_script.sql"
REGENERATE = "make sqlserver-script"

_HEADER = """\
{{#- GENERATED from python/customer_segmentation/clustering.py by `{regenerate}`: do not edit.
    The clustering core's source text, the body of the SQL Server procedure's @script.
    sp_execute_external_script runs it as a module, where the package is not installed. -#}}
{{%- macro clustering_script() -%}}
"""


def clustering_source() -> str:
    """The source text of the clustering core, as the procedure must run it."""
    return Path(clustering.__file__).read_text(encoding="utf-8")


def check_embeddable(source: str) -> None:
    """Raise ValueError when the source cannot run as sp_execute_external_script's script."""
    if "{% endraw" in source or "{%- endraw" in source:
        raise ValueError("clustering.py contains a Jinja endraw tag; it cannot be embedded")
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith("from .") or stripped.startswith("from customer_segmentation"):
            raise ValueError(
                f"clustering.py line {number} imports from the package ({stripped!r}); the "
                "procedure's script runs without the package installed"
            )
        if stripped.startswith("import customer_segmentation"):
            raise ValueError(f"clustering.py line {number} imports the package ({stripped!r})")


def render_macro(source: str) -> str:
    """The macro file returning ``source`` verbatim (Jinja raw block, no whitespace trimmed)."""
    check_embeddable(source)
    text = source if source.endswith("\n") else source + "\n"
    header = _HEADER.format(regenerate=REGENERATE)
    return header + "{% raw %}" + text + "{% endraw %}\n{%- endmacro -%}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MACRO_PATH, help="macro file to write")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the macro file is not up to date"
    )
    args = parser.parse_args(argv)
    wanted = render_macro(clustering_source())
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != wanted:
            print(f"{args.output} is stale: regenerate it with `{REGENERATE}`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if current != wanted:
        args.output.write_text(wanted, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
