"""The decode stage leaves a kept original JPEG's pixel digest to the phash stage, which hashes the pixels of
{key}.jpg: the digest a row ends with is the one a full decode of the source gives, under the run's
definition, in the same place of the sample's fields; a re-encoded source keeps its decode-time digest."""

import io
import pickle

import numpy as np
import pytest
from PIL import ExifTags, Image

from humanverse.core.group import StageGroup
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources
from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.plan import use_pixel_digest
from humanverse.stages.decode import DecodeStage
from humanverse.stages.perceptual_hash import PerceptualHashStage
from tests.support.realdata import PEOPLE

PHOTO = next(iter(sorted(PEOPLE.glob("*.jpg"))), None)


def rotated_jpeg() -> bytes:
    array = np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def run_stages(data: bytes, definition: str) -> Sample:
    decode, phash = DecodeStage(DecodeConfig(), Resources()), PerceptualHashStage(Resources())
    use_pixel_digest([StageGroup("fetch", [decode], Resources()), StageGroup("detect", [phash], Resources())],
                     definition)
    sample = Sample(key="000000000", task_id="00000-00000", source={})
    sample.image_bytes = data
    decode.process([sample])
    sample = pickle.loads(pickle.dumps(sample))  # the hop between the fetch and the detect actors
    phash.process([sample])
    return sample


@pytest.mark.skipif(PHOTO is None, reason="shared real photos not present")
@pytest.mark.parametrize("definition", ["xxh3_128", "sha256"])
def test_a_kept_original_gets_the_full_decodes_digest_from_the_phash_stage(definition):
    data = PHOTO.read_bytes()
    full, _ = decode_image(data, DecodeConfig())
    assert full.jpeg_is_original
    sample = run_stages(data, definition)
    column = f"pixel_{definition}"
    assert sample.scores[column] == full.pixel_digest(definition)
    assert list(sample.scores) == [column, "phash", "phash_mirror"]  # the digest keeps decode's place


def test_a_reencoded_source_keeps_the_digest_of_its_own_pixels():
    data = rotated_jpeg()
    full, _ = decode_image(data, DecodeConfig())
    sample = run_stages(data, "xxh3_128")
    assert not full.jpeg_is_original
    assert sample.scores["pixel_xxh3_128"] == full.pixel_digest("xxh3_128")


@pytest.mark.skipif(PHOTO is None, reason="shared real photos not present")
def test_a_row_rejected_before_the_phash_stage_carries_no_digest_of_a_kept_original():
    decode = DecodeStage(DecodeConfig(), Resources())
    sample = Sample(key="000000000", task_id="00000-00000", source={})
    sample.image_bytes = PHOTO.read_bytes()
    decode.process([sample])
    assert sample.alive and "pixel_xxh3_128" in sample.scores and sample.scores["pixel_xxh3_128"] is None
