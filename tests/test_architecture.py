"""The architecture's contracts, read from the source (docs/architecture.md says why).

Every import statement counts: module level, inside functions, and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emulator"
MAX_LINES = 450
# The package's public face and the CLI entry point sit above the composition root.
# Entry points may build the composition root: the package, the CLI, the coverage generator.
ROOT_USERS = {"emulator", "emulator.cli", "emulator.coverage"}
# Only the app assembles routes; everything else goes through the domain modules.
ROUTE_ASSEMBLERS = {"emulator.app"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """The emulator modules ``module`` imports (a name imported from a package counts as its
    submodule when there is one)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != module)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    # The checks below are only as good as the graph: a few edges everyone can see in the source.
    assert "emulator.context" in GRAPH["emulator.execution.pipeline"]
    assert "emulator.emulator" in GRAPH["emulator"]
    assert "emulator.resources.functions.domain" in GRAPH["emulator.resources.functions.routes"]
    assert "emulator.clock" in GRAPH["emulator.timeline"]  # a TYPE_CHECKING import


def test_no_import_circle_inside_emulator() -> None:
    assert _cycles(GRAPH) == []


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_imports_the_emulator_object() -> None:
    users = sorted(name for name, deps in GRAPH.items() if "emulator.emulator" in deps)
    assert set(users) <= ROOT_USERS, users


def test_only_the_app_imports_routes() -> None:
    route_modules = {
        name
        for name in MODULES
        if name.endswith((".routes", ".admin")) and name not in ("emulator.resources", "emulator")
    }
    offenders = {
        name: sorted(deps & route_modules)
        for name, deps in GRAPH.items()
        if deps & route_modules and name not in ROUTE_ASSEMBLERS and name not in route_modules
    }
    assert offenders == {}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines (split it by concept)"


def test_the_architecture_page_runs_as_written() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "docs/architecture.md", "exec"), {})
