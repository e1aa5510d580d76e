"""The layering rules of docs/architecture.md, checked on the source.

- No import cycle at any folder level: inside every folder the nodes are its sub-packages *and* its modules
  (so `stages/` and `engine/`, which have no sub-packages, are checked module by module, and a cycle between
  `models/pose` and `models/sapiens` is seen although both are inside `models/`).
- The contract in core/ imports nothing of humanverse but the config base; Ray is imported only inside
  engine/; the layers below the engine never import it.
- The tree in docs/architecture.md is the real one: every folder, and every module of every folder.

Every import counts, including those inside functions (a lazy import is still a dependency) and those under
`if TYPE_CHECKING:` (a reader still has to know the other package to follow the code). A package's
`__init__.py` is the package itself: at its parent's level its imports are the package's, inside the package
they belong to no child.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from pathlib import Path

import humanverse

PACKAGE = Path(humanverse.__file__).parent
ARCHITECTURE_DOC = PACKAGE.parent / "docs" / "architecture.md"

# Layers below the engine: the engine runs them, they never run (or import) the engine.
BELOW_THE_ENGINE = ("core", "sources", "imaging", "shards", "models", "stages", "dedup")


def _module_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]


def imports_by_module(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> every absolute module name it imports (relative imports resolved), anywhere in its body."""
    return _package_imports() if root == PACKAGE else _imports(root)


@functools.cache
def _package_imports() -> dict[str, set[str]]:
    return _imports(PACKAGE)


def _imports(root: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in _source_files(root):
        module = _module_of(path, root)
        parts = module.split(".")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    # an __init__ is its package: `from . import x` there means the package itself
                    keep = len(parts) - node.level + (1 if path.name == "__init__.py" else 0)
                    base = ".".join([*parts[:keep], base] if base else parts[:keep])
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        found[module] = names
    return found


def _resolve(name: str, modules: dict[str, set[str]]) -> str | None:
    """The module an imported name lives in (`pkg.mod.func` -> `pkg.mod`), or None outside the tree."""
    if name in modules:
        return name
    head = name.rsplit(".", 1)[0]
    return head if head in modules else None


def folder_graphs(root: Path = PACKAGE) -> dict[str, dict[str, set[str]]]:
    """Folder (dotted) -> its import graph, whose nodes are the folder's direct children (modules and
    sub-packages): child a -> child b when anything inside a imports anything inside b."""
    modules = imports_by_module(root)
    folders = {m.rsplit(".", 1)[0] for m in modules if "." in m} | {m for m in modules if any(o.startswith(m + ".") for o in modules)}
    graphs: dict[str, dict[str, set[str]]] = {f: defaultdict(set) for f in folders}
    for module, names in modules.items():
        targets = {t for t in (_resolve(n, modules) for n in names) if t}
        for folder in folders:
            if not module.startswith(folder + "."):
                continue
            src = module[len(folder) + 1 :].split(".")[0]
            for target in targets:
                if target.startswith(folder + "."):
                    dst = target[len(folder) + 1 :].split(".")[0]
                    if dst != src:
                        graphs[folder][src].add(dst)
    return graphs


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


def folder_cycles(root: Path = PACKAGE) -> dict[str, list[list[str]]]:
    """Folder -> the cycles between its children, for every folder that has one."""
    found = {}
    for folder, graph in folder_graphs(root).items():
        if c := cycles(graph):
            found[folder] = c
    return found


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_no_cycles_at_any_folder_level():
    found = folder_cycles()
    graphs = folder_graphs()
    detail = {f"{folder}:{c}": sorted(graphs[folder][c] & set(comp)) for folder, comps in found.items() for comp in comps for c in comp}
    assert not found, f"import cycles between the children of a folder: {found}; edges inside them: {detail}"


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_injected_folder_cycle_fails(tmp_path):
    """A cycle between two sub-folders of one folder, made only of lazy imports between different modules
    (no module cycle, one package at the top): checking top-level packages alone would pass it."""
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models/__init__.py": "",
            "pkg/models/pose/__init__.py": "",
            "pkg/models/pose/topdown.py": "def run():\n    from pkg.models.sapiens.udp import decode\n    return decode\n",
            "pkg/models/pose/decode.py": "NUM = 133\n",
            "pkg/models/sapiens/__init__.py": "",
            "pkg/models/sapiens/udp.py": "def decode():\n    return 1\n",
            "pkg/models/sapiens/pose.py": "from ..pose.decode import NUM\n",
            "pkg/stages/__init__.py": "",
            "pkg/stages/a.py": "from pkg.stages import b\n",
            "pkg/stages/b.py": "import pkg.models.pose.decode\n",
        },
    )
    assert folder_cycles(pkg) == {"pkg.models": [["pose", "sapiens"]]}
    assert folder_graphs(pkg)["pkg"] == {"stages": {"models"}}

    # modules of one folder are nodes too: a lazy import back from b to a is a cycle of stages/
    (pkg / "stages" / "b.py").write_text("def f():\n    from . import a\n")
    assert folder_cycles(pkg)["pkg.stages"] == [["a", "b"]]


def test_core_imports_only_the_config_base():
    for module, names in imports_by_module().items():
        if not module.startswith("humanverse.core"):
            continue
        outside = {n for n in names if n.startswith("humanverse") and not n.startswith(("humanverse.core", "humanverse.config_base"))}
        assert not outside, f"{module} imports {sorted(outside)}: the contract must not depend on the rest"


