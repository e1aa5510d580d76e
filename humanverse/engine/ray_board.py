"""The progress board of a Ray run, kept in the GCS's key-value store instead of an actor of its own.

Workers write which task and stage each of their slots is in; the driver reads the board only when nothing
has finished for a while (stall_guard.py). An actor for this cost a worker process of its own; without it a
fetch run's peak PSS is 0.03 GiB lower at the same CPU per row (bench/RESULTS.md section 4, round 7), and the
GCS, which runs on every cluster anyway, answers these small writes itself. The store is Ray's internal KV
(`ray.experimental.internal_kv`, what Ray's own libraries keep their state in); one namespace per run, cleared
when the run ends.
"""

from __future__ import annotations

import json
import logging

from humanverse.engine.stall_guard import Active

log = logging.getLogger(__name__)


class GcsBoard:
    """One key per worker slot under the run's namespace; the value is [task id, stage, since]."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def report(self, changes: dict[str, tuple[str, str, float] | None]) -> None:
        """Several enters and leaves at once (None: left), as a worker's heartbeat sends them."""
        from ray.experimental import internal_kv

        for slot, entry in changes.items():
            if entry is None:
                internal_kv._internal_kv_del(slot, namespace=self.namespace)
            else:
                internal_kv._internal_kv_put(slot, json.dumps(list(entry)), overwrite=True, namespace=self.namespace)

    def snapshot(self) -> Active:
        from ray.experimental import internal_kv

        active = {}
        for key in internal_kv._internal_kv_list(b"", namespace=self.namespace):
            value = internal_kv._internal_kv_get(key, namespace=self.namespace)
            if value is not None:  # left between the listing and the read
                task_id, stage, since = json.loads(value)
                active[key.decode()] = (task_id, stage, float(since))
        return active

    def clear(self) -> None:
        """Best effort, at the end of a run that may be ending because Ray itself is gone."""
        from ray.experimental import internal_kv

        try:
            internal_kv._internal_kv_del(b"", del_by_prefix=True, namespace=self.namespace)
        except Exception:  # noqa: BLE001 - a few stale keys must not hide why the run ended
            log.debug("progress board not cleared", exc_info=True)
