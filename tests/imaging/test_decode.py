"""Safe decoding: every input ends as an upright RGB uint8 image or a reason code, never an exception.

Core cases build their own tiny images with PIL; the realdata cases read /work/shared/realdata when
it exists and skip otherwise.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydantic
import pytest
from PIL import ExifTags, Image, ImageFile, ImageOps, PngImagePlugin, features

from humanverse.imaging.decode import (
    REASONS,
    DecodeConfig,
    DecodedImage,
    decode_image,
    jpeg_frame_marker,
    read_header,
    to_rgb_uint8,
)
from tests.support.realdata import REALDATA

CFG = DecodeConfig()
BAD_DIR = REALDATA / "bad"
PEOPLE_DIR = REALDATA / "people"


# ---------------------------------------------------------------- builders


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def noise_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int, chunks_before_idat: tuple[bytes, ...] = ()) -> bytes:
    """A tiny PNG whose IHDR claims any size: the pixel data is a few bytes, so only a header check
    can stop it before the decoder allocates width x height x 3."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + b"".join(chunks_before_idat)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def red_top_left(width: int = 48, height: int = 24) -> Image.Image:
    """Grey canvas with a red block in the stored top-left corner, to see where rotation puts it."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, 12, 12))
    return image


def is_red(pixel: np.ndarray) -> bool:
    red, green, blue = (int(v) for v in pixel)
    return red > 200 and green < 60 and blue < 60


def assert_upright_rgb(decoded: DecodedImage) -> None:
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3
    assert decoded.rgb.shape[:2] == (decoded.height, decoded.width)
    with Image.open(io.BytesIO(decoded.jpeg)) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert stored.size == (decoded.width, decoded.height)
        assert stored.getexif().get(ExifTags.Base.Orientation, 1) == 1


def decode_ok(data: bytes, cfg: DecodeConfig = CFG) -> DecodedImage:
    decoded, reason = decode_image(data, cfg)
    assert reason is None, reason
    assert decoded is not None
    assert_upright_rgb(decoded)
    return decoded


# ---------------------------------------------------------------- every mode to RGB


def _palette_with_transparency() -> Image.Image:
    image = Image.new("P", (4, 2), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 1)  # blue, made transparent below
    image.info["transparency"] = 1
    return image


def _palette_alpha() -> Image.Image:
    image = Image.new("PA", (4, 2), (0, 255))
    image.putpalette([255, 0, 0] + [0] * 765)
    image.putpixel((0, 0), (0, 0))
    return image


def _two_tone(mode: str, corner, rest) -> Image.Image:
    image = Image.new(mode, (4, 2), rest)
    image.putpixel((0, 0), corner)
    return image


# (id, builder, format, expected RGB at (0, 0), expected RGB elsewhere, tolerance)
MODE_CASES = [
    ("1", lambda: _two_tone("1", 0, 1), "PNG", (0, 0, 0), (255, 255, 255), 0),
    ("L", lambda: _two_tone("L", 10, 200), "PNG", (10, 10, 10), (200, 200, 200), 0),
    ("LA-alpha-on-white", lambda: _two_tone("LA", (0, 0), (50, 255)), "PNG", (255, 255, 255), (50, 50, 50), 0),
    ("P-transparency", _palette_with_transparency, "PNG", (255, 255, 255), (255, 0, 0), 0),
    ("PA", _palette_alpha, "TIFF", (255, 255, 255), (255, 0, 0), 0),
    ("RGBA-half-alpha", lambda: _two_tone("RGBA", (0, 0, 0, 128), (0, 0, 255, 255)), "PNG", (127, 127, 127), (0, 0, 255), 0),
    ("RGB-tRNS", lambda: _rgb_with_colour_key(), "PNG", (255, 255, 255), (0, 255, 0), 0),
    ("CMYK-jpeg", lambda: Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", (255, 0, 0), (255, 0, 0), 40),
    ("CMYK-tiff", lambda: _two_tone("CMYK", (0, 0, 0, 255), (0, 255, 255, 0)), "TIFF", (0, 0, 0), (255, 0, 0), 0),
    ("YCbCr-tiff", lambda: Image.new("YCbCr", (4, 2), (76, 85, 255)), "TIFF", (254, 0, 0), (254, 0, 0), 3),
    ("LAB-tiff", lambda: _two_tone("LAB", (0, 128, 128), (255, 128, 128)), "TIFF", (0, 0, 0), (255, 255, 255), 3),
    ("I-tiff-stretched", lambda: _two_tone("I", -1000, 3000), "TIFF", (0, 0, 0), (255, 255, 255), 0),
    ("I;16-png", lambda: _two_tone("I;16", 0, 65535), "PNG", (0, 0, 0), (255, 255, 255), 0),
    ("I;16-png-mid", lambda: _two_tone("I;16", 257 * 100, 257 * 200), "PNG", (100, 100, 100), (200, 200, 200), 0),
    ("I;16B-tiff", lambda: _two_tone("I;16B", 0, 257 * 30), "TIFF", (0, 0, 0), (30, 30, 30), 0),
    ("F-tiff-stretched", lambda: _two_tone("F", -2.5, 7.5), "TIFF", (0, 0, 0), (255, 255, 255), 0),
]


def _rgb_with_colour_key() -> Image.Image:
    image = _two_tone("RGB", (1, 2, 3), (0, 255, 0))
    image.info["transparency"] = (1, 2, 3)
    return image


@pytest.mark.parametrize(
    ("builder", "fmt", "corner", "rest", "tolerance"),
    [case[1:] for case in MODE_CASES],
    ids=[case[0] for case in MODE_CASES],
)
def test_every_mode_decodes_to_rgb_uint8(builder, fmt, corner, rest, tolerance):
    source = builder()
    decoded = decode_ok(encode(source, fmt))
    assert decoded.source_mode in (source.mode, "I;16")  # Pillow reads 16-bit PNG/TIFF back as I;16
    assert decoded.source_format == fmt
    assert (decoded.width, decoded.height) == source.size
    assert np.abs(decoded.rgb[0, 0].astype(int) - corner).max() <= tolerance
    assert np.abs(decoded.rgb[-1, -1].astype(int) - rest).max() <= tolerance
    assert not decoded.jpeg_is_original


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.new("HSV", (2, 2), (0, 255, 255)), (255, 0, 0)),
        (Image.new("RGBa", (2, 2), (0, 0, 0, 0)), (255, 255, 255)),
        (Image.new("La", (2, 2), (0, 255)), (0, 0, 0)),
        (Image.new("I;16N", (2, 2), 65535), (255, 255, 255)),
        (Image.new("RGBX", (2, 2), (9, 8, 7, 0)), (9, 8, 7)),
    ],
    ids=["HSV", "RGBa", "La", "I;16N", "RGBX"],
)
def test_modes_no_file_format_stores_convert_directly(image, expected):
    rgb = to_rgb_uint8(image)
    assert rgb is not None and rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert tuple(rgb[1, 1]) == expected


def test_sixteen_bit_gradient_spans_full_8_bit_range_without_clipping():
    gradient = np.linspace(0, 65535, 64 * 4).astype(np.uint16).reshape(4, 64)
    data = encode(Image.fromarray(gradient), "PNG")
    decoded = decode_ok(data)
    gray = decoded.rgb[..., 0]
    assert decoded.source_mode == "I;16"
    assert gray.min() == 0 and gray.max() == 255
    assert np.all(np.diff(gray.astype(int), axis=1) >= 0)  # monotonic, so no wrap-around
    assert len(np.unique(gray)) > 60  # spread over the range, not saturated at 255


def test_float_nan_and_infinities_do_not_break_the_stretch():
    values = np.array([[np.nan, -np.inf, 0.0, 1.0], [np.inf, 0.5, 0.25, 1.0]], dtype=np.float32)
    rgb = to_rgb_uint8(Image.fromarray(values))
    assert rgb[0, 0, 0] == 0 and rgb[0, 1, 0] == 0 and rgb[1, 0, 0] == 255
    assert rgb[0, 2, 0] == 0 and rgb[0, 3, 0] == 255 and rgb[1, 1, 0] == 128


# ---------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(6, (0, -1)), (8, (-1, 0))],  # 6: turn 90 deg clockwise (top-left -> top-right); 8: counter-clockwise
)
def test_exif_orientation_lands_upright(orientation, red_corner):
    decoded = decode_ok(jpeg_with_orientation(red_top_left(48, 24), orientation))
    assert decoded.exif_transposed
    assert (decoded.width, decoded.height) == (24, 48)  # sides swapped
    corners = {(0, 0), (0, -1), (-1, 0), (-1, -1)}
    assert is_red(decoded.rgb[red_corner])
    for other in corners - {red_corner}:
        assert not is_red(decoded.rgb[other])
    assert not decoded.jpeg_is_original  # the original would need a reader that honours EXIF


@pytest.mark.parametrize("orientation", range(2, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(orientation):
    """The upright pixels, exactly as ImageOps.exif_transpose shows them (same JPEG decoder)."""
    rng = np.random.default_rng(orientation)
    data = jpeg_with_orientation(Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)), orientation)
    with Image.open(io.BytesIO(data)) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    decoded = decode_ok(data)
    assert decoded.rgb.flags.c_contiguous and decoded.rgb.dtype == np.uint8
    np.testing.assert_array_equal(decoded.rgb, expected)


def test_orientation_one_keeps_the_original_image_data_without_its_exif():
    data = jpeg_with_orientation(red_top_left(), 1)
    decoded = decode_ok(data)
    assert not decoded.exif_transposed
    assert decoded.jpeg_is_original and decoded.metadata_removed == {"exif": 36}
    assert b"Exif\x00" not in decoded.jpeg and decoded.jpeg.endswith(data[-200:])
    assert is_red(decoded.rgb[0, 0])
    kept = decode_ok(data, DecodeConfig(keep_metadata=True))  # the old behaviour, on request
    assert kept.jpeg_is_original and kept.jpeg == data


def test_out_of_range_orientation_is_recorded_and_not_applied():
    decoded = decode_ok(jpeg_with_orientation(red_top_left(), 9))
    assert not decoded.exif_transposed
    assert decoded.exif_error is not None and "9" in decoded.exif_error
    assert is_red(decoded.rgb[0, 0])
    assert not decoded.jpeg_is_original


BROKEN_EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00"  # 5 IFD entries promised, none there


def test_broken_exif_block_decodes_unrotated():
    data = encode(red_top_left(), "JPEG", quality=95, exif=BROKEN_EXIF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns "Corrupt EXIF data"; only the result matters
        decoded = decode_ok(data)
    assert not decoded.exif_transposed
    assert is_red(decoded.rgb[0, 0]) and (decoded.width, decoded.height) == (48, 24)


def test_broken_exif_is_recorded_when_warnings_are_errors():
    # With a JFIF dpi present Pillow does not read EXIF while opening, so the failure reaches our
    # orientation lookup. (Without one, Pillow's open raises the escalated warning: "corrupt".)
    data = encode(red_top_left(), "JPEG", quality=95, exif=BROKEN_EXIF, dpi=(72, 72))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded = decode_ok(data)
    assert decoded.exif_error is not None
    assert not decoded.exif_transposed and not decoded.jpeg_is_original


# ---------------------------------------------------------------- formats, frames, original bytes


def test_animated_gif_keeps_the_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    header, reason = read_header(data, CFG)
    assert reason is None and header.format == "GIF" and header.n_frames is None  # GIF count needs a walk
    decoded = decode_ok(data)
    assert decoded.animated
    assert is_red(decoded.rgb[4, 4])


def test_animated_png_frame_count_comes_from_the_header():
    frames = [Image.new("RGBA", (8, 8), (0, 255, 0, 255)), Image.new("RGBA", (8, 8), (255, 0, 0, 255))]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    header, reason = read_header(data, CFG)
    assert reason is None and header.n_frames == 2
    decoded = decode_ok(data)
    assert decoded.animated and tuple(decoded.rgb[0, 0]) == (0, 255, 0)


def test_single_frame_gif_is_not_animated():
    decoded = decode_ok(encode(Image.new("L", (5, 3), 77), "GIF"))
    assert not decoded.animated and tuple(decoded.rgb[1, 1]) == (77, 77, 77)


def test_cmyk_jpeg_becomes_rgb_and_is_reencoded():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    decoded = decode_ok(data)
    assert decoded.source_mode == "CMYK" and not decoded.jpeg_is_original and decoded.jpeg != data
    assert is_red(decoded.rgb[8, 8])


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_rgb_jpeg_bytes_are_kept_byte_for_byte(progressive):
    data = encode(noise_rgb(32, 24), "JPEG", quality=90, progressive=progressive)
    assert jpeg_frame_marker(data) == (0xC2 if progressive else 0xC0)
    decoded = decode_ok(data)
    assert decoded.jpeg_is_original and decoded.jpeg is data
    with Image.open(io.BytesIO(data)) as reference:
        assert np.array_equal(decoded.rgb, np.asarray(reference.convert("RGB")))


def test_keep_original_jpeg_false_always_reencodes():
    data = encode(noise_rgb(32, 24), "JPEG", quality=90)
    decoded = decode_ok(data, DecodeConfig(keep_original_jpeg=False))
    assert not decoded.jpeg_is_original and decoded.jpeg != data


def test_grayscale_jpeg_is_reencoded_as_rgb():
    data = encode(Image.new("L", (16, 16), 90), "JPEG")
    decoded = decode_ok(data)
    assert not decoded.jpeg_is_original
    assert np.all(decoded.rgb[..., 0] == decoded.rgb[..., 1])


def test_mpo_keeps_the_first_picture_and_drops_the_second():
    first, second = Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16), (0, 0, 255))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    decoded = decode_ok(data)
    assert decoded.source_format == "MPO" and decoded.animated and not decoded.jpeg_is_original
    assert len(decoded.jpeg) < len(data) and is_red(decoded.rgb[8, 8])


def test_jpeg_frame_marker_rejects_non_jpeg():
    assert jpeg_frame_marker(b"") is None
    assert jpeg_frame_marker(b"\x89PNG\r\n\x1a\n") is None
    assert jpeg_frame_marker(b"\xff\xd8\xff\xe0\x00\x01") is None  # segment length below 2


# ---------------------------------------------------------------- rejections


def test_header_bomb_is_refused_before_decode():
    data = png_claiming(100_000, 100_000)
    assert read_header(data, CFG) == (None, "too_many_pixels")
    assert decode_image(data, CFG) == (None, "too_many_pixels")


def test_our_pixel_limit_applies_below_pillows_warning_threshold():
    data = png_claiming(9000, 9000)  # 81 MP: Pillow would open it silently
    assert read_header(data, CFG) == (None, "too_many_pixels")
    assert read_header(data, DecodeConfig(max_pixels=100_000_000))[1] is None


def test_long_side_limit():
    data = png_claiming(20_000, 10)
    assert read_header(data, CFG) == (None, "too_large_side")
    header, reason = read_header(data, DecodeConfig(max_side=20_000))
    assert reason is None and (header.width, header.height) == (20_000, 10)


def test_limits_apply_to_real_images_too():
    data = encode(noise_rgb(64, 64), "PNG")
    assert decode_image(data, DecodeConfig(max_pixels=4095)) == (None, "too_many_pixels")
    assert decode_image(data, DecodeConfig(max_side=63)) == (None, "too_large_side")
    assert decode_image(data, DecodeConfig(max_pixels=4096, max_side=64))[1] is None


@pytest.mark.parametrize(
    "data",
    [png_claiming(0, 10), b"GIF89a\x00\x00\x0a\x00\x00\x00\x00" + b";"],
    ids=["png-width-0", "gif-width-0"],
)
def test_zero_size(data):
    assert read_header(data, CFG) == (None, "zero_size")
    assert decode_image(data, CFG) == (None, "zero_size")


def test_png_text_chunk_zlib_bomb_is_a_reason():
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a" * (4 * 1024 * 1024), 9))
    data = png_claiming(4, 4, chunks_before_idat=(bomb,))
    assert len(data) < 20_000
    assert decode_image(data, CFG) == (None, "metadata_too_large")


def test_truncated_jpeg():
    data = encode(noise_rgb(64, 64), "JPEG", quality=90)
    assert read_header(data[: len(data) // 2], CFG)[1] is None  # the header is intact
    assert decode_image(data[: len(data) // 2], CFG) == (None, "truncated")


def test_truncated_png():
    data = encode(noise_rgb(64, 64), "PNG")
    assert decode_image(data[: len(data) * 2 // 3], CFG) == (None, "truncated")


def test_corrupt_png_stream():
    data = bytearray(encode(noise_rgb(64, 64), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 4 : idat + 40] = b"\xff" * 36  # clobber the zlib header and first deflate block
    assert decode_image(bytes(data), CFG) == (None, "corrupt")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_an_image"),
        (b"<!doctype html>\n<html><head><title>404 Not Found</title></head></html>", "not_an_image"),
        (b"BMW 3 series for sale, see attached", "not_an_image"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "unsupported_format"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32, "unsupported_format"),
        (b"\x89PNG\r\n\x1a\n" + b"\x13" * 64, "corrupt"),
        (b"\xff\xd8\xff", "corrupt"),
    ],
    ids=["empty", "html", "text", "svg", "heic", "png-garbage", "jpeg-soi-only"],
)
def test_non_images_and_unknown_formats(data, reason):
    assert read_header(data, CFG) == (None, reason)
    assert decode_image(data, CFG) == (None, reason)


@pytest.mark.parametrize("fmt", ["ICO", "JPEG2000", "PPM", "TGA"])
def test_formats_pillow_knows_but_we_do_not_take(fmt):
    if fmt == "JPEG2000" and not features.check_codec("jpg_2000"):
        pytest.skip("this Pillow build cannot write JPEG 2000")
    data = encode(noise_rgb(16, 16), fmt)
    with Image.open(io.BytesIO(data)) as image:  # Pillow itself would take it
        assert image.format == fmt
    _, reason = decode_image(data, CFG)
    assert reason in ("unsupported_format", "not_an_image")  # signature-less formats look like noise
    if fmt in ("ICO", "JPEG2000"):
        assert reason == "unsupported_format"


def test_config_refuses_unknown_keys_and_limits_pillow_would_override():
    with pytest.raises(pydantic.ValidationError):
        DecodeConfig(max_pixel=10)
    with pytest.raises(pydantic.ValidationError, match="hard limit"):
        DecodeConfig(max_pixels=10**12)
    with pytest.raises(pydantic.ValidationError):
        DecodeConfig(jpeg_quality=0)


# ---------------------------------------------------------------- global state and threads


def test_pillow_global_state_is_left_alone():
    before = (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK)
    filters_before = list(warnings.filters)
    for data in (png_claiming(100_000, 100_000), encode(noise_rgb(64, 64), "JPEG")[:500], b"<html>"):
        decode_image(data, CFG)
    assert (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK) == before
    assert list(warnings.filters) == filters_before


def test_concurrent_decodes_match_sequential_ones():
    inputs = [
        encode(noise_rgb(96, 64, seed=1), "JPEG", quality=90),
        encode(noise_rgb(64, 96, seed=2), "PNG"),
        jpeg_with_orientation(red_top_left(), 6),
        encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG"),
        encode(noise_rgb(64, 64, seed=3), "JPEG")[:700],
        png_claiming(100_000, 100_000),
        b"<html></html>",
    ]

    def summary(data: bytes):
        decoded, reason = decode_image(data, CFG)
        return reason if decoded is None else (decoded.rgb.tobytes(), decoded.jpeg, decoded.exif_transposed)

    expected = [summary(data) for data in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(summary, inputs * 6))
    assert results == expected * 6


# ---------------------------------------------------------------- real files (read-only, skipped if absent)


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file())


EXPECTED_BAD_REASONS = {
    "clip-retrieval_front_src_index.html__renamed.jpg": "not_an_image",
    "pillow_Tests__init__py__empty_renamed.jpg": "not_an_image",
    "pillow_test-ole-file.doc__renamed.jpg": "not_an_image",
    "pillow_avif_hopper.heif": "unsupported_format",
    "pillow_broken.png": "corrupt",
    "pillow_broken_data_stream.png": "corrupt",
    "pillow_decompression_bomb.gif": "too_many_pixels",
    "pillow_png_decompression_dos.png": "metadata_too_large",
    "pillow_truncated_end_chunk.png": "truncated",
    "pillow_truncated_image.png": "truncated",
    "pillow_truncated_jpeg.jpg": "truncated",
    "pillow_zero_width.gif": "zero_size",
}
EXPECTED_ANIMATED = {"pillow_iss634.gif", "pillow_iss634.webp", "pillow_iss634.apng", "pillow_decompression_bomb_extents.gif"}
EXPECTED_ORIGINAL_KEPT = {"pillow_icc_profile_big.jpg", "pillow_sugarshack_bad_mpo_header.jpg"}


@pytest.mark.reliability
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns on the bad-EXIF and bad-MPO files
@pytest.mark.parametrize("path", _files(BAD_DIR), ids=lambda path: path.name)
def test_realdata_bad_file_ends_as_image_or_reason(path):
    data = path.read_bytes()
    decoded, reason = decode_image(data, CFG)
    expected_reason = EXPECTED_BAD_REASONS.get(path.name)
    if path.name == "pillow_avif_hopper.avif" and not features.check_module("avif"):
        expected_reason = "unsupported_format"
    if expected_reason is not None:
        assert (decoded, reason) == (None, expected_reason)
        return
    assert reason is None and decoded is not None, reason
    assert_upright_rgb(decoded)
    assert decoded.animated == (path.name in EXPECTED_ANIMATED)
    assert decoded.jpeg_is_original == (path.name in EXPECTED_ORIGINAL_KEPT)


@pytest.mark.reliability
@pytest.mark.parametrize("path", _files(BAD_DIR), ids=lambda path: path.name)
def test_realdata_bad_file_never_raises_even_when_warnings_are_errors(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded, reason = decode_image(path.read_bytes(), CFG)
    assert (decoded is None) != (reason is None)
    assert reason is None or reason in REASONS


def _bad(name: str) -> bytes:
    path = BAD_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def test_realdata_orientation_6_is_rotated_clockwise():
    data = _bad("pillow_hopper_orientation_6.jpg")
    decoded = decode_ok(data)
    with Image.open(io.BytesIO(data)) as stored:
        raw = np.asarray(stored.convert("RGB"))
    assert decoded.exif_transposed
    assert (decoded.width, decoded.height) == (raw.shape[0], raw.shape[1])  # stored (w, h) swapped
    assert np.array_equal(decoded.rgb, np.rot90(raw, k=-1))


def test_realdata_orientation_rectangle_swaps_sides():
    decoded = decode_ok(_bad("pillow_orientation_rectangle.jpg"))
    assert decoded.exif_transposed and (decoded.width, decoded.height) == (1, 2)


def test_realdata_cmyk_sample_is_rgb():
    decoded = decode_ok(_bad("pillow_pil_sample_cmyk.jpg"))
    assert decoded.source_mode == "CMYK" and decoded.rgb.shape == (100, 100, 3)
    assert not decoded.jpeg_is_original
    assert decoded.rgb.std() > 10  # real picture content, not a flat fill


def test_realdata_transparent_png_is_white_where_alpha_is_zero():
    data = _bad("pillow_transparent.png")
    decoded = decode_ok(data)
    with Image.open(io.BytesIO(data)) as stored:
        alpha = np.asarray(stored.convert("RGBA"))[..., 3]
    assert (alpha == 0).any()
    assert np.all(decoded.rgb[alpha == 0] == 255)


def test_realdata_16_bit_with_colour_key():
    data = _bad("pillow_i_trns.png")
    decoded = decode_ok(data)
    with Image.open(io.BytesIO(data)) as stored:
        values, key = np.asarray(stored), stored.info["transparency"]
    assert np.all(decoded.rgb[values == key] == 255)
    expected = (values[values != key].astype(np.uint32) * 255 + 32767) // 65535
    assert np.array_equal(decoded.rgb[values != key][:, 0], expected.astype(np.uint8))


@pytest.mark.parametrize(
    "path",
    [p for p in _files(PEOPLE_DIR) if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif")],
    ids=lambda path: path.name,
)
def test_realdata_people_all_decode(path):
    data = path.read_bytes()
    header, reason = read_header(data, CFG)
    assert reason is None
    decoded = decode_ok(data)
    if decoded.exif_transposed:
        assert (decoded.width, decoded.height) == (header.height, header.width)
    else:
        assert (decoded.width, decoded.height) == (header.width, header.height)
    if path.name == "imageio_rommel.jpg":  # EXIF orientation 6, stored 3072 x 2304
        assert decoded.exif_transposed and (decoded.width, decoded.height) == (2304, 3072)
    if header.format == "JPEG" and header.mode == "RGB" and not decoded.exif_transposed:
        assert decoded.jpeg_is_original
        if decoded.metadata_removed:  # metadata segments gone, pixels identical
            with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(decoded.jpeg)) as b:
                assert np.array_equal(np.asarray(a), np.asarray(b))
        else:
            assert decoded.jpeg == data


def test_reasons_do_not_change_after_ultralytics_patches_pillow():
    """Importing ultralytics replaces PIL.Image.open with a wrapper that tries to install pi-heif on the first
    unidentified image; the decoder must keep Pillow's own behaviour (found when test order changed a reason)."""
    import PIL.Image

    import ultralytics.utils.patches  # noqa: F401 - the import is the patch

    assert PIL.Image.open.__module__ != "PIL.Image"  # still patched, so this test means something
    assert read_header(png_claiming(0, 10), CFG) == (None, "zero_size")
    assert decode_image(b"<html>hi</html>", CFG) == (None, "not_an_image")
