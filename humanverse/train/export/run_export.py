"""Export a trained run's latest checkpoint as standard diffusers folders plus the few custom parts.

Refiner or hand-body run (a StructureControlNet):
  controlnet/             diffusers ControlNetModel: the trained trunk (a copy of SDXL's encoder). Its own
                          conditioning embedding is left at diffusers' zero-output init: set the next one.
  condition_embedding/    StructureConditionEmbedding (config, weights, condition_embedding.py): the per-map
                          embedders, summed; `controlnet.controlnet_cond_embedding = ...`
Stage-1 (LSD) or hand run (an ExpertBranchUNet; the hand model's branches are rgb and mask):
  unet/                   ExpertBranchUNet (config, weights, expert_branch_unet.py)
  pipeline_hyperhuman_lsd.py  HyperHumanLSDPipeline (a DiffusionPipeline: the joint denoising loop), named by
                          model_index.json, which also carries the latent stats
  vae/                    AutoencoderKL; scheduler/ DDIMScheduler (zero-SNR, v-prediction, trailing)
  latent_stats.json       per-channel latent mean/std of rgb, depth, normal (denormalise before decoding)
  text_encoder/           the OpenCLIP text tower (open_clip state dict + its config)
All: README.md (model card: data digest, steps, config, the lines that load it, how to check the code files
before trusting them) and export.json (with the sha256 of every .py file). Local paths are kept as names only.
The folder is written under a temporary name and renamed when complete (shards/atomic.py staged_folder).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path

import humanverse
from humanverse.shards.atomic import staged_folder
from humanverse.train.export.model_card import data_digest, shareable, write_card
from humanverse.train.common.checkpoints import read_run_record, read_state, trained_checkpoint

REFINER_LOADING = """
from diffusers import ControlNetModel
from diffusers.utils import get_class_from_dynamic_module

TRUST
controlnet = ControlNetModel.from_pretrained("EXPORT/controlnet")
Embedding = get_class_from_dynamic_module("EXPORT/condition_embedding", "condition_embedding.py",
                                          class_name="StructureConditionEmbedding", trust_remote_code=True)
controlnet.controlnet_cond_embedding = Embedding.from_pretrained("EXPORT/condition_embedding")
# controlnet_cond: the maps at image resolution, channels concatenated in name order (CONDITIONS);
# BASE
"""

REFINER_BASE = ("depth in [0, 1] min-max per image, normals in [-1, 1], pose skeleton RGB in [0, 1]. Use it with\n"
                "# SDXL base 1.0 as the frozen UNet (StableDiffusionXLControlNetPipeline, or your own loop).")
HAND_BODY_BASE = ("the full-body skeleton RGB in [0, 1]. It was trained beside SD-2-inpainting's 9-channel UNet\n"
                  "# (noisy latents, mask, masked-image latents: its conv_in takes all 9); fill everything outside the hands.")

LSD_LOADING = """
import json

import open_clip
import torch
from diffusers import AutoencoderKL, DDIMScheduler, DiffusionPipeline
from diffusers.utils import get_class_from_dynamic_module
from safetensors.torch import load_file

TRUST
ExpertBranchUNet = get_class_from_dynamic_module("EXPORT/unet", "expert_branch_unet.py", class_name="ExpertBranchUNet",
                                                 trust_remote_code=True)
unet = ExpertBranchUNet.from_pretrained("EXPORT/unet")  # unet(latents: {BRANCHES}, pose_latent, t, text)
vae = AutoencoderKL.from_pretrained("EXPORT/vae")
scheduler = DDIMScheduler.from_pretrained("EXPORT/scheduler")
latent_stats = json.load(open("EXPORT/latent_stats.json"))  # {mean, std}[modality]: denormalise before vae.decode

# Prompt embeddings with open_clip alone: the export's OpenCLIP text tower, per-token states at SD-2's layer
text = json.load(open("EXPORT/text_encoder/config.json"))
clip = open_clip.create_model(text["open_clip_model"], pretrained=None, **(text["model_overrides"] or {}))
assert not clip.load_state_dict(load_file("EXPORT/text_encoder/open_clip_text.safetensors"), strict=False).unexpected_keys
tokens = open_clip.get_tokenizer(text["open_clip_model"], context_length=clip.context_length)(["PROMPT", ""])
with torch.no_grad():
    x = clip.token_embedding(tokens) + clip.positional_embedding
    blocks = clip.transformer.resblocks
    for block in blocks[: len(blocks) - (text["layer"] == "penultimate")]:
        x = block(x, attn_mask=clip.attn_mask)
    emb, neg = clip.ln_final(x).chunk(2)  # (1, 77, width) each: the caption's and the empty prompt's

