"""A Ray cluster on this machine, every node on 127.0.0.1: a head that only drives (0 CPUs, like a cluster's
head) and two worker nodes. The worker node running a task is killed mid-run; the job completes on the
node that is left, with every key exactly once."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.reliability

ENV = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
       "RAY_USAGE_STATS_ENABLED": "0"}

DRIVER = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    from ray import cloudpickle
    from humanverse import config
    from humanverse.engine import curate as curate_mod
    from humanverse.core.stage import Resources, Stage
    from humanverse.plan import build_stage_groups

    address, parquet, out, witness = sys.argv[1:5]
    from tests.support.engine_only import ENGINE_ONLY

    class Witness(Stage):
        name = "witness"
        def __init__(self):
            super().__init__(Resources())
        def run_task(self, task):
            Path(witness, f"busy-{os.getpid()}").write_text(task.task_id)
            time.sleep(1.0)
            return super().run_task(task)
        def process(self, batch):
            pass

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    def build(cfg, allow_private_urls=False):
        groups = build_stage_groups(cfg, allow_private_urls)
        for g in groups:
            g.stages.append(Witness())
        return groups
    curate_mod.build_stage_groups = build
    cfg = config.resolve("demo", None, ["input.rows_per_task=2", "run.stall_timeout_s=120", *ENGINE_ONLY])
    result = curate_mod.curate(cfg, [parquet], out, address=address, allow_private_urls=True)
    sys.exit(0 if result.ok else 1)
''')


def raylet_pid(node) -> int:
    return node.all_processes["raylet"][0].process.pid


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow  # slow (~60 s): keeps the default suite within its 5 minutes; run with scripts/test.sh -m slow
def test_worker_node_killed_mid_run(laion_input, tmp_path, monkeypatch):
    """`ray start` refuses extra nodes while RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (which keeps nodes on
    127.0.0.1), so the nodes are started with Ray's own multi-node test utility instead."""
    from ray.cluster_utils import Cluster

    for k, v in ENV.items():
        if k.startswith("RAY_"):
            monkeypatch.setenv(k, v)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": "127.0.0.1",
                                                            "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=2, node_ip_address="127.0.0.1") for _ in range(2)]
    cluster.wait_for_nodes()
    try:
        witness = tmp_path / "witness"
        witness.mkdir()
        out = tmp_path / "out"
        driver = subprocess.Popen([sys.executable, "-c", DRIVER, cluster.address, laion_input, str(out), str(witness)],
                                  env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        killed = None
        deadline = time.time() + 180
        while time.time() < deadline and driver.poll() is None and killed is None:
            for busy in witness.glob("busy-*"):
                try:
                    parent = parent_pid(int(busy.name.split("-")[1]))
                except (FileNotFoundError, ProcessLookupError):
                    continue
                killed = next((w for w in workers if raylet_pid(w) == parent), None)
                if killed is not None:
                    cluster.remove_node(killed, allow_graceful=False)  # SIGKILL the node's processes
                    break
            time.sleep(0.1)
        log, _ = driver.communicate(timeout=300)
        assert killed is not None, "no task ran on a worker node before the driver finished:\n" + log[-3000:]
        assert driver.returncode == 0, log[-3000:]
        keys = [k for f in sorted((out / "shards").glob("*.parquet")) for k in pq.read_table(f)["key"].to_pylist()]
        assert len(keys) == 10 and len(set(keys)) == 10
    finally:
        cluster.shutdown()
