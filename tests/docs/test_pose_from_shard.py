"""The README's way to a `sample --pose` file: its `tar` lines, run as written from a folder whose `out/` is a
run, give a json the sampler's own reader accepts (the sample's 133 keypoints, width, height)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from humanverse.train.sampling.condition_inputs import load_keypoints

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_documented_tar_lines_make_a_pose_file(every_member_run, tmp_path):
    block = next(b for b in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S) if "tar -xOf" in b)
    lines = [line.strip() for line in block.splitlines() if line.strip().startswith("tar ")]
    assert len(lines) == 2
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "shards").symlink_to(Path(every_member_run) / "shards")
    listed = subprocess.run(["bash", "-c", lines[0]], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "00000000000001.json" in listed.stdout.split()
    subprocess.run(["bash", "-c", lines[1]], cwd=tmp_path, check=True)
    pose = load_keypoints(tmp_path / "person.json")
    assert len(pose.persons) == 1 and pose.persons[0].shape == (133, 3) and (pose.width, pose.height) == (32, 24)