def test_ray_only_inside_the_engine():
    offenders = {
        module: sorted(n for n in names if n == "ray" or n.startswith("ray."))
        for module, names in imports_by_module().items()
        if not module.startswith("humanverse.engine") and any(n == "ray" or n.startswith("ray.") for n in names)
    }
    assert not offenders, f"ray imported outside humanverse/engine: {offenders}"


def test_layers_below_the_engine_never_import_it():
    below = tuple(f"humanverse.{p}" for p in BELOW_THE_ENGINE)
    offenders = {
        module: sorted(n for n in names if n.startswith("humanverse.engine"))
        for module, names in imports_by_module().items()
        if module.startswith(below) and any(n.startswith("humanverse.engine") for n in names)
    }
    assert not offenders, f"imports of the engine from below it: {offenders}"


# --- the tree in docs/architecture.md ---------------------------------------------------------------------


def real_tree(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Folder (path relative to the package's parent, '/'-joined) -> the stems of its modules."""
    tree: dict[str, set[str]] = {}
    for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if "__pycache__" in folder.parts or folder.name.startswith("."):
            continue
        key = folder.relative_to(root.parent).as_posix()
        tree[key] = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
    return tree


def doc_tree(text: str, root_name: str = "humanverse") -> dict[str, set[str]]:
    """The tree block of docs/architecture.md, read back.

    Its format: the first line is `humanverse/`; each entry is indented two spaces per level, and is either
    `name.py  what it is` (a module of the enclosing folder) or `name/  mod, mod (remark), ...` (a folder and
    its modules, comma-separated; remarks in parentheses; a line that starts with neither continues the list).
    """
    block = re.search(rf"^```\n({re.escape(root_name)}/\n.*?)^```", text, re.S | re.M)
    assert block, f"no tree block starting with `{root_name}/` in the doc"
    tree: dict[str, list[str]] = {root_name: []}
    stack = [root_name]  # folder path per depth
    current = root_name
    for line in block.group(1).splitlines()[1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        head, _, rest = line.strip().partition(" ")
        if head.endswith(".py") or head.endswith("/"):
            depth = indent // 2
            assert indent % 2 == 0 and 1 <= depth <= len(stack), f"bad indentation in the doc tree: {line!r}"
            parent = stack[depth - 1]
            if head.endswith(".py"):
                tree[parent].append(head[:-3])
                continue
            current = f"{parent}/{head[:-1]}"
            del stack[depth:]
            stack.append(current)
            tree[current] = [rest]
        else:
            tree[current].append(line.strip())
    out: dict[str, set[str]] = {}
    for folder, entries in tree.items():
        if folder == root_name:
            out[folder] = set(entries)
            continue
        listed = re.sub(r"\([^)]*\)", "", " ".join(entries))
        items = [item.strip() for item in listed.split(",") if item.strip()]
        bad = [item for item in items if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", item)]
        assert not bad, f"{folder}/ in the doc tree lists {bad}: list module names only, remarks in parentheses"
        out[folder] = set(items)
    return out


def tree_drift(doc: dict[str, set[str]], real: dict[str, set[str]]) -> list[str]:
    problems = [f"folder {f}/ is missing from the doc tree" for f in sorted(real.keys() - doc.keys())]
    problems += [f"folder {f}/ is in the doc tree but not in the package" for f in sorted(doc.keys() - real.keys())]
    for folder in sorted(real.keys() & doc.keys()):
        if missing := real[folder] - doc[folder]:
            problems.append(f"{folder}/: modules missing from the doc tree: {sorted(missing)}")
        if extra := doc[folder] - real[folder]:
            problems.append(f"{folder}/: the doc tree lists modules that do not exist: {sorted(extra)}")
    return problems


def test_the_doc_tree_is_the_real_tree():
    problems = tree_drift(doc_tree(ARCHITECTURE_DOC.read_text()), real_tree())
    assert not problems, "docs/architecture.md's tree has drifted:\n" + "\n".join(problems)


def test_the_doc_tree_check_sees_drift(tmp_path):
    pkg = _write(tmp_path, {"pkg/__init__.py": "", "pkg/cli.py": "", "pkg/models/__init__.py": "", "pkg/models/registry.py": "",
                            "pkg/models/pose/decode.py": "", "pkg/models/pose/udp.py": "", "pkg/presets/demo.yaml": ""})
    doc = (
        "```\npkg/\n  cli.py          the entry point\n  models/         registry (the table, one row a model)\n"
        "    pose/         decode,\n                  udp\n  presets/        (YAML, no code)\n```\n"
    )
    assert tree_drift(doc_tree(doc, "pkg"), real_tree(pkg)) == []
    (pkg / "models" / "pose" / "flip.py").write_text("")
    (pkg / "models" / "pose" / "udp.py").unlink()
    (pkg / "sources").mkdir()
    assert tree_drift(doc_tree(doc, "pkg"), real_tree(pkg)) == [
        "folder pkg/sources/ is missing from the doc tree",
        "pkg/models/pose/: modules missing from the doc tree: ['flip']",
        "pkg/models/pose/: the doc tree lists modules that do not exist: ['udp']",
    ]
