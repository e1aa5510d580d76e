"""Person-rule agreement: does the pipeline keep or reject a photo as the preset's own person rule, applied to
the ground truth, would? A detector's recall alone hides what curation does with its boxes: missing the fourth
person of a crowd turns a correct rejection (too many persons) into a wrong keep.

A detector that finds nobody rejects every photo; its agreement (the share of photos the rule rejects on the
ground truth) is the trivial baseline any detector must beat.
"""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.core.sample import Sample
from humanverse.stages.person_rule import PersonRule, PersonRuleConfig


def rule_keeps(rule: PersonRuleConfig, boxes: list[list[float]], width: int, height: int) -> bool:
    """The person stage's own decision (PersonRule.check) for these boxes on a width x height photo."""
    sample = Sample(key="000000000", task_id="rule", source={})
    sample.width, sample.height = width, height
    sample.persons = [{"box": list(map(float, b))} for b in boxes]
    return PersonRule(rule).check(sample)[0]


@dataclass
class Agreement:
    photos: int = 0
    agree: int = 0
    gt_rejects: int = 0
    """Photos the rule rejects on the ground truth: what a detector that finds nobody gets right."""
    gt_keeps: int = 0
    kept_of_gt_keeps: int = 0

    def add(self, gt_keep: bool, pipeline_keep: bool) -> None:
        self.photos += 1
        self.agree += gt_keep == pipeline_keep
        self.gt_rejects += not gt_keep
        self.gt_keeps += gt_keep
        self.kept_of_gt_keeps += gt_keep and pipeline_keep
