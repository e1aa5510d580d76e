"""Finding published weights on local disk (a models directory or the HF cache); nothing is downloaded here.

A missing file is an error that names every file that was expected and where it was looked for.
"""

from __future__ import annotations

import os
from pathlib import Path

from humanverse.core.model_check import MissingModelFiles


def models_dir(configured: str | None = None) -> Path:
    """The models directory: the configured one, else $HUMANVERSE_MODELS, else ~/.cache/humanverse/models."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("HUMANVERSE_MODELS")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "humanverse" / "models"


def locate(spec: str, required: list[str], root: str | Path | None = None) -> Path:
    """Resolve a weights location and check that every required file is there.

    spec is a path (absolute, or relative to the models directory), "hf:org/name" for a snapshot that is
    already in the local Hugging Face cache, or "wheel:package" for trained files shipped inside an installed
    Python package (MediaPipe's). Returns the directory (or file, when required is empty).
    """
    if spec.startswith("hf:"):
        path = _hf_cache_snapshot(spec[3:], required)
    elif spec.startswith("wheel:"):
        path = _package_dir(spec[6:])
    else:
        path = Path(spec).expanduser()
        if not path.is_absolute():
            path = models_dir(str(root) if root else None) / path
    if not required and not path.exists():
        raise MissingModelFiles(f"model {spec!r}: {path} not found. {_HINT}")
    missing = [name for name in required if not (path / name).exists()]
    if missing:
        raise MissingModelFiles(f"model {spec!r}: missing {', '.join(missing)} in {path}. {_HINT}")
    return path


_HINT = ("Put the published files there (see `humanverse models list`; files published in another format go "
         "through `humanverse models import NAME FILE`) or point the config at them.")


def _hf_cache_snapshot(repo_id: str, required: list[str]) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError) as exc:
        raise MissingModelFiles(
            f"model hf:{repo_id} is not in the local Hugging Face cache (needs {', '.join(required) or 'a snapshot'}); "
            "nothing is downloaded at run time: fetch it with `humanverse models download` where a network exists."
        ) from exc


def _package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (importing mediapipe costs a second)."""
    import importlib.util

    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise MissingModelFiles(f"model 'wheel:{package}': the {package} package is not installed "
                                "(scripts/setup.sh installs it pinned)")
    return Path(list(found.submodule_search_locations)[0])
