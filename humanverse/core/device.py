"""Where a model runs and with how many threads: explicit, because ultralytics pins torch to one thread."""

from __future__ import annotations

import os


def pick_device(want_gpu: bool) -> str:
    import torch

    return "cuda" if want_gpu and torch.cuda.is_available() else "cpu"


def cpu_threads(resources) -> int:
    """A stage's torch threads, from its config alone: `threads`, else its num_cpus (at least 1), which is
    what Ray gives an actor (OMP_NUM_THREADS). Never the machine's core count: CPU kernels sum in an order
    that depends on the thread count (a depth map's bytes differ between 1 and 2 threads, measured), so
    the same config must mean the same threads on either engine and any machine size."""
    return resources.threads or max(1, int(resources.num_cpus))


def keep_cpu_threads(n: int) -> None:
    """Set torch's threads to n before a stage runs, if it is another count: the local engine runs every
    stage in one process, and each stage's setup set the process-wide count to its own."""
    import sys

    torch = sys.modules.get("torch")
    if n and torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def set_cpu_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads to n (default: the CPUs Ray gave this worker, else all cores)."""
    import torch

    if not n:
        n = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or (os.cpu_count() or 1)
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


def autocast_dtype(device: str):
    """fp16/bf16 on GPU, fp32 on CPU (CPU half precision is slow and lossy)."""
    import torch

    if device != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
