"""The Stage base without any engine: crash isolation, counters, Filter decisions, declared weight checks."""

import pytest

from humanverse.core.model_check import MissingModelFiles
from humanverse.core.sample import Sample
from humanverse.core.stage import Filter, Resources, Stage
from humanverse.core.task import TaskPayload, TaskSpec


def task_of(captions):
    spec = TaskSpec("00000-00000", "in.parquet", "laion", 0, len(captions))
    samples = [Sample(key=f"k{i}", task_id=spec.task_id, source={}, caption=c) for i, c in enumerate(captions)]
    return TaskPayload(spec, samples)


class PoisonStage(Stage):
    name = "poison"

    def __init__(self):
        super().__init__(Resources(batch_size=4))
        self.calls = 0

    def process(self, batch):
        self.calls += 1
        for s in batch:
            if s.caption == "poison":
                raise ValueError("model exploded on this input")
            s.info["checked"] = True


def test_poison_sample_becomes_an_error_row_and_the_rest_of_its_batch_survives():
    task = task_of(["a", "poison", "b", "c", "d"])
    stage = PoisonStage()
    stage.run_task(task)
    by_caption = {s.caption: s for s in task.samples}
    assert (by_caption["poison"].status, by_caption["poison"].reason) == ("error", "poison_error:ValueError")
    assert by_caption["poison"].info["errors"][0]["message"] == "model exploded on this input"
    assert all(by_caption[c].alive and by_caption[c].info["checked"] for c in "abcd")
    assert task.counters["poison"] == {"in": 5, "ok": 4, "error:poison_error:ValueError": 1}
    # batch of 4 raised -> retried one by one (4 calls), then the last batch of one: 6 calls
    assert stage.calls == 1 + 4 + 1


def test_only_alive_samples_reach_process_and_a_failed_task_is_left_alone():
    task = task_of(["a", "b"])
    task.samples[0].reject("earlier", "too_small")
    seen = []

    class Record(Stage):
        name = "record"

        def process(self, batch):
            seen.extend(s.caption for s in batch)

    Record().run_task(task)
    assert seen == ["b"] and task.counters["record"]["in"] == 1
    task.failed = "read: broken"
    Record().run_task(task)
    assert seen == ["b"]


def test_filter_rejects_with_its_reason():
    class Short(Filter):
        name = "short"

        def check(self, sample):
            return (len(sample.caption) < 3, None if len(sample.caption) < 3 else "too_long")

    task = task_of(["ab", "abcd"])
    Short().run_task(task)
    assert [(s.status, s.reason) for s in task.samples] == [("ok", None), ("rejected", "too_long")]


def test_declared_weight_checks_are_all_named_at_once():
    class Needs(Stage):
        name = "needs"

        def weight_checks(self):
            def missing(name):
                raise MissingModelFiles(f"{name} is not there")

            return [lambda: missing("a.pth"), lambda: None, lambda: missing("b.pth")]

        def process(self, batch):
            pass

    with pytest.raises(MissingModelFiles, match=r"a.pth is not there\nb.pth is not there"):
        Needs().check_models()


def test_record_models_names_the_model_of_each_annotation():
    class Annotates(Stage):
        name = "annotate"

        def model_ids(self):
            return {"pose": "vitpose sha256:ab"}

        def process(self, batch):
            for s in batch:
                self.record_models(s, "pose")

    task = task_of(["a"])
    Annotates().run_task(task)
    assert task.samples[0].info["models"] == {"pose": "vitpose sha256:ab"}