# The whole sampler: the joint denoising loop as a DiffusionPipeline, with a progress bar over the steps
pipe = DiffusionPipeline.from_pretrained("EXPORT", custom_pipeline="EXPORT", trust_remote_code=True)
side = json.load(open("EXPORT/export.json"))["config"]["data"]["resolution"]  # the trained side in pixels
out = pipe(prompt_embeds=emb, negative_prompt_embeds=neg, pose_image=None, height=side, num_inference_steps=50,
           guidance_scale=7.5, guidance_rescale=0.7, generator=torch.Generator().manual_seed(0))
OUTPUTS
"""

LSD_OUTPUTS = ('out["rgb"], out["depth"], out["normal"]  # (1,3,H,W) in [0,1], (1,1,H,W) in [0,1], (1,3,H,W) unit '
               'normals\n# pose_image: (B,3,H,W) skeleton in [0,1]; None is training\'s "no pose" (a zero pose latent)')
HAND_OUTPUTS = ('out["rgb"], out["mask"]  # (1,3,H,W) hand image in [0,1], (1,1,H,W) hand mask in [0,1]\n'
                '# pose_image: (B,3,H,W) 21-point hand skeleton in [0,1]; None is training\'s "no skeleton"')

TRUST_NOTE = ("# trust_remote_code=True runs this folder's .py files with your permissions ({files}):\n"
              "# read them and check their sha256 against export.json first (model card: Before loading).")

EXPORTS = {
    # stage: the model card's title
    "lsd": "HyperHuman latent structural diffusion, stage 1 (humanverse)",
    "hand": "Giving a Hand, stage 1: hand image + mask generator (humanverse)",
    "refiner": "HyperHuman structure-guided refiner (humanverse)",
    "hand-body": "Giving a Hand, stage 2: body outpainting ControlNet on SD-2-inpainting (humanverse)",
}


def loading_lines(stage: str, folder: str, detail: str, code: list[str]) -> str:
    """The card's loading lines for an export in `folder` (relative: run from its parent). detail: the
    ControlNet's conditions ("depth 1, normal 3, pose 3") or the UNet's branches ("rgb, depth, normal")."""
    if stage in ("refiner", "hand-body"):
        text = REFINER_LOADING.replace("CONDITIONS", detail).replace(
            "BASE", REFINER_BASE if stage == "refiner" else HAND_BODY_BASE)
    else:
        text = (LSD_LOADING.replace("BRANCHES", detail)
                .replace("OUTPUTS", LSD_OUTPUTS if stage == "lsd" else HAND_OUTPUTS)
                .replace("PROMPT", "a dancer on a stage" if stage == "lsd" else "a raised open hand"))
    return text.replace("TRUST", TRUST_NOTE.format(files=", ".join(code))).replace("EXPORT", folder)


def export_run(run: str | Path, output: str | Path, use_ema: bool = True) -> dict:
    run, output = Path(run), Path(output)
    checkpoint = trained_checkpoint(run)
    run_dir = checkpoint.parent
    run_record = read_run_record(run_dir)
    state = read_state(checkpoint)
    stage = state.get("stage") or run_record.get("stage")
    if stage not in EXPORTS:
        raise ValueError(f"{checkpoint}: unknown stage {stage!r} (expected one of {', '.join(EXPORTS)})")
    if output.exists():
        raise FileExistsError(f"{output} exists; export into a new folder")
    with staged_folder(output) as tmp:
        if stage in ("refiner", "hand-body"):
            ema, detail = _export_refiner(checkpoint, tmp, use_ema)
            code = ["condition_embedding/condition_embedding.py"]
        else:
            ema, detail = _export_lsd(checkpoint, run_dir, tmp, use_ema, stage)
            code = ["unet/expert_branch_unet.py", "pipeline_hyperhuman_lsd.py"]
        for config_file in tmp.rglob("*.json"):  # diffusers records where it loaded from (`_name_or_path`)
            config_file.write_text(json.dumps(shareable(json.loads(config_file.read_text())), indent=2, sort_keys=True))
        record = {"title": EXPORTS[stage], "stage": stage, "run": run_dir.name, "checkpoint": checkpoint.name,
                  "step": state["step"], "ema": ema, "data": shareable(data_digest(run_record.get("shards"))),
                  "config": shareable(run_record["config"]), "package_version": humanverse.__version__,
                  "trained_with": run_record.get("package_version"),
                  "files": {name: hashlib.sha256((tmp / name).read_bytes()).hexdigest() for name in code}}
        write_card(tmp, record, loading_lines(stage, output.name, detail, code))  # run from the export's parent folder
    return record


def _folder(checkpoint: Path, name: str, use_ema: bool) -> tuple[Path, bool]:
    ema = checkpoint / f"{name}_ema"
    return (ema, True) if use_ema and ema.is_dir() else (checkpoint / name, False)


def _export_refiner(checkpoint: Path, out: Path, use_ema: bool) -> tuple[bool, str]:
    """A StructureControlNet run: the refiner (SDXL) or the hand-body ControlNet (SD-2-inpainting)."""
    from diffusers import ControlNetModel

    from humanverse.train.export import condition_embedding
    from humanverse.train.export.module_source import inline_sources
    from humanverse.train.refiner import embedder as refiner_embedder
    from humanverse.train.refiner.model import EMBEDDING_PREFIX, StructureControlNet

    folder, ema = _folder(checkpoint, "controlnet", use_ema)
    with _quiet_diffusers():  # an EMA folder's config also holds EMAModel's counters, which the class ignores
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
    return ema, ", ".join(f"{name} {channels}" for name, channels in sorted(summed.conditions.items()))


def _model_index(latent_stats: dict) -> dict:
    """What DiffusionPipeline.from_pretrained reads: the pipeline class (in pipeline_hyperhuman_lsd.py), the
    custom UNet class (unet/expert_branch_unet.py), the standard VAE and scheduler, the latent stats."""
    import diffusers

    return {"_class_name": ["pipeline_hyperhuman_lsd", "HyperHumanLSDPipeline"],
            "_diffusers_version": diffusers.__version__, "unet": ["expert_branch_unet", "ExpertBranchUNet"],
            "vae": ["diffusers", "AutoencoderKL"], "scheduler": ["diffusers", "DDIMScheduler"],
            "latent_stats": latent_stats}


def _export_lsd(checkpoint: Path, run_dir: Path, out: Path, use_ema: bool, stage: str) -> tuple[bool, list[str]]:
    """Stage 1 of either method: HyperHuman's LSD (rgb, depth, normal) or the hand generator (rgb, mask)."""
    from safetensors.torch import save_file

    from humanverse.train.export.module_source import inline_sources
    from humanverse.train.export import lsd_pipeline
    from humanverse.train.lsd import joint_denoise
    from humanverse.train.lsd import model as lsd_model
    from humanverse.train.common import checkpoint_guard
    from humanverse.train.hand.config import HandConfig
    from humanverse.train.lsd.config import LSDConfig
    from humanverse.train.lsd.components import load_frozen
    from humanverse.train.common.checkpoints import EMA_STATE_KEYS
    from humanverse.train.common.noise_schedule import sampling_scheduler

    folder, ema = _folder(checkpoint, "unet", use_ema)
    with _quiet_diffusers():  # an EMA folder's config also holds EMAModel's counters, which the class ignores
        unet = lsd_model.ExpertBranchUNet.from_pretrained(folder, local_files_only=True)
    unet.save_pretrained(out / "unet")
    config_file = out / "unet" / "config.json"  # EMA counters are no UNet setting: keep them out of the export
    config_file.write_text(json.dumps({k: v for k, v in json.loads(config_file.read_text()).items()
                                       if k not in EMA_STATE_KEYS}, indent=2, sort_keys=True))
    (out / "unet" / "expert_branch_unet.py").write_text(inline_sources(
        [checkpoint_guard, lsd_model], "HyperHuman's expert-branch UNet (generated by humanverse export)."))
    (out / "pipeline_hyperhuman_lsd.py").write_text(inline_sources(
        [joint_denoise, lsd_pipeline], "HyperHuman stage-1 pipeline: the joint denoising loop (generated by humanverse export)."))
    (out / "model_index.json").write_text(json.dumps(_model_index(read_state(checkpoint)["latent_stats"]), indent=2))
    config_cls = HandConfig if stage == "hand" else LSDConfig
    cfg = config_cls.model_validate(read_run_record(run_dir)["config"])
    frozen = load_frozen(cfg, run_dir, create=False)
    frozen.vae.save_pretrained(out / "vae")
    sampling_scheduler().save_pretrained(out / "scheduler")
    (out / "latent_stats.json").write_text(json.dumps(read_state(checkpoint)["latent_stats"], indent=2))
    (out / "text_encoder").mkdir()
    save_file({k: v.contiguous() for k, v in frozen.text_encoder.state_dict().items()},
              str(out / "text_encoder" / "open_clip_text.safetensors"))
    (out / "text_encoder" / "config.json").write_text(
        json.dumps(shareable(cfg.text_encoder.model_dump(mode="json")), indent=2))
    return ema, ", ".join(unet.branches)


@contextmanager
def _quiet_diffusers():
    from diffusers.utils import logging as diffusers_logging

    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(level)
