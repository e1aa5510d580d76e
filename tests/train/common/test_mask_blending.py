"""Known answers for the sequential mask expansion (humanverse/train/common/mask_blending.py)."""

import pytest
import torch

from humanverse.train.common.mask_blending import BlendSchedule, erode, fuse, keep_masks


def _square(size: int, side: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, size, size)
    start = (size - side) // 2
    mask[..., start:start + side, start:start + side] = 1
    return mask


def test_the_mask_shrinks_exactly_as_scheduled():
    keep = _square(32, 12)
    schedule = BlendSchedule(erosion_per_step=0.5, stop=0.8)
    masks = keep_masks(keep, schedule, num_steps=10)
    assert schedule.stop_step(10) == 8
    for step, mask in enumerate(masks):
        if step < 8:
            radius = step // 2  # floor(step * 0.5)
            assert torch.equal(mask, _square(32, 12 - 2 * radius)), step
        else:
            assert mask.sum() == 0, step  # from the stop step on nothing is kept
    # erosion by r is r successive erosions by 1 (a square element), and never grows the region
    assert torch.equal(erode(keep, 3), erode(erode(erode(keep, 1), 1), 1))
    assert torch.all(erode(keep, 2) <= keep)


def test_first_step_takes_stage1_inside_the_keep_region_and_the_model_outside():
    generator = torch.Generator().manual_seed(0)
    keep = _square(16, 6)
    model = torch.randn(1, 4, 16, 16, generator=generator)
    stage1 = torch.randn(1, 4, 16, 16, generator=generator)
    first = keep_masks(keep, BlendSchedule(erosion_per_step=1.0, stop=1.0), num_steps=4)[0]
    fused = fuse(model, stage1, first)
    inside = keep.expand_as(model).bool()
    assert torch.equal(fused[inside], stage1[inside])
    assert torch.equal(fused[~inside], model[~inside])


@pytest.mark.parametrize("stop", [1.0, 0.5])
def test_last_step_takes_nothing_from_stage1_outside_the_final_keep_region(stop):
    generator = torch.Generator().manual_seed(1)
    keep = _square(16, 10)
    schedule = BlendSchedule(erosion_per_step=1.0, stop=stop)
    masks = keep_masks(keep, schedule, num_steps=4)
    last_fused = schedule.stop_step(4) - 1
    final = masks[last_fused]
    model = torch.randn(1, 4, 16, 16, generator=generator)
    stage1 = model + 10  # every stage-1 value differs from the model's
    fused = fuse(model, stage1, masks[-1])
    outside = ~final.expand_as(model).bool()
    assert torch.equal(fused[outside], model[outside])
    assert final.sum() == (10 - 2 * last_fused) ** 2
    if stop < 1:
        assert torch.equal(fused, model)  # past the stop step the model's latents pass untouched


def test_schedule_rejects_nonsense():
    with pytest.raises(ValueError):
        BlendSchedule(erosion_per_step=-1)
    with pytest.raises(ValueError):
        BlendSchedule(stop=1.5)
