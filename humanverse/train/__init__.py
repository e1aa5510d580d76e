"""Training the two-stage model on curated shards.

Shared by both stages (stage 2 reuses these, it does not copy them):
  config.py           typed sections (data, optim, loop, EMA), presets, `--set a.b=c` overrides
  shard_data.py       resampled WebDataset stream split by node/worker; 16-bit depth; skips counted
  joint_crop.py       one random-resized crop for image, maps and keypoints
  pose_render.py      COCO-WholeBody skeleton drawing (mmpose palette) for the pose condition
  accelerate_setup.py Accelerator, run.json, optimizer, LR schedule, EMA
  loop.py             accumulate / clip / step / EMA / log / checkpoint until max_steps
  checkpoints.py      atomic checkpoint-{step} folders, latest/resume, total limit, save_pretrained hooks
  noise_schedule.py   zero-terminal-SNR v-prediction schedule, one timestep for all targets
  text_encoder.py     OpenCLIP text encoder (SD-2's penultimate layer) from a local file
Stage 1 (Latent Structural Diffusion):
  lsd_model.py, lsd_config.py, lsd_components.py, latent_stats.py, lsd_train.py, lsd_sample.py, lsd_cli.py
"""
