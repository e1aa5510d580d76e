"""Export a trained run's latest checkpoint as standard diffusers folders plus the few custom parts.

Refiner run:
  controlnet/             diffusers ControlNetModel: the trained trunk (a copy of SDXL's encoder). Its own
                          conditioning embedding is left at diffusers' zero-output init: set the next one.
  condition_embedding/    StructureConditionEmbedding (config, weights, condition_embedding.py): the per-map
                          embedders, summed; `controlnet.controlnet_cond_embedding = ...`
Stage-1 (LSD) run:
  unet/                   ExpertBranchUNet (config, weights, expert_branch_unet.py)
  pipeline_hyperhuman_lsd.py  HyperHumanLSDPipeline (a DiffusionPipeline: the joint denoising loop), named by
                          model_index.json, which also carries the latent stats
  vae/                    AutoencoderKL; scheduler/ DDIMScheduler (zero-SNR, v-prediction, trailing)
  latent_stats.json       per-channel latent mean/std of rgb, depth, normal (denormalise before decoding)
  text_encoder/           the OpenCLIP text tower (open_clip state dict + its config)
Both: README.md (model card: data digest, steps, config, the lines that load it) and export.json.
The folder is written under a temporary name and renamed when complete (shards/atomic.py staged_folder).
"""

from __future__ import annotations

import json
from pathlib import Path

import humanverse
from humanverse.shards.atomic import staged_folder
from humanverse.train.export.model_card import data_digest, write_card
from humanverse.train.common.checkpoints import read_state, trained_checkpoint

REFINER_LOADING = """
from diffusers import ControlNetModel
from diffusers.utils import get_class_from_dynamic_module

controlnet = ControlNetModel.from_pretrained("EXPORT/controlnet")
Embedding = get_class_from_dynamic_module("EXPORT/condition_embedding", "condition_embedding.py",
                                          class_name="StructureConditionEmbedding", trust_remote_code=True)
controlnet.controlnet_cond_embedding = Embedding.from_pretrained("EXPORT/condition_embedding")
# controlnet_cond: the maps at image resolution, channels concatenated in name order (depth 1, normal 3,
# pose 3); depth in [0, 1] min-max per image, normals in [-1, 1], pose skeleton RGB in [0, 1]. Use it with
# SDXL base 1.0 as the frozen UNet (StableDiffusionXLControlNetPipeline, or your own loop).
"""

LSD_LOADING = """
import json
from diffusers import AutoencoderKL, DDIMScheduler
from diffusers.utils import get_class_from_dynamic_module

ExpertBranchUNet = get_class_from_dynamic_module("EXPORT/unet", "expert_branch_unet.py", class_name="ExpertBranchUNet",
                                                 trust_remote_code=True)  # the generated file next to the weights
unet = ExpertBranchUNet.from_pretrained("EXPORT/unet")      # unet(latents: {rgb, depth, normal}, pose_latent, t, text)
vae = AutoencoderKL.from_pretrained("EXPORT/vae")
scheduler = DDIMScheduler.from_pretrained("EXPORT/scheduler")
latent_stats = json.load(open("EXPORT/latent_stats.json"))  # {mean, std}[modality]: denormalise before vae.decode

# or the whole sampler: the joint RGB+depth+normal denoising loop as a DiffusionPipeline
from diffusers import DiffusionPipeline
pipe = DiffusionPipeline.from_pretrained("EXPORT", custom_pipeline="EXPORT", trust_remote_code=True)  # HyperHumanLSDPipeline
# out = pipe(prompt_embeds=..., negative_prompt_embeds=..., pose_image=None, height=512, generator=...)
# -> {"rgb", "depth", "normal"} tensors in [0, 1], [0, 1], [-1, 1]; pose_image=None is training's "no pose".
# prompt_embeds: the open_clip text tower's penultimate-layer states (text_encoder/), or pass
# text_encoder=/tokenizer= callables to from_pretrained and call pipe("a caption", ...).
"""


def export_run(run: str | Path, output: str | Path, use_ema: bool = True) -> dict:
    run, output = Path(run), Path(output)
    checkpoint = trained_checkpoint(run)
    run_dir = checkpoint.parent
    run_record = json.loads((run_dir / "run.json").read_text())
    state = read_state(checkpoint)
    stage = state.get("stage") or run_record.get("stage")
    if output.exists():
        raise FileExistsError(f"{output} exists; export into a new folder")
    with staged_folder(output) as tmp:
        if stage == "refiner":
            ema = _export_refiner(checkpoint, tmp, use_ema)
            loading, title = REFINER_LOADING, "HyperHuman structure-guided refiner (humanverse)"
        elif stage == "lsd":
            ema = _export_lsd(checkpoint, run_dir, tmp, use_ema)
            loading, title = LSD_LOADING, "HyperHuman latent structural diffusion, stage 1 (humanverse)"
        else:
            raise ValueError(f"{checkpoint}: unknown stage {stage!r} (expected lsd or refiner)")
        record = {"title": title, "stage": stage, "run": str(run_dir), "checkpoint": checkpoint.name, "step": state["step"],
                  "ema": ema, "data": data_digest(run_record.get("shards")), "config": run_record["config"],
                  "package_version": humanverse.__version__, "trained_with": run_record.get("package_version")}
        write_card(tmp, record, loading.replace("EXPORT", str(output)))
    return record


