"""The perceptual-hash stage: pHash of each surviving image and of its mirror, for `humanverse dedup`, and
the pixel digest where the decode stage left it to this stage.

It sits after the person rule so that only photos the run keeps pay for it: at ~4.5 ms an image it costs
more than decoding a web-sized JPEG, and most rows of a LAION-scale run are rejected before this point.
The pixels are the sample's own (those of `{key}.jpg`), so a dedup pass over an older run recomputes the
same values from the tars. The pixel digest is of the source's pixels: the decode stage takes it where
`{key}.jpg` is a re-encode; where it is the original JPEG, its pixels are the source's, and this stage hashes
the pixels it decodes anyway instead of the fetch path decoding every row in full for it.
"""

from __future__ import annotations

from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.dedup.fingerprint import perceptual_hashes
from humanverse.imaging.pixel_digest import CURRENT, column_name, pixel_digest


class PerceptualHashStage(Stage):
    name = "phash"

    def __init__(self, resources: Resources):
        super().__init__(resources)
        self.digest_definition = CURRENT
        """The run's pixel digest definition, as the decode stage's (plan.use_pixel_digest)."""

    def process(self, batch: list[Sample]) -> None:
        column = column_name(self.digest_definition)
        for sample in self.alive(batch):
            pixels = sample.image
            if sample.scores.get(column) is None:  # the original JPEG kept: decode only checked it
                sample.scores[column] = pixel_digest(pixels, self.digest_definition)
            sample.scores.update(perceptual_hashes(pixels))
