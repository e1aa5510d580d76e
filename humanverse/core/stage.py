"""The stage contract: typed stages with declared resources, setup() once per actor, and counters they own.

The base also does what every stage would otherwise repeat: picking the device and torch's threads from
the stage's own resources (use_device), handing process() only the samples still alive (alive), recording
which model made an annotation (record_models), checking every declared weight file (weight_checks), and
the frame contract (core/frame.py): a stage declares what it publishes in the image's frame, dense maps go
through publish_map, and a stage that writes an undeclared output on an outpainting canvas fails that sample.

A stage sees only the samples still alive, in micro-batches of its declared batch size. An exception on a
batch is retried one sample at a time, so a poison sample becomes an error row and its task survives.
"""

from __future__ import annotations

import logging
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from pydantic import Field

from humanverse.config_base import Section
from humanverse.core.device import keep_cpu_threads
from humanverse.core.frame import DenseMap, Output, person_keys
from humanverse.core.model_check import check_all
from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload

log = logging.getLogger(__name__)


class Resources(Section):
    """What one worker of this stage needs; the executor turns it into a Ray actor pool or tasks."""

    num_cpus: float = Field(1.0, ge=0)
    num_gpus: float = Field(0.0, ge=0)
    batch_size: int = Field(16, ge=1)
    """Micro-batch handed to process(): the model batch size on GPU stages."""
    actors: int = Field(1, ge=1)
    """Actor-pool size (workers holding this stage's models)."""
    threads: int = Field(0, ge=0)
    """CPU threads for torch inside one worker; 0 = the worker's num_cpus."""


