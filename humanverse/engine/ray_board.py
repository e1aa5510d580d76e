"""The progress board of a Ray run, kept in the GCS's key-value store instead of an actor of its own.

Workers write which task and stage each of their slots is in; the driver reads the board only when nothing
has finished for a while (stall_guard.py). An actor for this cost a worker process (~68 MiB PSS, its start-up
and ~0.1 ms of CPU per fetched row: bench/RESULTS.md section 4); the GCS already runs on every cluster and
answers these small writes itself. The store is Ray's internal KV (`ray.experimental.internal_kv`, what Ray's
own libraries keep their state in); one namespace per run, cleared when the run ends.
"""

from __future__ import annotations

import json

from humanverse.engine.stall_guard import Active


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
        from ray.experimental import internal_kv

        internal_kv._internal_kv_del(b"", del_by_prefix=True, namespace=self.namespace)
