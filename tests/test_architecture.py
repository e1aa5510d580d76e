"""The layering rules of docs/architecture.md, checked on the source: no import cycle between the
subpackages (top-level modules count as their own node), the contract in core/ imports nothing of
humanverse but the config base, and Ray is imported only inside engine/.

Every import counts, including those inside functions (a lazy import is still a dependency) and those under
`if TYPE_CHECKING:` (a reader still has to know the other package to follow the code).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import humanverse

PACKAGE = Path(humanverse.__file__).parent


def _node(module: str) -> str:
    """humanverse.stages.pose -> stages; humanverse.config -> config."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_by_module() -> dict[str, set[str]]:
    """Module -> every absolute module name it imports (relative imports resolved)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = _module_of(path)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                    base = ".".join([*pkg, base] if base else pkg)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        found[module] = names
    return found


def subpackage_graph() -> dict[str, set[str]]:
    modules = imports_by_module()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, names in modules.items():
        if module == "humanverse":
            continue
        src = _node(module)
        for name in names:
            if name.startswith("humanverse.") and (name in modules or name.rsplit(".", 1)[0] in modules):
                target = name if name in modules else name.rsplit(".", 1)[0]
                dst = _node(target)
                if dst != src and target != "humanverse":
                    graph[src].add(dst)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_cycles_between_subpackages():
    graph = subpackage_graph()
    found = cycles(graph)
    detail = {c: sorted(graph[c] & set(comp)) for comp in found for c in comp}
    assert not found, f"import cycles between subpackages: {found}; edges inside them: {detail}"


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_imports_only_the_config_base():
    for module, names in imports_by_module().items():
        if _node(module) != "core":
            continue
        outside = {n for n in names if n.startswith("humanverse") and not n.startswith(("humanverse.core", "humanverse.config_base"))}
        assert not outside, f"{module} imports {sorted(outside)}: the contract must not depend on the rest"


def test_ray_only_inside_the_engine():
    offenders = {
        module: sorted(n for n in names if n == "ray" or n.startswith("ray."))
        for module, names in imports_by_module().items()
        if _node(module) != "engine" and any(n == "ray" or n.startswith("ray.") for n in names)
    }
    assert not offenders, f"ray imported outside humanverse/engine: {offenders}"
