import pytest

from humanverse.stages.person_rule import PersonRule, PersonRuleConfig, area_stats, union_area
from humanverse.core.sample import Sample


def sample(boxes, w=100, h=100):
    s = Sample(key="k", task_id="t", source={})
    s.width, s.height = w, h
    s.persons = [{"box": b, "score": 0.9} for b in boxes]
    return s


def test_union_area_counts_overlap_once():
    assert union_area([[0, 0, 10, 10], [5, 5, 15, 15]]) == pytest.approx(175.0)
    assert union_area([[0, 0, 10, 10], [0, 0, 10, 10]]) == pytest.approx(100.0)
    assert union_area([]) == 0.0


def test_area_stats_clip_to_image():
    st = area_stats([[-50, -50, 50, 50]], 100, 100)
    assert st["human_area_frac"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    "boxes,rule,keep,reason",
    [
        ([], "union", False, "no_person"),
        ([[0, 0, 40, 40]], "union", True, None),  # 16% >= 15%
        ([[0, 0, 38, 38]], "union", False, "person_area_small"),  # 14.4%
        ([[0, 0, 30, 30], [50, 50, 80, 80]], "union", True, None),  # 9% + 9%
        ([[0, 0, 30, 30], [50, 50, 80, 80]], "largest", False, "person_area_small"),
        ([[0, 0, 40, 40], [50, 50, 60, 60]], "each", False, "person_area_small"),
        ([[0, 0, 50, 50]] * 4, "union", False, "too_many_persons"),
        ([[0, 0, 50, 50]] * 3, "union", True, None),
    ],
)
def test_person_rule(boxes, rule, keep, reason):
    f = PersonRule(PersonRuleConfig(area_rule=rule))
    s = sample(boxes)
    assert f.check(s) == (keep, reason)
    assert s.scores["n_persons"] == len(boxes)
    assert "human_area_frac" in s.scores and "max_person_area_frac" in s.scores


def test_rule_runs_through_stage_counters():
    from humanverse.core.task import TaskPayload, TaskSpec

    task = TaskPayload(TaskSpec("00000-00000", "x", "laion", 0, 2), [sample([]), sample([[0, 0, 60, 60]])])
    PersonRule(PersonRuleConfig()).run_task(task)
    assert [s.status for s in task.samples] == ["rejected", "ok"]
    assert task.counters["person"] == {"in": 2, "ok": 1, "rejected:no_person": 1}
