"""The self-check on the shared real photos with a trained pose model (MediaPipe BlazePose, shipped in the
mediapipe wheel): the conditions are the kit's ground-truth keypoints, so the pose part of the harness is
real. Inception and CLIP are random here (no weights on this machine): their directions are asserted too,
since a degradation must move any non-degenerate feature statistics."""

import pytest

from humanverse.eval.run import EvalRequest, run_eval
from humanverse.stages.pose import PoseConfig
from tests.eval.conftest import tiny_eval_config
from tests.support.realdata_shards import PEOPLE, write_kit_shard


@pytest.mark.skipif(not PEOPLE.is_dir(), reason="needs ../shared/realdata")
def test_self_check_with_real_pose_on_the_shared_photos(eval_models, tmp_path):
    shard, count = write_kit_shard(tmp_path / "kit")
    assert count >= 8
    base = tiny_eval_config(eval_models).model_dump()
    base["pose"]["pose"] = PoseConfig(backend="mediapipe").model_dump()
    cfg = type(tiny_eval_config(eval_models)).model_validate(base)
    metrics = run_eval(EvalRequest(data=str(shard), output=str(tmp_path / "sc"), num_samples=count, self_check=True,
                                   size=512, cfg=cfg), progress=lambda line: None)
    v = metrics["variants"]
    real = v["real"]["pose"]["pck"]
    assert real >= 0.6, v["real"]["pose"]  # MACHINE.md: BlazePose PCK@0.2 0.88 on COCO crops, 0.71 on all photos
    for kind in ("blur", "noise", "shift"):
        assert v[kind]["pose"]["pck"] < real, (kind, v[kind]["pose"], v["real"]["pose"])
        assert v[kind]["fid"] > v["real"]["fid"] and v[kind]["kid"] > v["real"]["kid"], kind
