"""The source tree's shape, measured statically: no import cycles between modules, few
imports inside functions, no module above 500 lines, no long function without a reason.

These are the checks the architecture issue is judged by, so a regression fails here first,
with the offending module named, instead of surfacing as a slow review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "tunelens"
#: imports of the package's own modules inside functions: only to guard an optional heavy
#: extra (torch, ray, librosa, opencv) so the default install never loads it
MAX_LAZY_IMPORTS = 10
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
#: a function longer than MAX_FUNCTION_LINES must say why on its ``def`` line or the line above
LONG_REASON_MARK = "long:"


@dataclass(frozen=True)
class ImportSite:
    module: str
    target: str
    line: int
    inside_function: bool
    type_checking: bool


def module_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_sites(known: dict[str, Path]) -> Iterator[ImportSite]:
    """Every import statement of a package module, one site per statement and target."""
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield from _walk(tree, _Where(module, package), known)


def _targets(node: ast.Import | ast.ImportFrom, package: str, known: dict[str, Path]) -> set[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            names.append(full if full in known else base)
    found = {_resolve(n, known) for n in names if n.split(".")[0] == PACKAGE}
    return {t for t in found if t is not None}


@dataclass(frozen=True)
class _Where:
    """The module being walked and whether the walk is inside a function / a type-only block."""

    module: str
    package: str
    in_function: bool = False
    type_checking: bool = False


def _walk(node: ast.AST, where: _Where, known: dict[str, Path]) -> Iterator[ImportSite]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            for target in sorted(_targets(child, where.package, known) - {where.module}):
                yield ImportSite(
                    where.module, target, child.lineno, where.in_function, where.type_checking
                )
            continue
        func = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        guard = isinstance(child, ast.If) and _is_type_checking(child.test)
        inner = _Where(
            where.module,
            where.package,
            in_function=where.in_function or func,
            type_checking=where.type_checking or guard,
        )
        yield from _walk(child, inner, known)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def sites() -> list[ImportSite]:
    return list(import_sites(module_files()))


def test_no_import_cycles_between_modules(sites: list[ImportSite]) -> None:
    """Imports inside functions count too: a cycle hidden in a function is still a cycle."""
    edges: dict[str, set[str]] = {}
    for site in sites:
        if not site.type_checking:
            edges.setdefault(site.module, set()).add(site.target)
    assert _cycles(edges) == []


def test_few_imports_inside_functions(sites: list[ImportSite]) -> None:
    lazy = sorted({(s.module, s.line) for s in sites if s.inside_function and not s.type_checking})
    assert len(lazy) <= MAX_LAZY_IMPORTS, "\n".join(f"{m}:{line}" for m, line in lazy)


def test_no_module_above_the_line_limit() -> None:
    long = {
        name: n
        for name, path in module_files().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_long_functions_say_why() -> None:
    unexplained = []
    for name, path in module_files().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            nearby = " ".join(lines[max(0, first - 2) : node.lineno])
            if length > MAX_FUNCTION_LINES and LONG_REASON_MARK not in nearby:
                unexplained.append(f"{name}.{node.name} ({length} lines)")
    assert unexplained == []


def test_the_counters_see_a_cycle_and_a_lazy_import(tmp_path: Path) -> None:
    """The checks above would pass on an empty tree; prove they can fail."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    source = "def f():\n    from tunelens.x import y\n"
    known = {"tunelens.x": tmp_path, "tunelens.z": tmp_path}
    found = list(_walk(ast.parse(source), _Where("tunelens.z", "tunelens"), known))
    assert found == [ImportSite("tunelens.z", "tunelens.x", 2, True, False)]