class Stage(ABC):
    """Base of every pipeline step. Subclasses set `name`, implement process(), and load models in setup()."""

    name: ClassVar[str] = "stage"
    publishes: ClassVar[tuple[Output, ...]] = ()
    """What it writes that depends on the frame (core/frame.py); outpaint restore maps exactly these back."""

    def __init__(self, resources: Resources | None = None):
        self.resources = resources or Resources()
        self._ready = False

    # --- what subclasses implement -------------------------------------------------------------
    def setup(self) -> None:
        """Load models and open clients; runs once per actor, on the worker, before the first batch."""

    @abstractmethod
    def process(self, batch: list[Sample]) -> None:
        """Annotate, reject or fail the samples of one micro-batch in place."""

    def weight_checks(self) -> list[Callable[[], object]]:
        """One zero-argument check per weight file this configuration loads; each raises MissingModelFiles."""
        return []

    def model_ids(self) -> dict[str, str]:
        """Model id (and checksum) per annotation this stage produces, for run.json."""
        return {}

    @classmethod
    def declared_outputs(cls) -> tuple[Output, ...]:
        """`publishes`, or what a stage whose outputs follow its backend table computes from it."""
        return cls.publishes

    # --- what the base does ----------------------------------------------------------------------
    def publish_map(self, sample: Sample, name: str, dense) -> bool:
        """Write a declared dense map: the member `{name}.png` plus its fields in info[name]; on an outpainting
        canvas hand it to outpaint restore instead, which crops it to the original frame and encodes it.
        Returns True when it was kept for restore."""
        spec = next((o for o in self.declared_outputs() if isinstance(o, DenseMap) and o.name == name), None)
        if spec is None:
            raise ValueError(f"stage {self.name!r} publishes a dense map {name!r} it does not declare")
        if sample.canvas is not None:
            sample.canvas.stash(sample.key, name, dense)
            return True
        png, fields = spec.encode(dense)
        member = f"{name}.png"
        sample.members[member] = png
        sample.info.setdefault(name, {}).update(**fields, member=member)
        return False

    def check_models(self) -> None:
        """Raise one MissingModelFiles naming every missing file; the driver calls it before any work starts."""
        check_all(self.weight_checks())

    threads: int = 0
    """torch's CPU threads while this stage runs (set by use_device; 0: the stage does not use torch)."""

    def use_device(self) -> str:
        """The device this stage's resources ask for, with torch's threads set to the stage's own CPU share
        (the same whether the stage runs alone or in a group)."""
        from humanverse.core.device import cpu_threads, pick_device, set_cpu_threads

        self.threads = set_cpu_threads(cpu_threads(self.resources))
        self.device = pick_device(self.resources.num_gpus > 0)
        return self.device

    @staticmethod
    def alive(batch: list[Sample]) -> list[Sample]:
        """The samples of a micro-batch still alive and holding pixels: what a model stage works on."""
        return [s for s in batch if s.alive and s.image is not None]

    def record_models(self, sample: Sample, *annotations: str) -> None:
        """Name, in the sample's json, the model (id and checksum) that made each of these annotations."""
        ids = self.model_ids()
        models = sample.info.setdefault("models", {})
        for annotation in annotations:
            models[annotation] = ids[annotation]

    def ensure_setup(self) -> None:
        if not self._ready:
            self.setup()
            self._ready = True

    def run_task(self, task: TaskPayload) -> TaskPayload:
        """Process every alive sample of a task, keeping per-task counters and seconds."""
        if task.failed:
            return task
        self.ensure_setup()
        keep_cpu_threads(self.threads)
        started = time.perf_counter()
        alive = [s for s in task.samples if s.alive]
        task.count(self.name, "in", len(alive))
        size = max(1, self.resources.batch_size)
        for i in range(0, len(alive), size):
            self._process_guarded(alive[i : i + size])
        for s in alive:
            if s.alive:
                task.count(self.name, "ok")
            elif s.stage == self.name:
                task.count(self.name, f"{s.status}:{s.reason}")
        task.stage_seconds[self.name] = task.stage_seconds.get(self.name, 0.0) + time.perf_counter() - started
        return task

    def _process_guarded(self, batch: list[Sample]) -> None:
        try:
            self._process_in_frame(batch)
            return
        except Exception:  # noqa: BLE001 - isolate the poison sample below
            if len(batch) == 1:
                self._fail_one(batch[0])
                return
            log.warning("%s: batch of %d raised, retrying one by one", self.name, len(batch))
        for sample in batch:
            if not sample.alive:
                continue
            try:
                self._process_in_frame([sample])
            except Exception:  # noqa: BLE001
                self._fail_one(sample)

    def _process_in_frame(self, batch: list[Sample]) -> None:
        """process(), then the frame contract on samples that stayed on a canvas: no undeclared person key,
        no member (dense maps wait in the canvas state until restore)."""
        on_canvas = [(s, set(s.members), [set(p) for p in s.persons]) for s in batch if s.canvas is not None]
        self.process(batch)
        if not on_canvas:
            return
        declared = person_keys(self.declared_outputs())
        for sample, members, persons in on_canvas:
            if not sample.alive or sample.canvas is None:
                continue
            extra = sorted(set(sample.members) - members)
            extra += sorted({k for p, before in zip(sample.persons, persons) for k in set(p) - before} - declared)
            if extra:
                sample.fail(self.name, f"{self.name}_error:undeclared_canvas_output")
                sample.info.setdefault("errors", []).append(
                    {"stage": self.name, "message": f"canvas-frame output not declared in publishes: {extra}"})

    def _fail_one(self, sample: Sample) -> None:
        exc_type, exc, _ = _current_exception()
        log.warning("%s failed on %s: %s", self.name, sample.key, traceback.format_exc(limit=3))
        sample.fail(self.name, f"{self.name}_error:{exc_type}")
        sample.info.setdefault("errors", []).append({"stage": self.name, "message": str(exc)[:500]})


class Filter(Stage):
    """A stage that only decides: check() returns (keep, reason)."""

    @abstractmethod
    def check(self, sample: Sample) -> tuple[bool, str | None]:
        """(True, None) to keep; (False, reason code) to reject."""

    def process(self, batch: list[Sample]) -> None:
        for sample in batch:
            keep, reason = self.check(sample)
            if not keep:
                sample.reject(self.name, reason or self.name)


def _current_exception():
    import sys

    exc_type, exc, tb = sys.exc_info()
    return (exc_type.__name__ if exc_type else "Exception"), exc, tb
