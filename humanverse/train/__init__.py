"""Training the two-stage model on curated shards.

Shared by both stages (stage 2 reuses these, it does not copy them):
  config.py           typed sections (data, optim, loop, EMA), presets, `--set a.b=c` overrides
  shard_data.py       resampled WebDataset stream split by node/worker; 16-bit depth; skips counted
  joint_crop.py       one random-resized crop for image, maps and keypoints
  pose_render.py      COCO-WholeBody skeleton drawing (mmpose palette) for the pose condition
  accelerate_setup.py Accelerator, run.json, optimizer, LR schedule, EMA
  loop.py             accumulate / clip / step / EMA / log / checkpoint until max_steps
  checkpoints.py      atomic checkpoint-{step} folders, latest/resume, total limit, save_pretrained hooks
  noise_schedule.py   stage 1's zero-SNR v-prediction and stage 2's SDXL epsilon schedules; one timestep for all targets
  text_encoder.py     OpenCLIP text encoder (SD-2's penultimate layer) from a local file
  train_args.py       the command-line flags every trainer takes (--data --output --preset/--config --set --resume)
Stage 1 (Latent Structural Diffusion):
  lsd_model.py, lsd_config.py, lsd_components.py, latent_stats.py, lsd_train.py, lsd_sample.py, lsd_cli.py
Stage 2 (Structure-Guided Refiner):
  refiner_config.py     model source (SDXL folder or random SDXL-shaped base), embedders, dropout rates
  refiner_embedder.py   one 4-conv embedder per condition map, summed, zero-initialised projection
  refiner_model.py      StructureControlNet: diffusers ControlNetModel (copy of SDXL's encoder) + our embedders
  refiner_components.py frozen SDXL base loading, prompt encoding, size/crop micro-conditioning
  sdxl_random_base.py   a random SDXL-shaped base written in SDXL's folder layout (tiny preset, tests)
  refiner_dropout.py    text -> "" and map -> zeros, independently, at the configured rates
  refiner_train.py, refiner_sample.py, refiner_cli.py
Two-stage sampling:
  condition_inputs.py   user-supplied keypoints JSON / depth / normal files as training-style maps
  two_stage_sample.py   stage 1 -> refiner, any condition from a file instead; sample_cli.py (`humanverse sample`)
"""
