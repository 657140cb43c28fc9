"""The layout stays easy to see: no import circle in server/, small packages, small modules.

The graph is built with the standard library's ``ast`` rather than a tool such as
import-linter or pydeps: no dependency to install, nothing is imported (so a module's
side effects do not matter), and it sees every ``import`` statement, including those inside
functions. A function-level import that dodges a circle is still a circle here; one made
only to delay a heavy library (pyHanko) points outside server/ and is not an edge.
"""
from __future__ import annotations

import ast
from pathlib import Path

from server.paths import ROOT

SERVER = ROOT / "server"
MAX_PACKAGE_MODULES = 12
MAX_MODULE_LINES = 350
# One module per REST resource under one blueprint and URL prefix: flat on purpose, and the
# next capabilities add their resource modules here (docs/ARCHITECTURE.md). Every other
# package, the service packages first, keeps to the limit.
FLAT_BY_DESIGN = {"server.api"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SERVER.rglob("*.py")}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The server modules ``name`` imports: ``from pkg import module`` counts as ``pkg.module``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported_modules(name, path, known) for name, path in found.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path that ends where it starts, or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return path[path.index(child):] + [child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return None


def test_the_cycle_finder_names_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_imports_inside_functions_and_from_package_imports():
    graph = import_graph()
    # signing imports the archive package module at the top; the minutes import the
    # signature fields; the voting modules import each other as ``from pkg import module``.
    assert "server.services.archive.package" in graph["server.services.minutes.signing"]
    assert "server.pdf.signature_fields" in graph["server.services.minutes.minutes"]
    assert "server.services.voting.progress" in graph["server.services.voting.polls"]
    # init_app imports its route modules inside the function.
    assert "server.api.polls" in graph["server.api"]


def test_no_import_circle_in_server():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_package_over_twelve_modules():
    sizes = {}
    for package in {p.parent for p in SERVER.rglob("__init__.py")}:
        sizes[module_name(package / "__init__.py")] = len(
            [p for p in package.glob("*.py") if p.name != "__init__.py"])
    big = {name: size for name, size in sizes.items()
           if size > MAX_PACKAGE_MODULES and name not in FLAT_BY_DESIGN}
    assert not big, big
    assert {"server.services.voting", "server.services.documents"} <= set(sizes)


def test_no_module_over_350_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, long
