"""`humanverse models import NAME FILE`: a published weights file in, the file the loaders read out.

Each importable registry entry has one importer (models/importers/, one file per published format). Importers
convert layout only: they never assume a model size, so the tiny test architectures and the real files go
through the same code. The output is written atomically under the entry's path in the models directory, with
`<output>.import.json` beside it recording the source's name, size and sha256 and what was converted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from humanverse.models.registry import ModelEntry, by_name
from humanverse.shards import atomic


@dataclass(frozen=True)
class Importer:
    formats: str
    """The published formats it accepts, for messages."""
    convert: Callable[[Path], tuple]
    target: str
    """Path under the models directory that the loader reads."""


def _importers() -> dict[str, Importer]:
    from humanverse.models.importers.aesthetic import import_aesthetic
    from humanverse.models.importers.lightning import import_lightning
    from humanverse.models.importers.nsfw_keras import import_nsfw_keras
    from humanverse.models.importers.openai_clip import import_openai_clip
    from humanverse.models.importers.vitpose import import_vitpose

    def entry_path(name: str) -> str:
        entry = by_name(name)
        return f"{entry.spec}/{entry.files[0]}" if entry.files else entry.spec

    return {
        "laion-clip-nsfw": Importer("clip_autokeras_binary_nsfw.zip (AutoKeras SavedModel, zip or folder)",
                                    import_nsfw_keras, entry_path("laion-clip-nsfw")),
        "laion-aesthetic-v2": Importer("sac+logos+ava1-l14-linearMSE.pth", import_aesthetic,
                                       entry_path("laion-aesthetic-v2")),
        "vitpose-h-wholebody": Importer("ViTPose++ raw (MoE) or tools/model_split.py wholebody.pth, or a plain "
                                        "ViTPose whole-body .pth", import_vitpose, entry_path("vitpose-h-wholebody")),
        "omnidata-depth-v2": Importer("omnidata_dpt_depth_v2.ckpt (Lightning)", import_lightning,
                                      entry_path("omnidata-depth-v2")),
        "omnidata-normal-v2": Importer("omnidata_dpt_normal_v2.ckpt (Lightning)", import_lightning,
                                       entry_path("omnidata-normal-v2")),
        "clip-vit-l-14-openai": Importer("OpenAI's ViT-L-14.pt (TorchScript archive)", import_openai_clip,
                                         "clip-vit-l-14-openai/open_clip_model.safetensors"),
    }


def importable() -> dict[str, str]:
    """Entry name -> the published formats `models import` accepts for it."""
    return {name: imp.formats for name, imp in _importers().items()}


def import_model(name: str, source: str | Path, root: Path) -> dict:
    """Convert SOURCE for registry entry NAME into ROOT; returns the record also written as json beside it."""
    from safetensors.torch import save_file

    from humanverse.models.weights_digest import sha256_file

    entry: ModelEntry = by_name(name)
    importers = _importers()
    if name not in importers:
        raise ValueError(f"{name}: nothing to import ({entry.source}); importable: {', '.join(sorted(importers))}")
    importer = importers[name]
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source} not found")
    try:
        state, info = importer.convert(source)
    except Exception as exc:  # noqa: BLE001 - every failure names what was expected
        raise ValueError(f"{source}: cannot import as {name} (expects {importer.formats}): {exc}") from exc
    target = root / importer.target
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic.staged_file(str(target)) as tmp:
        if state is None:
            shutil.copyfile(source, tmp)
        else:
            save_file(state, str(tmp), metadata={"humanverse_import": name})
    record = {
        "entry": name,
        "source_name": source.name,
        "source_size": _size(source),
        "source_sha256": sha256_file(source) if source.is_file() else None,
        "converted": info.get("converted", ""),
        "output": target.name,
        "output_sha256": sha256_file(target),
        "inert_globals": info.get("inert_globals", []),
    }
    record.update({k: v for k, v in info.items() if k not in record and k != "converted"})
    atomic.write_bytes(str(target) + ".import.json", json.dumps(record, indent=1).encode())
    record["path"] = str(target)
    return record


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
