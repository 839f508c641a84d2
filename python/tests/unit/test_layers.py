"""The package's layers, read from the source with ast: core <- adapters <- cli, no cycles,
nothing shipped imports the developer tools, and the core stays pure (no I/O, no web or
database stacks, scikit-learn and SciPy only inside the functions that train)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[2]
PACKAGE = "customer_segmentation"
# Not importable by the core at module level (function level is allowed only for these).
TRAINING_ONLY = {"sklearn", "scipy"}
NEVER_IN_CORE = {"duckdb", "fastapi", "uvicorn", "matplotlib", "httpx", "os", "subprocess"}
NEVER_IN_CORE |= {"pydantic", "starlette", "dbt", "yaml", "requests", "pathlib", "shutil"}
IO_CALLS = {"print", "open", "input"}
IO_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "to_csv", "to_pickle"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PYTHON_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(top: str) -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted((PYTHON_DIR / top).rglob("*.py"))
    }


RUNTIME = modules(PACKAGE)
DEVTOOLS = modules("devtools")


def imports(tree: ast.Module, known: set[str]) -> list[tuple[str, bool]]:
    """(imported module, at module level?) of every import in ``tree``; ``from a import b``
    names module a.b when that is one of ``known``."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top_level and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                found.extend((alias.name, top_level) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.append((full if full in known else child.module, top_level))
            visit(child, inner)

    visit(tree, True)
    return found


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else parts[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), None when acyclic."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def package_graph() -> dict[str, set[str]]:
    known = set(RUNTIME)
    return {
        name: {target for target, _ in imports(tree, known) if target in known and target != name}
        for name, tree in RUNTIME.items()
    }


def test_the_package_has_the_three_layers():
    assert {layer(name) for name in RUNTIME if name != PACKAGE} == {"core", "adapters", "cli"}


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_the_package_imports_itself_in_a_circle():
    assert find_cycle(package_graph()) is None


@pytest.mark.parametrize(
    ("lower", "upper"), [("core", "adapters"), ("core", "cli"), ("adapters", "cli")]
)
def test_no_layer_imports_a_layer_above_it(lower, upper):
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in package_graph().items()
        if layer(name) == lower
        for target in targets
        if layer(target) == upper
    )
    assert upward == []


def test_the_runtime_package_never_imports_the_developer_tools():
    offenders = sorted(
        f"{name} imports {target}"
        for name, tree in RUNTIME.items()
        for target, _ in imports(tree, set(RUNTIME) | set(DEVTOOLS))
        if target.split(".")[0] in {"devtools", "tests", "conftest"}
    )
    assert offenders == []


def test_the_developer_tools_are_outside_the_package():
    assert DEVTOOLS, "python/devtools has no modules"
    assert not any(name.startswith(f"{PACKAGE}.") and "devtools" in name for name in RUNTIME)


def core_modules() -> dict[str, ast.Module]:
    return {name: tree for name, tree in RUNTIME.items() if layer(name) == "core"}


def test_the_core_imports_no_io_web_or_database_stack():
    offenders = sorted(
        f"{name} imports {target}"
        for name, tree in core_modules().items()
        for target, _ in imports(tree, set(RUNTIME))
        if target.split(".")[0] in NEVER_IN_CORE
    )
    assert offenders == []


def test_the_core_imports_scikit_learn_and_scipy_only_inside_functions():
    offenders = sorted(
        f"{name} imports {target} at module level"
        for name, tree in core_modules().items()
        for target, top_level in imports(tree, set(RUNTIME))
        if top_level and target.split(".")[0] in TRAINING_ONLY
    )
    assert offenders == []
    inside = {
        target.split(".")[0]
        for tree in core_modules().values()
        for target, top_level in imports(tree, set(RUNTIME))
        if not top_level
    }
    assert inside >= TRAINING_ONLY, "the checker no longer sees the core's training imports"


def test_the_core_neither_prints_nor_reads_or_writes_files():
    offenders = []
    for name, tree in core_modules().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in IO_CALLS:
                offenders.append(f"{name}:{node.lineno} calls {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in IO_METHODS:
                offenders.append(f"{name}:{node.lineno} calls .{func.attr}()")
    assert offenders == []


def test_the_io_checker_sees_a_print():
    tree = ast.parse("def f():\n    print('x')\n")
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert calls == ["print"]
