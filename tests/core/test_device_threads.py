"""A stage's torch threads come from its config, never the machine (issue 31: Ray and --engine local wrote
different depth/normal bytes; Ray gives a num_cpus=0.5 actor one thread, the local engine gave all cores,
and CPU kernels sum in a thread-count-dependent order)."""

import os

import torch

from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.core.task import TaskPayload, TaskSpec


class TorchStage(Stage):
    name = "torch_stage"

    def setup(self) -> None:
        self.use_device()

    def process(self, batch):
        for s in batch:
            s.info["threads"] = torch.get_num_threads()


def task() -> TaskPayload:
    spec = TaskSpec("00000-00000", "in", "folder", 0, 1)
    return TaskPayload(spec, [Sample(key="k", task_id=spec.task_id, source={})])


def test_threads_follow_the_config_not_the_core_count(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    before = torch.get_num_threads()
    try:
        half = TorchStage(Resources(num_cpus=0.5))
        half.ensure_setup()
        assert half.threads == 1  # as Ray's OMP_NUM_THREADS for this actor; was 16 (the core count) locally
        assert TorchStage(Resources(num_cpus=2)).use_device() == "cpu" and torch.get_num_threads() == 2
        assert TorchStage(Resources(num_cpus=0.5, threads=3)).use_device() and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_each_stage_runs_with_its_own_threads_in_one_process():
    """The local engine sets up every stage in one process; the last setup must not decide for all."""
    before = torch.get_num_threads()
    try:
        one, two = TorchStage(Resources(num_cpus=1)), TorchStage(Resources(num_cpus=2))
        one.ensure_setup()
        two.ensure_setup()  # leaves the process at 2 threads
        assert one.run_task(task()).samples[0].info["threads"] == 1
        assert two.run_task(task()).samples[0].info["threads"] == 2
    finally:
        torch.set_num_threads(before)
