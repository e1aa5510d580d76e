"""Everything the report shows, read from a finished (or partial) run: run.json, the stats markers, the
parquet sidecars, and the members of a random sample of kept rows fetched from the tars.

Only complete tasks count: a sidecar or tar whose stats marker is missing belongs to a task that is
still running or was killed, and is ignored so the report agrees with the funnel.

The run folder may come from others (humanverse/shards/untrusted.py): task ids come from checked marker
names, never from a sidecar's column; members are capped; a bad marker, sample or json is left out and
counted in `skipped`; run.json is only displayed, and which local inputs may be read for rejected rows'
thumbnails is what the user names on the command line (`--input`), never run.json's `inputs`.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import fsspec
import pyarrow as pa

from humanverse.shards import funnel
from humanverse.shards import run_manifest
from humanverse.report.dedup_section import collect_dedup
from humanverse.report.rejected_images import local_image_bytes, named_local_inputs
from humanverse.shards import atomic
from humanverse.shards.records import SIDECAR_SCHEMA
from humanverse.shards.untrusted import BadSample, json_object, read_sidecar, tar_members
from humanverse.sources.keys import is_safe_key

log = logging.getLogger(__name__)


@dataclass
class KeptSample:
    key: str
    task_id: str
    members: dict[str, bytes]  # member suffix ("jpg", "json", "depth.png", ...) -> bytes

    @property
    def meta(self) -> dict:
        """The json member as an object (BadSample when it is not one)."""
        return json_object(self.members["json"]) if "json" in self.members else {}


@dataclass
class RejectedExample:
    key: str
    status: str
    stage: str | None
    reason: str | None
    url: str | None
    source_id: str | None
    image: bytes | None  # only when the source image is readable locally (see rejected_images.py)


@dataclass
class RunData:
    output: str
    run: dict | None
    summary: dict  # funnel.totals over complete tasks
    sidecar: pa.Table  # every input row of every complete task, SIDECAR_SCHEMA columns
    kept: list[KeptSample]
    rejected: dict[str, list[RejectedExample]] = field(default_factory=dict)  # "status:stage:reason" -> rows
    rejected_totals: dict[str, int] = field(default_factory=dict)
    dedup: object | None = None  # humanverse.report.dedup_section.DedupView, when the run was deduplicated
    skipped: Counter = field(default_factory=Counter)  # what was left out as unreadable, by reason

    @property
    def config(self) -> dict:
        config = (self.run or {}).get("config")
        return config if isinstance(config, dict) else {}

    @property
    def demo(self) -> bool:
        return self.config.get("demo") is True

    @property
    def provenance(self) -> str | None:
        """Which stages ran trained models and which tiny random ones, from run.json's config; None if unreadable."""
        from humanverse.config import CurateConfig
        from humanverse.config_base import ConfigError, validate
        from humanverse.model_provenance import provenance_line

        if not self.config:
            return None
        try:
            return provenance_line(validate(CurateConfig, self.config))
        except (ConfigError, ValueError, TypeError):
            return None


def collect(output: str, samples: int = 24, per_reason: int = 6, seed: int = 0,
            inputs: list[str] | None = None) -> RunData:
    """`inputs`: the local inputs the user named (inspect --input); only their images may be shown."""
    skipped: Counter = Counter()
    stats = funnel.load_stats(output, skipped)
    task_ids = [s["task_id"] for s in stats]  # checked marker names (funnel.load_stats)
    sidecar = read_sidecars(output, task_ids, skipped)
    rng = random.Random(seed)
    return RunData(
        output=output,
        run=_read_run(output, skipped),
        summary=funnel.totals(stats),
        sidecar=sidecar,
        kept=read_kept_samples(output, sidecar, samples, rng, skipped),
        rejected=rejected_examples(sidecar, per_reason, rng, named_local_inputs(inputs or [])),
        rejected_totals=_reason_counts(sidecar),
        dedup=collect_dedup(output, skipped=skipped),
        skipped=skipped,
    )


