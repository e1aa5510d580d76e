"""OUT/README.md: the Hugging Face dataset card of a curated run, written at the end of every `curate`.

Why: `datasets.load_dataset("OUT/shards")` sees tars and parquet sidecars in one folder and silently picks
the sidecars. The card's `configs:` names the tars, so `load_dataset("OUT")` returns the samples (images).
`datasets` infers one builder for all configs of a folder from the first config's files, so the sidecars
cannot be a second config of the same card (it would fail to read parquet as tar): the card gives their
one line (`load_dataset("parquet", ...)`) instead. It also says what a dataset card must: sources,
filters, models with licences and counts.
"""

from __future__ import annotations

import posixpath

import fsspec
import pyarrow.dataset as pads
import yaml

from humanverse.config import CurateConfig
from humanverse.model_provenance import stage_models
from humanverse.models.registry import REGISTRY
from humanverse.shards import atomic
from humanverse.shards.members import member_kind

SAMPLES_CONFIG = "samples"
TARS, SIDECARS = "shards/*.tar", "shards/*.parquet"
FILTER_SECTIONS = ("metadata", "resolution", "person", "aesthetic", "nsfw")
"""The config sections that decide which rows are kept (their thresholds go on the card)."""


def card_path(output: str) -> str:
    return atomic.join(output, "README.md")


def written_members(output: str) -> list[str]:
    """Every member suffix this run's shards hold, from the sidecars' `members` column (what was written)."""
    fs, root = fsspec.core.url_to_fs(atomic.join(output, "shards"))
    files = sorted(fs.glob(root + "/*.parquet")) if fs.exists(root) else []
    if not files:
        return []
    table = pads.dataset(files, format="parquet", filesystem=fs).to_table(columns=["members"])
    return sorted({m for row in table["members"].to_pylist() if row for m in row})


def features(members: list[str]) -> list[dict]:
    """The `datasets` features of the samples, declared rather than inferred: the builder infers them from
    the first 5 samples, so a member or json key that only later samples hold (outpaint canvases, hand
    masks, HaGRID fields) would be dropped without a word, and a differing first 5 is an error."""
    out = []
    for suffix in members:
        kind = member_kind(suffix)
        if kind == "json":
            dtype = "json"
        elif kind == "text":
            dtype = "string"
        elif kind is not None:
            dtype = "image"  # every other kind is a PNG or a JPEG; 16-bit PNGs come back as mode I;16
        else:
            dtype = "binary"  # not a member curate writes: raw bytes
        out.append({"name": suffix, "dtype": dtype})
    return out + [{"name": "__key__", "dtype": "string"}, {"name": "__url__", "dtype": "string"}]


def licence_of(model: str, trained: bool = True) -> str:
    """The registry's licence for a model named in the config (a path, hf: spec or a wheel's model)."""
    if not trained:
        return "none: random weights built by humanverse"
    for entry in REGISTRY:
        if entry.spec in model or (entry.spec.startswith("wheel:mediapipe") and "MediaPipe" in model):
            return entry.licence
    if "HOG" in model:
        return "Apache-2.0 (OpenCV)"
    return "not in the registry: see `humanverse models list`"


def _filters(cfg: CurateConfig) -> dict:
    out = {}
    for name in FILTER_SECTIONS:
        section = getattr(cfg, name)
        values = section.model_dump(mode="json", exclude={"resources"})
        if name in ("aesthetic", "nsfw") and (cfg.demo or not values.get("enabled", True)):
            values["note"] = "off (demo preset: untrained score)" if cfg.demo else "off"
        out[name] = values
    return out


def render(cfg: CurateConfig, record: dict, summary: dict, members: list[str]) -> str:
    """The card's text from the config, run.json's record, the funnel summary and the members written."""
    meta = {
        "configs": [{"config_name": SAMPLES_CONFIG, "default": True,
                     "data_files": [{"split": "train", "path": TARS}]}],
        "dataset_info": {"config_name": SAMPLES_CONFIG, "features": features(members)},
        "tags": ["humanverse", "webdataset", "human-centric"],
    }
    counts = summary.get("counts", {})
    lines = ["---", yaml.safe_dump(meta, sort_keys=False).strip(), "---", "",
             "# A curated human-centric image dataset (humanverse)", "",
             "WebDataset shards (`shards/{task_id}.tar`) with a parquet sidecar per shard (one row per input row: "
             "status, reason, scores) and a `stats.json` completion marker. Members and fields: the humanverse "
             "README, *Shard format*.", "",
             "## Loading", "", "```python", "from datasets import load_dataset",
             'samples = load_dataset("PATH/TO/THIS/FOLDER", split="train")          # the tars: jpg, json, depth.png, ...',
             'sidecars = load_dataset("parquet", data_files="PATH/TO/THIS/FOLDER/shards/*.parquet", split="train")',
             "```", "",
             "`load_dataset` on `shards/` itself would read the sidecars, not the images. 16-bit `depth*.png` "
             "members come back as mode `I;16` images (divide by 65535); `mask.png`, `parts.png` and "
             "`hand_mask.png` as mode `L`; a member a sample lacks is None. Shards from others: read them with "
             "`humanverse.shards.loader.ShardDataset` (docs/loading.md says why).", "",
             "## Counts", "", "| input rows | kept (ok) | rejected | errors | shards |", "|---|---|---|---|---|",
             f"| {counts.get('input', 0)} | {counts.get('ok', 0)} | {counts.get('rejected', 0)} | "
             f"{counts.get('error', 0)} | {summary.get('tasks', 0)} |", "",
             f"Run status: {record.get('status', 'unknown')}.", "",
             "## Sources", "", "| input | format | rows |", "|---|---|---|"]
    for item in record.get("inputs", []):
        # the file name only: a local input's absolute path says nothing to a reader and names the curator's disk
        lines.append(f"| `{posixpath.basename(str(item.get('path', '')).rstrip('/'))}` | {item.get('format')} | "
                     f"{item.get('rows')} |")
    lines += ["", "## Filters", "", "Rows dropped per stage and reason:", "", "| stage | in | kept |",
              "|---|---|---|"]
    lines += [f"| {row['stage']} | {row['in']} | {row['ok']} |" for row in summary.get("stages", [])]
    lines += ["", "| reason (status:stage:reason) | rows |", "|---|---|"]
    lines += [f"| `{reason}` | {n} |" for reason, n in summary.get("reasons", {}).items()]
    lines += ["", "Thresholds (config sections):", "", "```yaml",
              yaml.safe_dump(_filters(cfg), sort_keys=False).strip(), "```", "",
              "## Models", "", "| stage | model | trained | licence |", "|---|---|---|---|"]
    for m in stage_models(cfg):
        trained = "yes" if m.trained else "**no**: tiny random weights, output is noise"
        lines.append(f"| {m.stage} | `{m.model}` | {trained} | {licence_of(m.model, m.trained)} |")
    lines += ["", f"Config digest `{record.get('config_digest')}`, input digest `{record.get('input_digest')}`, "
              f"humanverse {record.get('humanverse_version')}. The full config is in `run.json`.", ""]
    return "\n".join(lines)


def write_dataset_card(output: str, cfg: CurateConfig, record: dict, summary: dict) -> None:
    """Publish OUT/README.md atomically (a crash never leaves half a card)."""
    text = render(cfg, record, summary, written_members(output))
    atomic.write_bytes(card_path(output), text.encode("utf-8"))
