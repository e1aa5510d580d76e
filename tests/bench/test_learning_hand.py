"""bench/learning_hand.py: the route that feeds the kit's hand crops to `train hand` and `train hand-body` keeps
them (the demo curation drops them), the seam measure reads a seam, the "kept at the blend stop" region is the
eroded keep, and (slow) the quick run of both methods
and hand-first sampling learns enough to pass loose bounds (bench/LEARNING.md's hand section has the full figures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.realdata import HANDS, REALDATA
from tests.support.torch_threads import _one_torch_thread  # noqa: F401 (autouse)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import learning_hand  # noqa: E402

pytestmark = pytest.mark.skipif(not (HANDS / "ground_truth_index.json").is_file(),
                                reason="the real-data kit's hands/ is absent")


@pytest.mark.slow  # ~11 s on the shared machine (MediaPipe holistic on 10 frames); the default suite is full
def test_the_hagrid_route_keeps_every_kit_hand_crop(tmp_path):
    pytest.importorskip("mediapipe")
    from humanverse.train.hand.hand_samples import decode_body_with_hands, decode_hand_crop

    frames = learning_hand.read_frames(learning_hand.hagrid_input(REALDATA, tmp_path / "hagrid"))
    assert len(frames) == len(learning_hand.KIT_FRAMES)
    assert all(h["source"] == "hagrid" and h["side"] in ("left", "right") for f in frames for h in f.person["hands"])
    hand_shards, body_shards = learning_hand.write_shards(frames, tmp_path / "shards")

    crops = learning_hand.fixed_batch(hand_shards, learning_hand.hand_config(1, 0, 1).data, decode_hand_crop, 32)
    assert len(crops["key"]) == sum(len(c) for _, c in learning_hand.KIT_FRAMES)
    coverage = crops["mask"].mean(dim=(1, 2, 3))
    assert ((coverage > 0.05) & (coverage < 0.95)).all(), coverage  # a hand, not an empty or full crop
    assert (crops["pose"].flatten(1).amax(1) > 0).all()  # every crop has its skeleton drawn

    bodies = learning_hand.fixed_batch(body_shards, learning_hand.body_config(1, 0, 1).data, decode_body_with_hands, 32)
    assert len(bodies["key"]) == len(frames)
    assert (bodies["keep"].flatten(1).amax(1) == 1).all()  # every frame keeps some hand pixels


def test_seam_scores_tell_a_pasted_patch_from_a_smooth_one():
    ramp = np.tile(np.linspace(0, 1, 32)[None, :, None], (32, 1, 3))
    keep = np.zeros((32, 32), dtype=bool)
    keep[8:24, 8:24] = True
    smooth = learning_hand.seam_scores(ramp, keep)
    pasted = learning_hand.seam_scores(np.where(keep[..., None], 1 - ramp, ramp), keep)
    assert smooth["diff_seam"] <= max(smooth["diff_keep"], smooth["diff_ring"]) + 1e-6
    assert pasted["diff_seam"] > 5 * pasted["diff_keep"]
    assert smooth["std_keep"] > 0.1 and smooth["std_ring"] > 0.1


@pytest.mark.slow
def test_quick_hand_methods_learn(tmp_path):
    pytest.importorskip("mediapipe")
    section = learning_hand.run_hand_methods(tmp_path, quick=True)
    figures = json.loads((tmp_path / "learning_hand.json").read_text())
    hand, body, first = figures["hand"], figures["body"], figures["hand_first"]["frames"]
    print(section)
    # Loose bounds: both hand branches well under the best constant predictor; the ControlNet lowers the frozen
    # base's loss without changing the base; the mask expansion keeps the generated hands better than no fusion.
    assert all(hand["val"][-1][f"loss_{m}"] < 0.8 * hand["val"][1][f"loss_{m}"] for m in ("rgb", "mask"))
    assert body["base_unchanged"]
    assert body["val"][-1]["loss"] < body["val"][1]["loss"] < 0.5 * body["val"][0]["best_constant"]
    assert np.mean([f["hands_abs_err_fused"] for f in first]) < np.mean([f["hands_abs_err_no_fusion"] for f in first])


def test_inner_keep_is_the_keep_region_left_at_the_blend_stop():
    keep = np.zeros((64, 64), dtype=bool)
    keep[16:32, 16:32] = True  # 4 x 4 latent pixels at a 4x VAE
    blend = {"stop_step": 3, "radius": [0, 0, 1, 1]}  # radius 1 at the last fused step
    inner = learning_hand.inner_keep(keep, blend, 4)
    assert inner.sum() == 8 * 8 and inner[20:28, 20:28].all()  # one latent pixel (4 px) eroded on each side
    assert not learning_hand.inner_keep(keep, {"stop_step": 3, "radius": [0, 1, 2]}, 4).any()  # eroded away


def test_person_mask_oracle_scores_the_skeleton_frame_with_the_given_hands_pasted_in(monkeypatch):
    import learning_refiner
    import torch

    monkeypatch.setattr(learning_refiner, "segment", lambda images: images.mean(1).numpy() > 0.5)  # bright = person

    class IdentityVAE:  # a lossless VAE: the oracle through it equals the oracle on the pixels
        def encode(self, x):
            return type("Encoded", (), {"latent_dist": type("Dist", (), {"mode": lambda _: x})()})()

        def decode(self, z):
            return type("Decoded", (), {"sample": z})()

    real = torch.zeros(2, 3, 8, 8)
    real[0, :, :, :4] = 1  # frame 0's person: the left half; frame 1's: the top half (IoU 1/3)
    real[1, :, :4, :] = 1
    keep = torch.zeros(2, 1, 8, 8)
    keep[0, :, :, :4] = 1  # frame 0's hands: its whole person; frame 1 has none
    oracle = learning_hand.person_mask_oracle(real, keep, [1, 0], IdentityVAE())
    # frame 0's shuffled ideal: frame 1 with frame 0's hands pasted in = left half + top-right quarter (IoU 2/3);
    # frame 1's: frame 0 as it is (IoU 1/3)
    assert oracle["shuffled"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert oracle["gap"] == pytest.approx(0.5)
    assert oracle["right_vae"] == 1 and oracle["gap_vae"] == pytest.approx(oracle["gap"])
    assert oracle["mask_area"] == pytest.approx(0.5)
