"""Check, on this machine, that a GPU machine with only `--have`'s distributions plus the carried wheels can run
gpu_run.py: every stage, models built from scratch, with tiny architectures on the CPU.

It links this venv's files of exactly those distributions into a temporary site folder and runs
`python -S bench/gpu_run.py --device cpu --tiny` with only that folder and the repo importable (-S drops the
venv's site-packages). Versions are this venv's, not the target's: this checks the list, not version skew.

    python bench/gpu_import_check.py --have device-packages.txt [--wheels bench/.out/wheelhouse] [--also a,b]

--have: the target image's distributions, separated by commas or newlines (for the device machines of this
workplace, the package list of their KINDS.md). --also: distributions this venv needs where the target's own
versions would not (e.g. httpx2,httpcore2,truststore: this venv's huggingface_hub 2.x imports them, 1.x does not).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from importlib.metadata import distributions
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_names(folder: Path) -> set[str]:
    return {norm(p.name.split("-")[0]) for p in folder.glob("*.whl")}


def link_site(allowed: set[str], site: Path) -> int:
    """Symlink the top-level files of every allowed installed distribution into site; returns how many."""
    count = 0
    for dist in distributions():
        if norm(dist.metadata["Name"] or "") not in allowed:
            continue
        base = Path(dist.locate_file(""))
        for top in {str(f).split("/")[0] for f in dist.files or [] if not str(f).startswith("..")}:
            src, dst = base / top, site / top
            if top == "__pycache__" or top.endswith(".pth") or not src.exists() or dst.exists():
                continue
            dst.symlink_to(src)
            count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--have", type=Path, required=True)
    parser.add_argument("--wheels", type=Path, default=BENCH / ".out" / "wheelhouse")
    parser.add_argument("--also", default="")
    args, rest = parser.parse_known_args()
    have = {norm(x.strip()) for x in re.split(r"[,\n]", args.have.read_text()) if x.strip()}
    wheels = wheel_names(args.wheels)
    if not wheels:
        parser.error(f"no wheels in {args.wheels}: run bench/gpu_wheels.sh first")
    allowed = have | wheels | {norm(x.strip()) for x in args.also.split(",") if x.strip()}
    if "opencv-python-headless" in allowed:
        allowed.add("opencv-python")  # the same cv2
    with tempfile.TemporaryDirectory(prefix="gpu-import-check-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        print(f"{link_site(allowed, site)} entries linked for {len(have)} image distributions + {len(wheels)} wheels")
        env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{BENCH.parent}")
        cmd = [sys.executable, "-S", str(BENCH / "gpu_run.py"), "--device", "cpu", "--tiny",
               "--models-dir", str(Path(tmp) / "models"), "--out", str(Path(tmp) / "GPU_RESULTS.md"), *rest]
        rc = subprocess.call(cmd, env=env)
    print("every stage ran with only those distributions" if rc == 0 else f"gpu_run.py exited {rc}: see above")
    return rc


if __name__ == "__main__":
    sys.exit(main())
