"""Training the two-stage model on curated shards: common/ is shared, each method has its own folder with
one train.py to read top to bottom (like a diffusers training example).

common/      config.py (sections every trainer shares, the preset loader), cli.py (one builder for
             `humanverse train <method>`), accelerate_setup.py, loop.py, checkpoints.py, shard_data.py,
             joint_crop.py, pose_render.py, noise_schedule.py, text_encoder.py
lsd/         stage 1, Latent Structural Diffusion: config, model (expert-branch UNet), components (frozen
             VAE + text encoder), latent_stats, train.py, sample.py
refiner/     stage 2, Structure-Guided Refiner: config, embedder, model (StructureControlNet), components
             (frozen SDXL base), dropout, sdxl_random_base (tiny preset), train.py, sample.py
sampling/    two-stage sampling (`humanverse sample`): condition_inputs, two_stage, cli
A new method adds its folder and one row to common/cli.py's METHODS.
"""
