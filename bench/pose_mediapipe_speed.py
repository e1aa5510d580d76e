"""CPU and wall time per person of the pose stage with the mediapipe backend (real trained models).

The production PoseStage on the shared photos' ground-truth boxes (crop, MediaPipe, mapping back), Holistic
(body + face + hands) and BlazePose alone; the model load is outside the timing. Target: <= 50 ms CPU per
person. Writes bench/.out/pose_mediapipe.json and prints one line per mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_avg, say, timed_runs, write_json  # noqa: E402

from humanverse.accuracy import ground_truth  # noqa: E402
from humanverse.stages.pose import PoseConfig, PoseStage  # noqa: E402
from humanverse.core.sample import Sample  # noqa: E402

TARGET_MS = 50.0


def samples(images) -> list[Sample]:
    import numpy as np
    from PIL import Image

    out = []
    for i, image in enumerate(images):
        with Image.open(image.path) as im:
            rgb = np.asarray(im.convert("RGB"))
        s = Sample(key=f"{i:09d}", task_id="bench", source={})
        s.image = rgb
        s.persons = [{"box": p.box} for p in image.persons]
        out.append(s)
    return out


def main(runs: int = 3) -> dict:
    images = [im for im in ground_truth.load() if im.persons]
    batch = samples(images)
    persons = sum(len(s.persons) for s in batch)
    result = {"persons": persons, "photos": len(batch), "load_avg_start": load_avg(), "modes": {}}
    for mode, holistic in (("holistic", True), ("body only", False)):
        stage = PoseStage(PoseConfig(backend="mediapipe", bbox_padding=1.0, mediapipe={"holistic": holistic}))
        stage.setup()
        t = timed_runs(lambda: stage.process(batch), runs)
        ms_cpu, ms_wall = 1000 * t["cpu_s"] / persons, 1000 * t["wall_s"] / persons
        result["modes"][mode] = {"ms_cpu_per_person": ms_cpu, "ms_wall_per_person": ms_wall, "runs": runs,
                                 "meets_target": ms_cpu <= TARGET_MS}
        say(f"pose (mediapipe, {mode}): {ms_cpu:.1f} ms CPU, {ms_wall:.1f} ms wall per person "
            f"({persons} persons on {len(batch)} photos, median of {runs}; target <= {TARGET_MS:.0f} ms CPU)")
    result["load_avg_end"] = load_avg()
    write_json("pose_mediapipe", result)
    return result


if __name__ == "__main__":
    main()
