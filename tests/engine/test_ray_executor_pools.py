"""The Ray executor's pool shapes and who writes the shards (no cluster started: ray.data's strategy
objects and the actor classes called as plain objects)."""

import pickle

import numpy as np

from humanverse.core.group import StageGroup
from humanverse.core.stage import Resources, Stage
from humanverse.engine.ray_executor import writes_own_shards
from humanverse.engine.ray_ops import StageGroupWorker
from tests.shards.test_writer import task_with


def test_ray_actor_pool_runs_calls_at_once_only_when_asked():
    import ray

    from humanverse.engine.ray_executor import actor_pool

    one, four = actor_pool(ray, 2), actor_pool(ray, 1, 4)
    assert (one.min_size, one.max_size, one.max_concurrent_calls_per_actor) == (2, 2, None)
    assert (four.min_size, four.max_concurrent_calls_per_actor, four.enable_true_multi_threading) == (1, 4, True)


class Marks(Stage):
    name = "marks"

    def process(self, batch):
        for sample in batch:
            sample.scores["marked"] = 1.0


def test_a_cpu_group_writes_its_own_shards_and_a_gpu_group_leaves_them_to_the_writer():
    assert writes_own_shards(StageGroup("fetch", [Marks(Resources())], Resources(num_cpus=1)))
    assert not writes_own_shards(StageGroup("pose", [Marks(Resources())], Resources(num_gpus=0.25)))


def test_the_last_group_publishes_each_task_and_hands_on_only_the_result_rows(tmp_path):
    group = StageGroup("detect", [Marks(Resources())], Resources())
    batch = {"task": np.array([pickle.dumps(task_with(2))], dtype=object)}

    rows = StageGroupWorker(group, 0, output=str(tmp_path))(batch)
    assert list(rows["task_id"]) == ["00000-00000"] and list(rows["failed"]) == [""]
    assert (tmp_path / "shards" / "00000-00000.tar").exists()
    assert (tmp_path / "shards" / "00000-00000.stats.json").exists()

    handed_on = StageGroupWorker(group, 0)(batch)  # not the last group: the task itself goes on
    assert pickle.loads(handed_on["task"][0]).samples[0].scores["marked"] == 1.0
