import torch

from humanverse.train.common.noise_schedule import noise_all_at_one_timestep, sampling_scheduler, training_scheduler


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
