"""Person-rule agreement: the person stage's own decision, applied to GT boxes and to detections."""

from humanverse.accuracy.rule_agreement import Agreement, rule_keeps
from humanverse.stages.person_rule import PersonRuleConfig

RULE = PersonRuleConfig(min_persons=1, max_persons=3, min_area_frac=0.15, area_rule="union")


def test_rule_keeps_follows_the_person_stage():
    assert not rule_keeps(RULE, [], 100, 100)  # nobody
    assert rule_keeps(RULE, [[0, 0, 50, 50]], 100, 100)  # 25%
    assert not rule_keeps(RULE, [[0, 0, 10, 10]], 100, 100)  # 1%
    assert not rule_keeps(RULE, [[0, 0, 50, 50]] * 4, 100, 100)  # too many, however large


def test_agreement_counts_the_finds_nobody_baseline_and_the_keep_rate():
    a = Agreement()
    for gt_keep, keep in ((True, True), (True, False), (False, False), (False, True), (False, False)):
        a.add(gt_keep, keep)
    assert (a.photos, a.agree, a.gt_rejects, a.gt_keeps, a.kept_of_gt_keeps) == (5, 3, 3, 2, 1)
