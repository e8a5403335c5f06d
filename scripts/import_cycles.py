"""Print the import cycles among gan_core's modules and exit 1 if there is one.

Every import counts, also those inside functions (a lazy import still ties two modules together: it only
moves the failure to run time), except those under `if TYPE_CHECKING:`, which never run.
`python scripts/import_cycles.py` is what tests/test_import_graph.py runs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gan_core"


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name → file of every module in the package (a package by its __init__.py)."""
    names = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import that can run."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            node.body = []  # ast.walk has not entered it yet
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the package modules it imports (`from a import b` is an edge to a.b when b is a module)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for target, names in _imports(tree, name, path.name == "__init__.py"):
            if not target.startswith(PACKAGE):
                continue
            submodules = [f"{target}.{item}" for item in names if f"{target}.{item}" in modules]
            edges = submodules or ([target] if target in modules else [])
            graph[name].update(edge for edge in edges if edge != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    found = cycles(import_graph())
    for component in found:
        print("import cycle among: " + ", ".join(component))
    if not found:
        print(f"no import cycle among {len(module_names())} modules of {PACKAGE}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
