"""Generate the SQL Server procedures' Python script from the core's modules, with ``ast``.

Machine Learning Services does not run ``@script`` as a module: it writes it as the body of a
generated function ``transform(<input name>, <params>)`` in ``sqlindb_0.py`` and runs that on
the instance's own Python (3.7 with pandas 0.23 on SQL Server 2019, 3.10 on 2022), where this
package is not installed. So the script is the core's modules (`BUNDLED_MODULES`, in import
order) rewritten to run there: ``from __future__`` imports and imports of this package
dropped (the names are defined earlier in the script), annotations removed (``tuple[str,
...]`` fails on 3.7), ``isinstance(x, A | B)`` turned into a tuple, module docstrings dropped,
third-party imports hoisted and deduplicated. The core stays modern; the result is checked to
parse as Python 3.7 and as the body of a function. dbt's Jinja cannot read files, so it is
written, with the core's feature list, into a gitignored macro file (`GENERATED_MACROS`) that
`make venv` writes and rewrites whenever the core changes (``segmentation-sqlserver script``);
the file records a fingerprint of the script, `segmentation-build` refuses a stale one, and
the ML Services emulator runs the script on both runtimes.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
from pathlib import Path

from customer_segmentation.core.features import FEATURE_COLUMNS

PACKAGE = "customer_segmentation"
# The modules the procedures need, each after the modules it imports.
BUNDLED_MODULES: tuple[str, ...] = (
    "core.features",
    "core.clustering",
    "core.metrics",
    "core.segments",
    "core.registry",
    "core.gates",
    "core.training",
    "core.scoring",
    "core.procedures",
)
# Relative to the dbt project; gitignored, written by `make venv`.
GENERATED_MACROS = Path("macros") / "sqlserver" / "generated" / "segment_model_core.sql"
REGENERATE = "make sqlserver-script"
# Class-level annotations kept as they are (dataclass fields need one); others become object.
_RUNTIME_ANNOTATIONS = {"int", "float", "bool", "str", "object"}

_HEADER = """\
{{#- GENERATED from python/customer_segmentation/{{{modules}}}.py by `{regenerate}`
    (make venv runs it): do not edit, do not commit. fingerprint: {fingerprint} -#}}
{{#- The core's feature list (customer_segmentation.core.features.FEATURE_COLUMNS), in the
    order the model sees them; read through segment_features(). -#}}
{{%- macro generated_segment_features() -%}}
    {{{{ return({features}) }}}}
{{%- endmacro -%}}
{{#- The body of the SQL Server procedures' @script before each procedure's own call: ML
    Services runs it inside a generated function transform(), on Python 3.7 or later. Read
    through segment_model_script(). -#}}
{{%- macro generated_segment_model_script() -%}}
"""


class _ForOldPython(ast.NodeTransformer):
    """Rewrite one module's tree into statements that run inside a function on Python 3.7."""

    def __init__(self) -> None:
        self._class_depth = 0
        self._function_depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            arg.annotation = None
        for arg in (arguments.vararg, arguments.kwarg):
            if arg is not None:
                arg.annotation = None
        node.returns = None
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        self._class_depth += 1
        self.generic_visit(node)
        self._class_depth -= 1
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:
        self.generic_visit(node)
        if self._class_depth and not self._function_depth:
            # A dataclass field: keep an annotation, one that evaluates on 3.7 without
            # dataclasses resolving strings through sys.modules.
            keep = isinstance(node.annotation, ast.Name) and node.annotation.id in (
                _RUNTIME_ANNOTATIONS
            )
            if not keep:
                node.annotation = ast.Name(id="object", ctx=ast.Load())
            return node
        if node.value is None:
            return None
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        is_type_check = isinstance(node.func, ast.Name) and node.func.id in (
            "isinstance",
            "issubclass",
        )
        if is_type_check and len(node.args) == 2 and isinstance(node.args[1], ast.BinOp):
            node.args[1] = ast.Tuple(elts=_union_members(node.args[1]), ctx=ast.Load())
        return node


def _union_members(node: ast.expr) -> list[ast.expr]:
    """``A | B | C`` as [A, B, C]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_members(node.left), *_union_members(node.right)]
    return [node]


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _module_tree(name: str) -> tuple[ast.Module, list[str], set[str]]:
    """One bundled module: its rewritten body, its third-party import lines, and the names it
    imports from this package."""
    path = Path(importlib.import_module(f"{PACKAGE}.{name}").__file__ or "")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    body: list[ast.stmt] = []
    imports: list[str] = []
    from_package: set[str] = set()
    for position, statement in enumerate(tree.body):
        if position == 0 and _is_docstring(statement):
            continue
        if isinstance(statement, ast.ImportFrom):
            if statement.module == "__future__":
                continue
            if statement.level or (statement.module or "").split(".")[0] == PACKAGE:
                from_package.update(alias.asname or alias.name for alias in statement.names)
                continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            if any(alias.name.split(".")[0] == PACKAGE for alias in statement.names):
                raise ValueError(f"{name}.py imports the package itself: {ast.unparse(statement)}")
            imports.append(ast.unparse(statement))
            continue
        body.append(statement)
    module = _ForOldPython().visit(ast.Module(body=body, type_ignores=[]))
    return ast.fix_missing_locations(module), imports, from_package


def _top_level_names(module: ast.Module) -> set[str]:
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, ast.FunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return names


def bundle_source(modules: tuple[str, ...] = BUNDLED_MODULES) -> str:
    """The script: every module of ``modules`` rewritten, imports first, in import order."""
    imports: list[str] = []
    parts: list[str] = []
    defined: set[str] = set()
    for name in modules:
        module, module_imports, from_package = _module_tree(name)
        undefined = sorted(from_package - defined)
        if undefined:
            raise ValueError(
                f"{name}.py imports {undefined} from modules not bundled before it; "
                f"bundle order is {list(modules)}"
            )
        imports.extend(line for line in module_imports if line not in imports)
        source = name.replace(".", "/")
        parts.append(f"# --- {PACKAGE}/{source}.py\n{ast.unparse(module)}\n")
        defined |= _top_level_names(module)
    return "\n".join(imports) + "\n\n" + "\n".join(parts)


def check_runs_as_transform_body(script: str) -> None:
    """Raise ValueError unless ``script`` parses as Python 3.7 and as a function's body, the
    way sqlindb_0.py holds it."""
    body = "".join(f"    {line}\n" if line.strip() else "\n" for line in script.splitlines())
    wrapped = f"def transform(InputDataSet):\n{body}    return OutputDataSet\n"
    for text, what in ((script, "a module"), (wrapped, "the body of transform()")):
        try:
            compile(ast.parse(text, feature_version=(3, 7)), "<sqlindb_0.py>", "exec")
        except SyntaxError as exc:
            raise ValueError(f"the script is not valid Python 3.7 as {what}: {exc}") from exc
    if "{% endraw" in script or "{%- endraw" in script:
        raise ValueError("the script contains a Jinja endraw tag; it cannot be embedded")


def fingerprint(script: str) -> str:
    """A short hash of the script, recorded in the macro file to tell a stale one."""
    return hashlib.sha256(script.encode("utf-8")).hexdigest()[:16]


def render_macro(script: str) -> str:
    """The macro file: the feature list, and a macro returning ``script`` verbatim (Jinja raw
    block, no whitespace trimmed)."""
    check_runs_as_transform_body(script)
    header = _HEADER.format(
        modules=",".join(m.replace(".", "/") for m in BUNDLED_MODULES),
        regenerate=REGENERATE,
        fingerprint=fingerprint(script),
        features=list(FEATURE_COLUMNS),
    )
    return header + "{% raw %}" + script + "{% endraw %}\n{%- endmacro -%}\n"


def wanted_macros() -> str:
    """What the generated macro file must hold for the installed core."""
    return render_macro(bundle_source())


def stale_reason(project_dir: Path) -> str | None:
    """Why the project's generated macro file does not match the core (missing, or written
    from other sources), with the command that fixes it; None when it is current."""
    path = Path(project_dir) / GENERATED_MACROS
    if not path.exists():
        return f"{GENERATED_MACROS} is missing: run `{REGENERATE}` (make venv writes it)"
    if path.read_text(encoding="utf-8") != wanted_macros():
        return (
            f"{GENERATED_MACROS} is stale (the core's modules changed since it was written): "
            f"run `{REGENERATE}`"
        )
    return None


def write_macros(project_dir: Path) -> bool:
    """Write the project's generated macro file when it differs; whether it was rewritten.
    The file's time is refreshed either way, so make sees it newer than the core."""
    path = Path(project_dir) / GENERATED_MACROS
    wanted = wanted_macros()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    if current == wanted:
        path.touch()
        return False
    path.write_text(wanted, encoding="utf-8")
    return True
