"""The export's model card (README.md + export.json): what was trained, on what data, for how long, how to load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def data_digest(shards) -> dict:
    """sha256 over the training shard list, with each local shard's size: which data, not a hash of terabytes."""
    from humanverse.sources.globs import expand

    try:
        urls = expand(shards, what="--data", must_exist=False)
    except FileNotFoundError:
        urls = [shards] if isinstance(shards, str) else list(shards)
    entries = [[url, Path(url).stat().st_size if Path(url).is_file() else None] for url in sorted(urls)]
    digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()
    return {"sha256": digest, "num_shards": len(entries), "shards": shards}


def write_card(out: Path, record: dict, loading: str) -> None:
    (out / "export.json").write_text(json.dumps(record, indent=2, default=str))
    config = json.dumps(record["config"], indent=2, default=str)
    card = f"""---
library_name: diffusers
tags: [humanverse, hyperhuman]
---
# {record['title']}

Exported by `humanverse export` from `{record['run']}` ({record['checkpoint']}, {'EMA' if record['ema'] else 'raw'} weights).

| | |
|---|---|
| stage | {record['stage']} |
| training steps | {record['step']} |
| data digest | `{record['data']['sha256']}` over {record['data']['num_shards']} shards |
| humanverse | {record['package_version']} |

## Loading (diffusers only)

```python
{loading.strip()}
```

## Training config

```json
{config}
```
"""
    (out / "README.md").write_text(card)