def _read_run(output: str, skipped: Counter) -> dict | None:
    try:
        return run_manifest.read_run_json(output)
    except BadSample:
        skipped["bad_run_json"] += 1
        return None


def read_sidecars(output: str, task_ids: list[str], skipped: Counter | None = None) -> pa.Table:
    """One table of the typed base columns; per-stage extra columns (embeddings) are left out. The task_id
    column is the checked id of the file it was read from, and rows whose key fails check_key are left out."""
    fs, root = fsspec.core.url_to_fs(atomic.join(output, "shards"))
    skipped = skipped if skipped is not None else Counter()
    tables = []
    for task_id in task_ids:
        try:
            with fs.open(f"{root}/{task_id}.parquet", "rb") as f:
                table = read_sidecar(f)
            columns = [
                table.column(name).cast(SIDECAR_SCHEMA.field(name).type) if name in table.column_names
                else pa.nulls(table.num_rows, SIDECAR_SCHEMA.field(name).type)
                for name in SIDECAR_SCHEMA.names
            ]
        except (OSError, ValueError, pa.ArrowException) as exc:  # BadSample is a ValueError
            skipped["unreadable_sidecar"] += 1
            log.warning("%s: sidecar left out (%s)", task_id, exc)
            continue
        columns[SIDECAR_SCHEMA.get_field_index("task_id")] = pa.array([task_id] * table.num_rows, pa.string())
        sidecar = pa.Table.from_arrays(columns, schema=SIDECAR_SCHEMA)
        safe = [is_safe_key(k) for k in sidecar.column("key").to_pylist()]
        if not all(safe):
            skipped["unsafe_key"] += safe.count(False)
            sidecar = sidecar.filter(pa.array(safe))
        tables.append(sidecar)
    return pa.concat_tables(tables) if tables else SIDECAR_SCHEMA.empty_table()


def read_kept_samples(output: str, sidecar: pa.Table, n: int, rng: random.Random,
                      skipped: Counter | None = None) -> list[KeptSample]:
    ok = [r for r in sidecar.select(["key", "task_id", "status"]).to_pylist() if r["status"] == "ok"]
    chosen = sorted(rng.sample(ok, min(n, len(ok))), key=lambda r: (r["task_id"], r["key"]))
    by_task: dict[str, set[str]] = defaultdict(set)
    for r in chosen:
        by_task[r["task_id"]].add(r["key"])
    found: dict[str, KeptSample] = {}
    for task_id, keys in by_task.items():
        for key, members in tar_members(atomic.join(output, "shards", f"{task_id}.tar"), keys, tally=skipped):
            found[key] = KeptSample(key, task_id, members)
    return [found[r["key"]] for r in chosen if r["key"] in found]


def rejected_examples(sidecar: pa.Table, per_reason: int, rng: random.Random,
                      named_inputs: dict[str, str] | None = None) -> dict[str, list[RejectedExample]]:
    rows = [r for r in sidecar.select(["key", "status", "stage", "reason", "url", "source_id", "input", "row"])
            .to_pylist() if r["status"] != "ok"]
    grouped: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        grouped[f"{r['status']}:{r['stage']}:{r['reason']}"].append(r)
    out = {}
    for label in sorted(grouped, key=lambda k: -len(grouped[k])):
        picked = rng.sample(grouped[label], min(per_reason, len(grouped[label])))
        out[label] = [
            RejectedExample(r["key"], r["status"], r["stage"], r["reason"], r["url"], r["source_id"],
                            local_image_bytes(r["input"], r["row"], named_inputs or {}))
            for r in sorted(picked, key=lambda r: r["key"])
        ]
    return out


def _reason_counts(sidecar: pa.Table) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in sidecar.select(["status", "stage", "reason"]).to_pylist():
        if r["status"] != "ok":
            counts[f"{r['status']}:{r['stage']}:{r['reason']}"] += 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
