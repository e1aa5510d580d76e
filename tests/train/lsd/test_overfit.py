"""On a handful of fixed samples (fixed noise and timesteps) the stage-1 objective must fall clearly, for
every modality: a model that is not learning, or a branch that receives no gradient, fails this."""

import torch

from humanverse.train.lsd.latent_stats import StatsAccumulator
from humanverse.train.lsd.components import build_unet, load_frozen
from humanverse.train.lsd.train import LSDObjective, encode_batch
from humanverse.train.common.shard_data import make_dataloader
from tests.train.conftest import tiny_config


def test_loss_falls_on_a_fixed_batch(shards, tmp_path):
    torch.manual_seed(0)
    cfg = tiny_config("objective.text_dropout=0", "objective.pose_dropout=0", "data.batch_size=4",
                      "data.crop_scale=[1, 1]")
    frozen = load_frozen(cfg, tmp_path, create=True)
    batch = next(iter(make_dataloader(shards, cfg.data, seed=0)))
    acc = StatsAccumulator()
    for name, z in encode_batch(frozen, batch)[0].items():
        acc.add(name, z)
    model = build_unet(cfg)
    objective = LSDObjective(model, frozen, acc.finish(), cfg, torch.device("cpu"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0)

    def losses():
        total, parts = objective.loss(batch, generator=torch.Generator().manual_seed(1234))
        return total, parts

    with torch.no_grad():
        _, initial = losses()
    for _ in range(30):
        loss, _ = losses()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        _, final = losses()
    for name in ("rgb", "depth", "normal"):
        key = f"loss_{name}"
        assert final[key] < 0.3 * initial[key], (name, initial[key], final[key])
