"""EMA state comes back from its checkpoint folder through supported diffusers calls only."""

import warnings

import pytest
import torch
from diffusers import UNet2DModel
from diffusers.training_utils import EMAModel

from humanverse.train.common.checkpoints import load_ema_folder
from humanverse.train.lsd.train import combine_modality_losses


def _tiny_unet() -> UNet2DModel:
    return UNet2DModel(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(8, 8), norm_num_groups=4,
                       layers_per_block=1, down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"))


def test_ema_round_trips_without_deprecated_calls(tmp_path):
    torch.manual_seed(0)
    model = _tiny_unet()
    ema = EMAModel(model.parameters(), decay=0.9, model_cls=UNet2DModel, model_config=model.config)
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        ema.step(model.parameters())
    ema.save_pretrained(tmp_path / "unet_ema")

    fresh = EMAModel(_tiny_unet().parameters(), decay=0.5, model_cls=UNet2DModel, model_config=model.config)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # diffusers' deprecate() warns with FutureWarning
        load_ema_folder(fresh, tmp_path / "unet_ema", UNet2DModel)
    assert fresh.optimization_step == 3 and fresh.decay == 0.9
    for a, b in zip(fresh.shadow_params, ema.shadow_params):
        torch.testing.assert_close(a, b)


def test_the_old_path_was_deprecated(tmp_path):
    """Why load_ema_folder exists: diffusers' EMAModel.from_pretrained warns of removal in 1.0."""
    model = _tiny_unet()
    EMAModel(model.parameters(), model_cls=UNet2DModel, model_config=model.config).save_pretrained(tmp_path / "e")
    with pytest.warns(FutureWarning, match="deprecated"):
        EMAModel.from_pretrained(tmp_path / "e", UNet2DModel)


def test_modality_losses_sum_as_in_the_paper():
    terms = {"rgb": torch.tensor(1.0), "depth": torch.tensor(2.0), "normal": torch.tensor(4.0)}
    weights = {"rgb": 1.0, "depth": 1.0, "normal": 1.0}
    assert float(combine_modality_losses(terms, weights, "sum")) == 7.0
    assert float(combine_modality_losses(terms, weights, "mean")) == pytest.approx(7 / 3)
    from humanverse.train.lsd.config import LSDObjectiveConfig

    assert LSDObjectiveConfig().modality_reduction == "sum"
