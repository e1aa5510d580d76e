"""The perceptual-hash stage: pHash of each surviving image and of its mirror, for `humanverse dedup`.

It sits after the person rule so that only photos the run keeps pay for it: at ~4.5 ms an image it costs
more than decoding a web-sized JPEG, and most rows of a LAION-scale run are rejected before this point.
The pixels are the sample's own (those of `{key}.jpg`), so a dedup pass over an older run recomputes the
same values from the tars. The cheap pixel digest stays in the decode stage, on the source pixels.
"""

from __future__ import annotations

from humanverse.core.sample import Sample
from humanverse.core.stage import Stage
from humanverse.dedup.fingerprint import perceptual_hashes


class PerceptualHashStage(Stage):
    name = "phash"

    def process(self, batch: list[Sample]) -> None:
        for sample in self.alive(batch):
            sample.scores.update(perceptual_hashes(sample.image))
