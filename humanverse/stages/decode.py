"""The decode stage: header check, a safe decode (of every pixel, hashed for exact dedup and not kept; a kept
original JPEG at 1/8 scale, which still reads every coded bit) and the `{key}.jpg` to store; the raw bytes are
dropped after."""

from __future__ import annotations

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import CURRENT, column_name
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage


class DecodeStage(Stage):
    name = "decode"

    def __init__(self, cfg: DecodeConfig, resources: Resources):
        super().__init__(resources)
        self.cfg = cfg
        self.digest_definition = CURRENT
        """The run's pixel digest definition; the engine sets the one its run.json records (plan.use_pixel_digest)."""

    def process(self, batch: list[Sample]) -> None:
        for sample in batch:
            decoded, reason = decode_image(sample.image_bytes or b"", self.cfg, keep_pixels=False,
                                           digest_definition=self.digest_definition, digest_original=False)
            sample.image_bytes = None
            if decoded is None:
                if reason in REJECT_REASONS:
                    sample.reject(self.name, reason)
                else:
                    sample.fail(self.name, reason, transient=reason in TRANSIENT_REASONS)
                continue
            # Pixels travel as the JPEG; when the JPEG was re-encoded, its pixels (not the source's) are
            # what every later stage sees, so annotations match {key}.jpg exactly. They are not kept here:
            # no later stage of the fetch group reads them, and a task's worth (1,000 rows) of decoded
            # photos would sit in the fetch actor until the task leaves it; the next reader decodes the JPEG.
            sample.set_decoded(decoded.jpeg, None)
            sample.width, sample.height = decoded.width, decoded.height
            # For `humanverse dedup` (humanverse/dedup/fingerprint.py): the source's upright pixels, so a
            # lossless copy matches its original. A kept original JPEG was only checked (at 1/8 scale): its
            # pixels are {key}.jpg's, so the digest waits with the pHash for the rows the person rule keeps
            # (stages/perceptual_hash.py), in this slot so that the sample's json keeps its field order.
            sample.scores[column_name(self.digest_definition)] = (
                None if decoded.jpeg_is_original else decoded.pixel_digest(self.digest_definition))
            sample.info["decode"] = {
                "source_format": decoded.source_format,
                "source_mode": decoded.source_mode,
                "exif_transposed": decoded.exif_transposed,
                "metadata_removed": decoded.metadata_removed or {},
            }


# Policy rejections (the bytes are a fine image we do not want); anything else is an error row.
REJECT_REASONS = {"too_many_pixels", "too_large_side", "metadata_too_large", "zero_size", "unsupported_format",
                  "too_many_scans", "unsupported_compression"}
# A worker short of memory may well decode the same bytes on a retry.
TRANSIENT_REASONS = {"out_of_memory"}