def _folder(checkpoint: Path, name: str, use_ema: bool) -> tuple[Path, bool]:
    ema = checkpoint / f"{name}_ema"
    return (ema, True) if use_ema and ema.is_dir() else (checkpoint / name, False)


def _export_refiner(checkpoint: Path, out: Path, use_ema: bool) -> bool:
    from diffusers import ControlNetModel

    from humanverse.train.export import condition_embedding
    from humanverse.train.export.module_source import inline_sources
    from humanverse.train.refiner import embedder as refiner_embedder
    from humanverse.train.refiner.model import EMBEDDING_PREFIX, StructureControlNet

    folder, ema = _folder(checkpoint, "controlnet", use_ema)
    model = StructureControlNet.from_pretrained(folder, local_files_only=True)
    trunk = ControlNetModel.from_config({k: v for k, v in model.config.controlnet_config.items() if not k.startswith("_")})
    weights = {k: v for k, v in model.controlnet.state_dict().items() if not k.startswith(EMBEDDING_PREFIX)}
    missing, unexpected = trunk.load_state_dict(weights, strict=False)
    if unexpected or any(not k.startswith(EMBEDDING_PREFIX) for k in missing):
        raise RuntimeError(f"the trunk does not fit ControlNetModel: missing {missing[:5]}, unexpected {unexpected[:5]}")
    trunk.save_pretrained(out / "controlnet")

    summed = model.condition_embedding
    embedding = condition_embedding.StructureConditionEmbedding(
        conditions=summed.conditions, out_channels=summed.conv_out.out_channels,
        channels=model.config.embedder_channels, kernel_size=model.config.embedder_kernel_size,
        strides=model.config.embedder_strides)
    embedding.embedding.load_state_dict(summed.state_dict())
    embedding.save_pretrained(out / "condition_embedding")
    (out / "condition_embedding" / "condition_embedding.py").write_text(inline_sources(
        [refiner_embedder, condition_embedding], "The refiner's condition embedders (generated by humanverse export)."))
    return ema


def _model_index(latent_stats: dict) -> dict:
    """What DiffusionPipeline.from_pretrained reads: the pipeline class (in pipeline_hyperhuman_lsd.py), the
    custom UNet class (unet/expert_branch_unet.py), the standard VAE and scheduler, the latent stats."""
    import diffusers

    return {"_class_name": ["pipeline_hyperhuman_lsd", "HyperHumanLSDPipeline"],
            "_diffusers_version": diffusers.__version__, "unet": ["expert_branch_unet", "ExpertBranchUNet"],
            "vae": ["diffusers", "AutoencoderKL"], "scheduler": ["diffusers", "DDIMScheduler"],
            "latent_stats": latent_stats}


def _export_lsd(checkpoint: Path, run_dir: Path, out: Path, use_ema: bool) -> bool:
    from safetensors.torch import save_file

    from humanverse.train.export.module_source import inline_sources
    from humanverse.train.export import lsd_pipeline
    from humanverse.train.lsd import joint_denoise
    from humanverse.train.lsd import model as lsd_model
    from humanverse.train.common import checkpoint_guard
    from humanverse.train.lsd.config import LSDConfig
    from humanverse.train.lsd.components import load_frozen
    from humanverse.train.common.noise_schedule import sampling_scheduler

    folder, ema = _folder(checkpoint, "unet", use_ema)
    unet = lsd_model.ExpertBranchUNet.from_pretrained(folder, local_files_only=True)
    unet.save_pretrained(out / "unet")
    (out / "unet" / "expert_branch_unet.py").write_text(inline_sources(
        [checkpoint_guard, lsd_model], "HyperHuman's expert-branch UNet (generated by humanverse export)."))
    (out / "pipeline_hyperhuman_lsd.py").write_text(inline_sources(
        [joint_denoise, lsd_pipeline], "HyperHuman stage-1 pipeline: the joint denoising loop (generated by humanverse export)."))
    (out / "model_index.json").write_text(json.dumps(_model_index(read_state(checkpoint)["latent_stats"]), indent=2))
    cfg = LSDConfig.model_validate(json.loads((run_dir / "run.json").read_text())["config"])
    frozen = load_frozen(cfg, run_dir, create=False)
    frozen.vae.save_pretrained(out / "vae")
    sampling_scheduler().save_pretrained(out / "scheduler")
    (out / "latent_stats.json").write_text(json.dumps(read_state(checkpoint)["latent_stats"], indent=2))
    (out / "text_encoder").mkdir()
    save_file({k: v.contiguous() for k, v in frozen.text_encoder.state_dict().items()},
              str(out / "text_encoder" / "open_clip_text.safetensors"))
    (out / "text_encoder" / "config.json").write_text(json.dumps(cfg.text_encoder.model_dump(mode="json"), indent=2))
    return ema
