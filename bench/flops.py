"""FLOPs per image of every model at the preset's resolutions, counted by torch's FlopCounterMode.

The models are the real architectures, built on the `meta` device (no memory, no compute) where their
builders allow it and run once on the CPU otherwise (YOLO, CLIP, ViTPose), and the count
is of one forward at the stated input. FlopCounterMode counts 2 FLOPs per multiply-add of the matmuls,
convolutions and attention, which is the compute that matters on a GPU; element-wise ops are left out.
Feeds bench/GPU.md.

    python bench/flops.py
"""

from __future__ import annotations

import common


def count(model, *inputs, **kwargs) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs, **kwargs)
    return counter.get_total_flops()


def main() -> None:
    common.quiet_libraries()
    import torch

    meta = torch.device("meta")
    out = {}

    from humanverse.models.detect.yolo_person import offline_ultralytics

    offline_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    yolo = DetectionModel("yolo11x.yaml", verbose=False).eval()  # its head calls .item(): counted on CPU
    out["YOLO11x 640x640"] = count(yolo, torch.zeros(1, 3, 640, 640))

    import open_clip

    clip = open_clip.create_model("ViT-L-14-quickgelu", pretrained=None).visual.eval()  # open_clip calls .to()
    out["CLIP ViT-L/14 224x224"] = count(clip, torch.zeros(1, 3, 224, 224))

    from humanverse.models.pose.pose_mmpose import build_mmpose_model

    pose = build_mmpose_model("vitpose-h").eval()  # mmengine builds on the CPU
    out["ViTPose-H 256x192 (one crop, one forward)"] = count(pose._forward, torch.zeros(1, 3, 256, 192))

    from transformers import DPTForDepthEstimation

    from humanverse.models.dense.dpt_hybrid import DPTHybrid
    from humanverse.models.dense.dpt_midas import dpt_config

    with meta:
        midas = DPTForDepthEstimation(dpt_config("dpt-hybrid")).eval()
        out["MiDaS DPT-hybrid 384x384"] = count(midas, pixel_values=torch.empty(1, 3, 384, 384))
        omni = DPTHybrid("dpt-hybrid", 1).eval()
        out["Omnidata DPT-hybrid 384x384 (depth or normal)"] = count(omni, torch.empty(1, 3, 384, 384))

    from bench_outpaint import build_full_size_pipeline

    with meta:
        pipe = build_full_size_pipeline()
        unet, vae, text = pipe.unet.eval(), pipe.vae.eval(), pipe.text_encoder.eval()
        out["SD-2-inpainting UNet, one call, 64x64 latent"] = count(
            unet, torch.empty(1, 9, 64, 64), torch.tensor([500]), encoder_hidden_states=torch.empty(1, 77, 1024))
        out["SD VAE encode 512x512"] = count(vae.encode, torch.empty(1, 3, 512, 512))
        out["SD VAE decode 64x64 latent"] = count(vae.decode, torch.empty(1, 4, 64, 64))
        out["OpenCLIP ViT-H text tower (23 layers), 77 tokens"] = count(text, torch.zeros(1, 77, dtype=torch.long))
    for k, v in out.items():
        print(f"{k}: {v / 1e9:.1f} GFLOPs")
    common.write_json("flops", {k: v for k, v in out.items()})


if __name__ == "__main__":
    main()
