"""CPU timings of the full-size annotators with random weights (the compute is real; the weights are not).

ViTPose-H whole-body per person crop (with and without flip test, crop + decode included), MiDaS DPT-hybrid
and Omnidata DPT-hybrid depth / normals at 384^2 (resize in, model, resize back to a 640x480 image).

    python bench/bench_annotators.py --threads 2 [--repeat 3] [--only pose,midas,omnidata]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    best = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return float(np.median(best))


def bench_pose(repeat: int, image: np.ndarray) -> None:
    from humanverse.models.pose.pose_mmpose import build_mmpose_model
    from humanverse.models.pose.pose_topdown import estimate_poses

    model = build_mmpose_model("vitpose-h")

    @torch.inference_mode()
    def heatmaps(x):
        return model._forward(torch.from_numpy(x)).numpy()

    box = [np.array([[200, 60, 420, 470]], np.float32)]
    for flip in (False, True):
        s = timed(lambda: estimate_poses([image], box, heatmaps, flip_test=flip), repeat)
        print(f"ViTPose-H wholebody 256x192, 1 person crop, flip={flip}: {s:.2f} s")
    boxes = [np.array([[200, 60, 420, 470]] * 4, np.float32)]
    s = timed(lambda: estimate_poses([image], boxes, heatmaps, flip_test=False, batch_size=4), repeat)
    print(f"ViTPose-H wholebody, 4 crops in one batch: {s / 4:.2f} s / crop")


def bench_dense(name: str, model: torch.nn.Module, repeat: int, image: np.ndarray, mean, std, mode, out) -> None:
    from humanverse.models.dense.dense_io import back_to_images, to_square_batch

    @torch.inference_mode()
    def run():
        x, regions = to_square_batch([image], 384, mode, mean, std)
        y = out(model(x))
        back_to_images(y, regions, [image.shape[:2]], 384)

    print(f"{name} 384^2 (+ resize to 640x480): {timed(run, repeat):.2f} s / image")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default="pose,midas,omnidata")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, random weights")
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    only = set(args.only.split(","))
    if "pose" in only:
        bench_pose(args.repeat, image)
    if "midas" in only:
        from transformers import DPTForDepthEstimation

        from humanverse.models.dense.dpt_midas import dpt_config

        m = DPTForDepthEstimation(dpt_config("dpt-hybrid")).eval()
        bench_dense("MiDaS DPT-hybrid (transformers)", m, args.repeat, image, 0.5, 0.5, "stretch",
                    lambda o: o.predicted_depth[:, None])
    if "omnidata" in only:
        from humanverse.models.dense.dpt_hybrid import DPTHybrid

        for task, ch, mean, std in (("depth", 1, 0.5, 0.5), ("normal", 3, 0.0, 1.0)):
            bench_dense(f"Omnidata DPT-hybrid {task}", DPTHybrid("dpt-hybrid", ch).eval(), args.repeat, image,
                        mean, std, "pad", lambda o: o)


if __name__ == "__main__":
    main()
