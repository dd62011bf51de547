"""No import cycles, counting every `import` statement, also those inside function bodies.

Read from the source with `ast` (nothing is imported): `from a import b` is an import of
`a.b` when that is a module, else of `a`, as import-linter reads it. Checked for the
packages whose cycles issue 11 broke; the repository-wide check is to come.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cloudlet.authz", "cloudlet.auth", "cloudlet.services.iam", "cloudlet.services.sts",
            "cloudlet.services.lambda_")


def modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "cloudlet").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module
            targets.update(f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                           for a in node.names)
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_cycle_among_modules(graph, package):
    inside = {name: {t for t in targets if within(t, (package,))}
              for name, targets in graph.items() if within(name, (package,))}
    assert cycles(inside) == []


def test_no_cycle_between_service_packages(graph):
    def service(name: str) -> str:
        return ".".join(name.split(".")[:3]) if name.startswith("cloudlet.services.") else name

    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        packages.setdefault(service(name), set()).update(
            service(t) for t in targets if service(t) != service(name))
    assert [c for c in cycles(packages) if any(within(n, PACKAGES) for n in c)] == []
