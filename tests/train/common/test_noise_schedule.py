import pytest
import torch
from pydantic import ValidationError

from humanverse.train.common.config import TimestepSamplingConfig
from humanverse.train.common.noise_schedule import (
    draw_timesteps,
    noise_all_at_one_timestep,
    sampling_scheduler,
    training_scheduler,
)


def test_zero_terminal_snr_schedule():
    scheduler = training_scheduler()
    alpha_bar = scheduler.alphas_cumprod
    assert scheduler.config.prediction_type == "v_prediction"
    assert alpha_bar[-1].item() == 0.0  # pure noise at the last training step
    assert alpha_bar[0].item() > 0.99
    assert torch.all(alpha_bar[1:] < alpha_bar[:-1])
    sampler = sampling_scheduler()
    sampler.set_timesteps(10)
    assert sampler.timesteps[0].item() == 999  # trailing spacing starts sampling at the SNR-0 step


def test_all_modalities_share_one_timestep_with_independent_noise():
    scheduler = training_scheduler()
    alpha_bar = scheduler.alphas_cumprod
    clean = {name: torch.randn(6, 4, 8, 8) for name in ("rgb", "depth", "normal")}
    noised = noise_all_at_one_timestep(scheduler, clean, torch.Generator().manual_seed(0))
    assert noised.timesteps.shape == (6,)
    a = alpha_bar[noised.timesteps].view(-1, 1, 1, 1).sqrt()
    s = (1 - alpha_bar[noised.timesteps]).view(-1, 1, 1, 1).sqrt()
    noises = {}
    for name, x in clean.items():
        # Recover the noise assuming the shared timestep: the v target must agree with it exactly.
        eps = (noised.noisy[name] - a * x) / s
        torch.testing.assert_close(noised.velocity[name], a * eps - s * x, atol=1e-4, rtol=1e-4)
        noises[name] = eps
    assert not torch.allclose(noises["rgb"], noises["depth"])  # independent noise per modality


def test_v_target_at_terminal_step_is_minus_the_clean_latent():
    scheduler = training_scheduler()
    x, eps = torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4)
    t = torch.tensor([999])
    torch.testing.assert_close(scheduler.get_velocity(x, eps, t), -x)
    torch.testing.assert_close(scheduler.add_noise(x, eps, t), eps)


def test_default_timesteps_are_the_uniform_draws_they_always_were():
    """No sampling config, or the default one, consumes the generator exactly as before the option existed:
    one randint for the timesteps, then the noises, so existing runs replay draw for draw."""
    scheduler = training_scheduler()
    clean = {name: torch.randn(5, 4, 8, 8) for name in ("rgb", "depth")}
    reference = torch.Generator().manual_seed(3)
    timesteps = torch.randint(0, 1000, (5,), generator=reference)
    noises = {name: torch.randn(x.shape, generator=reference) for name, x in clean.items()}
    for sampling in (None, TimestepSamplingConfig()):
        noised = noise_all_at_one_timestep(scheduler, clean, torch.Generator().manual_seed(3), sampling)
        assert torch.equal(noised.timesteps, timesteps)
        for name in clean:
            assert torch.equal(noised.noise[name], noises[name])


def test_logit_normal_shifts_the_draws_toward_high_noise_reproducibly():
    uniform = draw_timesteps(1000, 20_000, None, torch.Generator().manual_seed(0))
    high = TimestepSamplingConfig(scheme="logit_normal", logit_mean=1.0)
    biased = draw_timesteps(1000, 20_000, high, torch.Generator().manual_seed(0))
    assert biased.dtype == torch.int64 and 0 <= biased.min() and biased.max() <= 999
    assert abs((uniform >= 500).float().mean().item() - 0.5) < 0.02
    assert abs((biased >= 500).float().mean().item() - 0.841) < 0.02  # P(N(1, 1) > 0)
    assert biased.float().mean() > uniform.float().mean() + 150
    centred = draw_timesteps(1000, 20_000, TimestepSamplingConfig(scheme="logit_normal"), torch.Generator().manual_seed(0))
    assert abs((centred >= 500).float().mean().item() - 0.5) < 0.02  # mean 0: symmetric, but not uniform:
    assert (centred < 100).float().mean() < 0.05  # the ends are rare (uniform: 10%)
    assert torch.equal(biased, draw_timesteps(1000, 20_000, high, torch.Generator().manual_seed(0)))


def test_timestep_sampling_config_rejects_what_does_not_apply_and_round_trips():
    with pytest.raises(ValidationError, match="only apply to scheme: logit_normal"):
        TimestepSamplingConfig(logit_mean=1.0)
    assert TimestepSamplingConfig(scheme="logit_normal").logit_std == 1.0
    for config in (TimestepSamplingConfig(), TimestepSamplingConfig(scheme="logit_normal", logit_mean=1.0)):
        # a run's record stores the whole config; loading it back (sample, resume) must validate
        assert TimestepSamplingConfig.model_validate(config.model_dump()) == config
    with pytest.raises(ValidationError):
        TimestepSamplingConfig(scheme="later")
    with pytest.raises(ValidationError):
        TimestepSamplingConfig(scheme="logit_normal", logit_std=0)
    with pytest.raises(ValidationError):
        TimestepSamplingConfig(scheme="logit_normal", multiplier=2)
