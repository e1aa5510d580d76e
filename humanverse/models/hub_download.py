"""Fetching one registry entry's files from the Hugging Face Hub: only the files its loader reads.

huggingface_hub does the transfer: it writes each file as `blobs/<etag>.incomplete` and only links it under its
final name when complete, and resumes an `.incomplete` blob with a Range request. After each file we check its
sha256 against the registry's pinned digest when there is one; a mismatch removes the file from the snapshot
and is an error. A 401/403 (gated repo, licence not accepted, no token) ends with what to do.
The endpoint is huggingface_hub's (`HF_ENDPOINT`, read once when it is imported).
"""

from __future__ import annotations

import os
from pathlib import Path

from humanverse.models.hub_files import hub_files
from humanverse.models.registry import ModelEntry


class HubAccessDenied(RuntimeError):
    pass


def download_hub_entry(entry: ModelEntry, root: Path) -> str:
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    from humanverse.models.weights_digest import sha256_file

    repo = entry.download[3:]
    local_dir = None if entry.spec.startswith("hf:") else str(root / entry.spec)
    try:
        listing = [s.rfilename for s in (HfApi().model_info(repo).siblings or [])]
        files = hub_files(entry.name).select(listing)
        paths = [Path(hf_hub_download(repo, name, local_dir=local_dir)) for name in files]
    except (GatedRepoError, RepositoryNotFoundError, HfHubHTTPError) as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(exc, GatedRepoError) or status in (401, 403):
            raise HubAccessDenied(
                f"hf:{repo} refused access ({status or 'gated'}): open https://huggingface.co/{repo}, accept its licence "
                f"({entry.licence}) while logged in, then set HF_TOKEN (or run `hf auth login`) and download again"
            ) from exc
        raise
    bad = []
    for name, path in zip(files, paths):
        expected = entry.sha256.get(name)
        if expected and sha256_file(path) != expected:
            bad.append(name)
            _remove(path)
    if bad:
        raise ValueError(f"hf:{repo}: sha256 mismatch for {', '.join(bad)} (removed); the registry pins other bytes")
    where = local_dir or (str(paths[0].parent) if paths else "")
    return f"{len(paths)} file(s) ({', '.join(files)}) in {where}"


def _remove(path: Path) -> None:
    """Drop a bad file from the snapshot (and its blob, when the snapshot entry is a link into blobs/)."""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        path.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
    else:
        path.unlink(missing_ok=True)
