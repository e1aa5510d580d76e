"""Self-contained Python files for an export, generated from our own modules (no second copy in the repo).

A diffusers user loads a custom class from a file next to its weights (diffusers'
`get_class_from_dynamic_module`). Our classes import each other, so the file is the concatenated source of
the modules a class needs, in dependency order, with the imports between them dropped.
"""

from __future__ import annotations

import inspect
import re
from types import ModuleType

_OWN_IMPORT = re.compile(r"^from humanverse\.[\w.]+ import \(?[\w, ]*\)?\s*$")


def inline_sources(modules: list[ModuleType], header: str) -> str:
    """Sources of `modules` in order as one file; each `from humanverse... import` must name a module
    earlier in the list (checked: an import of anything else is an error, not a broken export)."""
    names = {m.__name__ for m in modules}
    parts = [f'"""{header}"""\n\nfrom __future__ import annotations\n']
    for module in modules:
        lines = []
        for line in inspect.getsource(module).splitlines():
            if line.startswith("from __future__"):
                continue
            if line.startswith("from humanverse") or line.startswith("import humanverse"):
                source = line.split()[1]
                if not _OWN_IMPORT.match(line) or source not in names:
                    raise ValueError(f"{module.__name__} imports {source}, which the export does not carry: {line}")
                continue
            lines.append(line)
        parts.append(f"# ---- from {module.__name__} ----\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"
