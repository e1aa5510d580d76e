"""Safe decoding of untrusted image bytes into an upright RGB uint8 array and the `{key}.jpg` member.

LAION/COYO URLs return arbitrary internet data: HTML error pages, empty bodies, truncated transfers,
decompression bombs, CMYK and 16-bit files, broken EXIF. Every one of those must end as a reason code
that the run can count, never as an exception that kills a worker or an allocation that kills a node.

Reason codes returned instead of an image (``REASONS``):

- ``not_an_image``: empty bytes, HTML, documents: nothing that looks like an image.
- ``unsupported_format``: an image we do not take: anything outside ``ALLOWED_FORMATS`` or whose
  codec this Pillow build lacks (HEIF/HEIC, JPEG 2000, JPEG XL, SVG, ICO, PSD, EPS, PDF, ...).
  Pillow's parsers for those never see the bytes: EPS shells out to Ghostscript, and the rest are
  rare on photo URLs and less hardened than the JPEG/PNG/GIF/WebP/BMP/TIFF/AVIF decoders we keep.
- ``zero_size``: the header declares a width or height of 0.
- ``too_many_pixels``: the header declares more than ``max_pixels`` (also Pillow's own
  DecompressionBombError, and its DecompressionBombWarning when a caller turned warnings into errors).
- ``too_large_side``: a side longer than ``max_side``.
- ``metadata_too_large``: a PNG text chunk that inflates past Pillow's limit (a zlib bomb in metadata).
- ``truncated``: the pixel data ends early.
- ``corrupt``: an image signature, but the header or pixel stream cannot be parsed.
- ``unsupported_mode``: a pixel mode we have no RGB conversion for.
- ``out_of_memory``: the decoder could not allocate; retrying later may succeed.
- ``too_many_scans``: a JPEG with more than ``MAX_JPEG_SCANS`` scans (counted from the bytes before
  decoding). libjpeg decodes every scan over the whole image: a 2.6 MB progressive JPEG repeating one scan
  20,000 times took 92 s of CPU; a real progressive JPEG has about 10.
- ``unsupported_compression``: an RLE-compressed BMP. Pillow decodes BMP RLE in Python (16 KB of it took
  11 s); such files are rare on the web.

Time: decoding is bounded by the byte cap (fetch.download.max_bytes), ``max_pixels`` and the scan cap: the
worst case measured within them is about 5 s of CPU for one image (a 64-Mpx JPEG of 100 near-empty scans).

Memory: at most about 8 bytes per output pixel plus a constant (measured in
tests/imaging/test_bomb_memory.py over the hostile corpus). The decoded image (up to 4 bytes per pixel in
Pillow) and the RGB output (3) are the only full-size buffers alive at once: conversions, compositing and
scaling run in strips of rows, the source image is closed before the EXIF rotation copies the output, and
the JPEG is encoded from the output. On the fetch path (keep_pixels=False) a rotated RGB photo is turned
by Pillow instead: the decoded image and its upright copy (4 + 4 bytes per pixel), then the copy alone.

Privacy: a JPEG that passes through keeps its entropy-coded data byte for byte, but its EXIF, XMP, IPTC,
comments, thumbnails and trailing bytes are removed by rewriting marker segments (jpeg_metadata.py); a
re-encoded image carries none of them. `metadata_removed` records what was taken out;
`keep_metadata: true` keeps the original bytes as they are.

Global Pillow state is never touched (no ``LOAD_TRUNCATED_IMAGES``, ``MAX_IMAGE_PIXELS`` or
``MAX_TEXT_CHUNK`` changes, no ``warnings.catch_warnings``, which swaps process-wide filters and is
not thread-safe): other code in the worker relies on Pillow's defaults, and every call here works
on its own buffer and Image object, so ``decode_image`` is safe to call from many threads at once.
"""

from __future__ import annotations

import functools
import io
import sys
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError, features
from pydantic import Field, field_validator

from humanverse.config_base import Section
from humanverse.imaging.jpeg_metadata import StrippedJpeg, count_jpeg_scans, jpeg_segments, strip_jpeg_metadata
from humanverse.imaging.pixel_digest import UNRECORDED, check_definition, image_pixel_digest, pixel_digest

REASONS = (
    "not_an_image",
    "unsupported_format",
    "zero_size",
    "too_many_pixels",
    "too_large_side",
    "metadata_too_large",
    "truncated",
    "corrupt",
    "unsupported_mode",
    "out_of_memory",
    "too_many_scans",
    "unsupported_compression",
)

# Formats whose Pillow parsers may see untrusted bytes. MPO (multi-picture JPEG from cameras) is what
# the JPEG parser reports for such files; we keep its first picture.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
_ACCEPTED_REPORTED_FORMATS = frozenset(ALLOWED_FORMATS) | {"MPO"}
# Formats that depend on an optional codec in the Pillow build.
_OPTIONAL_CODECS = {"WEBP": "webp", "AVIF": "avif"}

# Counting frames is free only where the container states it up front; GIF and TIFF need a walk.
_FRAME_COUNT_IN_HEADER = frozenset({"PNG", "WEBP", "AVIF", "MPO"})

# Baseline, extended-sequential and progressive Huffman JPEG: what every JPEG reader decodes.
# Arithmetic-coded, lossless and hierarchical JPEGs are re-encoded instead of passed through.
_PORTABLE_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_CONVERTIBLE_MODES = frozenset({"1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"})
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})

MAX_JPEG_SCANS = 100
"""libjpeg's default progressive JPEG has 10 scans (mozjpeg's up to ~20). A fixed cap, not a config field:
each scan costs ~45 ms of CPU at the 64-Mpx pixel limit, so 100 bound an image to ~5 s (measured)."""
_RLE_BMP = frozenset({1, 2})
"""BI_RLE8 and BI_RLE4 (Pillow's BmpImageFile.COMPRESSIONS)."""

STRIP_PIXELS = 1 << 20
"""Pixels converted at a time: bounds the temporaries of a mode conversion, whatever the image size."""

# EXIF orientation -> the view of the stored pixels (an H x W array, one item per pixel) that shows them
# upright, as ImageOps.exif_transpose does
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.T,
    6: lambda a: a.T[:, ::-1],
    7: lambda a: a.T[::-1, ::-1],
    8: lambda a: a.T[::-1],
}
# image.info entries that describe how to show the pixels, not who or where: not reported as removed
_PRESENTATION_INFO = frozenset({
    "dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density", "adobe", "adobe_transform", "progressive",
    "progression", "transparency", "gamma", "duration", "loop", "background", "version", "extension",
    "compression", "aspect", "interlace", "srgb", "chromaticity", "disposal", "blend", "default_image",
    "bbox", "timestamp", "icc_profile",
})


class DecodeConfig(Section):
    """Limits applied to every downloaded image; checked on the header, before any pixel is decoded."""

    max_pixels: int = Field(64_000_000, ge=1)
    max_side: int = Field(16384, ge=1)
    jpeg_quality: int = Field(95, ge=1, le=100)
    keep_original_jpeg: bool = True
    keep_metadata: bool = Field(
        False, description="keep EXIF/XMP/IPTC/comments/trailing bytes of pass-through JPEGs (privacy: off)"
    )
    max_icc_bytes: int = Field(
        128 * 1024, ge=0, description="larger ICC colour profiles are dropped (kept ones travel with the image)"
    )

    @field_validator("max_pixels")
    @classmethod
    def _within_pillow_hard_limit(cls, value: int) -> int:
        """Pillow refuses images above 2 x MAX_IMAGE_PIXELS before we see them; say so instead of
        letting a larger setting silently behave like Pillow's limit (we never raise Pillow's)."""
        hard_limit = Image.MAX_IMAGE_PIXELS
        if hard_limit is not None and value > 2 * hard_limit:
            raise ValueError(
                f"max_pixels={value} is above Pillow's hard limit of {2 * hard_limit} pixels "
                "(PIL.Image.MAX_IMAGE_PIXELS x 2); images that large are refused regardless"
            )
        return value


@dataclass(frozen=True)
class HeaderInfo:
    """What the header says, read without decoding pixels. Size is as stored (before EXIF rotation)."""

    format: str
    width: int
    height: int
    mode: str
    n_frames: int | None  # None where counting frames would mean walking the file (GIF, TIFF)


@dataclass
class DecodedImage:
    """An upright RGB image and the bytes to store as `{key}.jpg`."""

    rgb: np.ndarray | None  # H x W x 3 uint8, EXIF orientation applied, alpha on white; None: see decode_image
    width: int
    height: int
    jpeg: bytes  # the original file when it already is a portable upright RGB JPEG, else a re-encode
    source_format: str
    source_mode: str
    exif_transposed: bool
    animated: bool  # the file has more than one frame; rgb is the first
    jpeg_is_original: bool = False
    """The JPEG's image data is the source's, byte for byte (its metadata segments may have been removed)."""
    exif_error: str | None = None  # the EXIF block could not be read; the image was left unrotated
    metadata_removed: dict[str, int] | None = None
    """Metadata of the source that the stored JPEG does not carry, kind -> bytes."""
    pixels_digest: str | None = None
    """The pixel digest of the upright pixels (definition: digest_definition), computed where rgb was not kept;
    None where the original JPEG was only checked (decode_image's digest_original=False)."""
    digest_definition: str = UNRECORDED

    def pixel_digest(self, definition: str) -> str:
        """The exact-dedup fingerprint of the upright pixels (imaging/pixel_digest.py): the one computed at
        decode when it has this definition, else from rgb (a ValueError where rgb was not kept)."""
        if self.pixels_digest is not None and definition == self.digest_definition:
            return self.pixels_digest
        if self.rgb is None:
            raise ValueError(f"the {definition} digest was not computed at decode (it made "
                             f"{self.digest_definition}) and the pixels were not kept")
        return pixel_digest(self.rgb, definition)

    def pixel_sha256(self) -> str:
        return self.pixel_digest("sha256")


def read_header(data: bytes, cfg: DecodeConfig) -> tuple[HeaderInfo | None, str | None]:
    """Identify the image and apply the size limits without decoding pixels: a cheap first gate."""
    image, header, reason, _ = _open_checked(data, cfg)
    if image is not None:
        image.close()
    return header, reason


def decode_image(data: bytes, cfg: DecodeConfig, keep_pixels: bool = True,
                 digest_definition: str = UNRECORDED, digest_original: bool = True
                 ) -> tuple[DecodedImage | None, str | None]:
    """Decode untrusted bytes to an upright RGB image; returns (None, reason) for anything unusable.
    keep_pixels=False: a caller that needs only the checks, the `{key}.jpg` and the pixel digest (of
    digest_definition, imaging/pixel_digest.py); where the original JPEG is kept, no RGB array is built (rgb
    is None) and the digest comes from Pillow's image.
    digest_original=False (with keep_pixels=False): where the original JPEG is kept, its pixels are only
    checked, decoded at 1/8 scale, and not digested (pixels_digest is None). The scaled decode still reads
    every coded bit, so a truncated or corrupt JPEG fails as in a full decode, at ~2/3 of its CPU; whoever
    decodes the kept JPEG later gets exactly the source's pixels and can take the digest there
    (stages/perceptual_hash.py)."""
    check_definition(digest_definition)
    image, header, reason, segments = _open_checked(data, cfg)
    if image is None:
        return None, reason
    with image:
        # Only a JPEG can be kept as it is, and its EXIF (hence its orientation) is read with its header;
        # other formats may load their pixels to find their EXIF (PNG's eXIf chunk), so they are asked after.
        is_jpeg = header.format == "JPEG"
        orientation, exif_error = _exif_orientation(image) if is_jpeg else (None, None)
        stripped = None
        if (
            cfg.keep_original_jpeg
            and is_jpeg
            and header.mode == "RGB"
            and orientation == 1
            and exif_error is None
            and jpeg_frame_marker(data) in _PORTABLE_JPEG_FRAMES
        ):
            if cfg.keep_metadata:
                stripped = StrippedJpeg(data)
            elif segments is not None:
                stripped = strip_jpeg_metadata(data, cfg.max_icc_bytes, segments)
        reuse_original = stripped is not None
        check_only = reuse_original and not keep_pixels and not digest_original
        if check_only:
            image.draft("RGB", (max(1, header.width // 8), max(1, header.height // 8)))
        try:
            image.load()
        except Exception as error:  # Pillow decoders raise many types on bad data
            return None, _load_failure_reason(error)
        if not is_jpeg:
            orientation, exif_error = _exif_orientation(image)

        rgb, digest, upright_image = None, None, None
        try:
            if check_only:
                pass  # checked by the scaled decode; the digest is the later reader's
            elif reuse_original and not keep_pixels:
                digest = image_pixel_digest(image, digest_definition)  # stored upright as RGB: the output's pixels
            elif not keep_pixels and orientation in _ORIENT and _plain_rgb(image):
                upright_image = _upright_image(image, orientation)
            else:
                rgb = to_rgb_uint8(image)
        except MemoryError:
            return None, "out_of_memory"
        except Exception:
            return None, "unsupported_mode"
        if rgb is None and digest is None and upright_image is None and not check_only:
            return None, "unsupported_mode"

        animated = _is_animated(image, header)
        source_info = _metadata_inventory(image.info)
        icc = image.info.get("icc_profile")
        exif = image.getexif() if cfg.keep_metadata and exif_error is None else None
        image.close()  # frees the pixels now (leaving `with` only closes the file): below, only one copy is alive
    exif_transposed = orientation in _ORIENT
    try:
        if exif_transposed and rgb is not None:
            rgb = _upright(rgb, orientation)
        if upright_image is not None:
            digest = _digest_or_none(upright_image, digest_definition)
    except MemoryError:
        return None, "out_of_memory"
    if upright_image is not None and digest is None:
        return None, "unsupported_mode"

    try:
        if stripped is not None:
            jpeg, removed = stripped.data, stripped.removed
        else:
            # a JPEG source's metadata is listed from its segments (Pillow drops an ICC profile of many chunks)
            listed = (strip_jpeg_metadata(data, max_icc_bytes=-1, segments=segments)
                      if header.format == "JPEG" and segments is not None else None)
            if listed is not None:
                source_info, icc = listed.removed, listed.icc_profile
            carried_icc = _icc_for_rgb(icc, header.mode, cfg)
            if exif is not None:
                exif[ExifTags.Base.Orientation] = 1  # the pixels are upright now
            pixels = upright_image if upright_image is not None else Image.fromarray(rgb, mode="RGB")
            jpeg = encode_jpeg_image(pixels, cfg.jpeg_quality, icc_profile=carried_icc,
                                     exif=exif.tobytes() if exif is not None and len(exif) else None)
            removed = {k: v for k, v in source_info.items() if not (cfg.keep_metadata and k == "exif")}
            if carried_icc is not None:
                removed.pop("icc_profile", None)
            elif icc:
                removed["icc_profile"] = len(icc)
    except MemoryError:
        return None, "out_of_memory"
    if upright_image is not None:
        width, height = upright_image.size
        upright_image.close()
    elif rgb is not None:
        width, height = rgb.shape[1], rgb.shape[0]
    else:  # the original kept as stored: upright already
        width, height = header.width, header.height
    return (
        DecodedImage(
            rgb=rgb,
            width=width,
            height=height,
            jpeg=jpeg,
            source_format=header.format,
            source_mode=header.mode,
            exif_transposed=exif_transposed,
            animated=animated,
            jpeg_is_original=reuse_original,
            exif_error=exif_error,
            metadata_removed=removed,
            pixels_digest=digest,
            digest_definition=digest_definition,
        ),
        None,
    )


# EXIF orientation -> Pillow's transpose that shows the pixels upright (what _ORIENT does to an array)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _plain_rgb(image: Image.Image) -> bool:
    """An RGB image whose pixels are the output's as they are (no colour-key transparency to composite)."""
    return image.mode == "RGB" and not _has_transparency(image)


def _upright_image(image: Image.Image, orientation: int) -> Image.Image:
    """The upright pixels as a new Pillow image, for the fetch path (keep_pixels=False) of a rotated RGB
    photo: Pillow's transpose, the digest and the JPEG encoder all work on Pillow's own buffer, with no
    RGB array, its upright copy and the encoder's copy of that (7-Mpx photo: 108 -> 86 ms CPU, measured).
    The pixels, hence the digest and the JPEG bytes, are those of the array path (tested)."""
    upright = image.transpose(_TRANSPOSE[orientation])
    upright.info = {}  # the source's comment, EXIF, ... must not reach the encoder
    return upright


def _digest_or_none(image: Image.Image, definition: str) -> str | None:
    """image_pixel_digest, None where Pillow's packer fails (as on the original's path: unsupported_mode)."""
    try:
        return image_pixel_digest(image, definition)
    except MemoryError:
        raise
    except Exception:
        return None


def _upright(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """A contiguous upright copy. Each pixel is moved as one 3-byte item: numpy copies a transposed
    H x W x 3 view with an inner loop of 3 bytes, 2x slower (37 ms instead of 17 for a 7-Mpx photo)."""
    pixels = np.ascontiguousarray(rgb).view(np.dtype((np.void, 3))).reshape(rgb.shape[:2])
    upright = np.ascontiguousarray(_ORIENT[orientation](pixels))
    return upright.view(np.uint8).reshape(*upright.shape, 3)


def to_rgb_uint8(image: Image.Image) -> np.ndarray | None:
    """Any Pillow mode to H x W x 3 uint8, or None for a mode we cannot convert.

    Transparency is composited on white, as a browser shows it on a default page: most transparent
    web images (cut-outs, product shots, logos) are drawn for a light background, and black would
    hide dark content. 16-bit samples use the full 0..65535 scale their format defines, so a dark
    16-bit photo stays dark; 32-bit integer (I) and float (F) images have no defined scale and are
    stretched from their finite min..max to 0..255. Nothing is clipped.

    The output is filled a strip of rows at a time, so no full-size temporary exists besides it.
    """
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _high_bit_depth_to_rgb(image)
    if mode in _ALPHA_MODES or _has_transparency(image):
        def strip_rgb(strip: Image.Image) -> np.ndarray:
            rgba = strip.convert("LA").convert("RGBA") if mode == "La" else strip.convert("RGBA")
            return _composite_on_white(np.asarray(rgba))
    elif mode in _CONVERTIBLE_MODES:
        def strip_rgb(strip: Image.Image) -> np.ndarray:
            return np.asarray(strip if mode == "RGB" else strip.convert("RGB"))
    else:
        return None
    return _by_strips(image, strip_rgb)


def _strips(width: int, height: int):
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        yield top, min(height, top + rows)


def _by_strips(image: Image.Image, strip_rgb) -> np.ndarray:
    width, height = image.size
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top, bottom in _strips(width, height):
        out[top:bottom] = strip_rgb(image.crop((0, top, width, bottom)))
    return out


def encode_jpeg(rgb: np.ndarray, quality: int, icc_profile: bytes | None = None, exif: bytes | None = None) -> bytes:
    """Encode an upright RGB array as the `{key}.jpg` member. It carries no EXIF (so no reader can
    re-rotate it) unless given one, and an ICC profile only when given."""
    return encode_jpeg_image(Image.fromarray(rgb, mode="RGB"), quality, icc_profile, exif)


def encode_jpeg_image(image: Image.Image, quality: int, icc_profile: bytes | None = None,
                      exif: bytes | None = None) -> bytes:
    """encode_jpeg of an upright RGB Pillow image that carries no info of its source (Pillow's JPEG writer
    copies a `comment` from image.info): the same pixels give the same bytes either way."""
    buffer = io.BytesIO()
    extra = {k: v for k, v in (("icc_profile", icc_profile), ("exif", exif)) if v}
    image.save(buffer, format="JPEG", quality=quality, **extra)
    return buffer.getvalue()


def _icc_for_rgb(icc: bytes | None, source_mode: str, cfg: DecodeConfig) -> bytes | None:
    """The source's ICC profile when it still describes the output: an RGB profile of an RGB source."""
    if not icc or not isinstance(icc, bytes) or len(icc) > cfg.max_icc_bytes and not cfg.keep_metadata:
        return None
    if source_mode not in ("RGB", "RGBA", "RGBX", "RGBa", "P", "PA") or icc[16:20] != b"RGB ":
        return None
    return icc


def _metadata_inventory(info: dict) -> dict[str, int]:
    """Metadata entries Pillow found in the source (EXIF, XMP, comments, PNG text, ...), name -> bytes."""
    found = {}
    for name, value in info.items():
        if name in _PRESENTATION_INFO or not isinstance(name, str):
            continue
        if isinstance(value, (bytes, str)):
            found[name] = len(value)
    return found


def jpeg_frame_marker(data: bytes) -> int | None:
    """The SOFn marker of a JPEG (0xC0 baseline, 0xC2 progressive, ...), found by walking the header
    segments; None when the bytes are not a cleanly structured JPEG header. Pillow does not expose it."""
    if not data.startswith(b"\xff\xd8"):
        return None
    position, end = 2, len(data)
    while position + 4 <= end:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_FRAME_MARKERS:
            return marker
        if marker in (0xDA, 0xD9):  # scan data or end of image before any frame header
            return None
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length field
            position += 2
            continue
        segment_length = int.from_bytes(data[position + 2 : position + 4], "big")
        if segment_length < 2:
            return None
        position += 2 + segment_length
    return None


def _open_checked(data: bytes, cfg: DecodeConfig) -> tuple[Image.Image | None, HeaderInfo | None, str | None,
                                                          list[tuple[int, bytes]] | None]:
    """Open lazily (header only) with the allowed parsers, then apply the limits. The fourth item: a JPEG's
    marker segments, walked once here for the scan count and reused to strip its metadata (None where
    the structure does not walk cleanly, and for other formats)."""
    if not data:
        return None, None, "not_an_image", None
    try:
        image = _pillow_open(io.BytesIO(data), _openable_formats())
    except UnidentifiedImageError:
        return None, None, _unidentified_reason(data), None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None, None, "too_many_pixels", None
    except MemoryError:
        return None, None, "out_of_memory", None
    except Exception as error:  # header parsers raise ValueError, OSError, struct.error, ...
        reason = _load_failure_reason(error)
        if reason in ("truncated", "corrupt") and _sniff_signature(data) is None:
            reason = "not_an_image"  # Pillow's BMP parser takes any "BM..." text, for one
        return None, None, reason, None

    width, height = image.size
    reason, segments = None, None
    if image.format not in _ACCEPTED_REPORTED_FORMATS:
        reason = "unsupported_format"
    elif width <= 0 or height <= 0:
        reason = "zero_size"
    elif width * height > cfg.max_pixels:
        reason = "too_many_pixels"
    elif max(width, height) > cfg.max_side:
        reason = "too_large_side"
    elif image.format == "BMP" and image.info.get("compression") in _RLE_BMP:
        reason = "unsupported_compression"
    elif image.format in ("JPEG", "MPO"):
        segments = jpeg_segments(data)
        if count_jpeg_scans(data, MAX_JPEG_SCANS, segments) > MAX_JPEG_SCANS:
            reason = "too_many_scans"
    if reason is not None:
        image.close()
        return None, None, reason, None

    n_frames = getattr(image, "n_frames", 1) if image.format in _FRAME_COUNT_IN_HEADER else None
    if image.format in ("JPEG", "BMP"):
        n_frames = 1
    header = HeaderInfo(format=image.format, width=width, height=height, mode=image.mode, n_frames=n_frames)
    return image, header, None, segments


@functools.cache
def _openable_formats() -> tuple[str, ...]:
    """ALLOWED_FORMATS this Pillow build can decode: Image.open raises KeyError for an unregistered
    name, and an AVIF/WebP plugin without its codec would misreport good files as corrupt."""
    Image.init()  # Pillow's own lazy plugin registration, done once up front
    return tuple(
        name
        for name in ALLOWED_FORMATS
        if name in Image.OPEN and (name not in _OPTIONAL_CODECS or features.check_module(_OPTIONAL_CODECS[name]))
    )


def _pillow_open(fp, formats: tuple[str, ...]) -> Image.Image:
    """Pillow's own Image.open. Importing ultralytics replaces PIL.Image.open process-wide with a wrapper
    that, on the first unidentified image, tries to pip-install and import pi-heif: untrusted bytes must
    never trigger an install, and our reasons must not depend on what else was imported first."""
    patches = sys.modules.get("ultralytics.utils.patches")
    original = getattr(patches, "_image_open", None) if patches is not None else None
    return (original or Image.open)(fp, formats=formats)


def _unidentified_reason(data: bytes) -> str:
    """Pillow could not identify the bytes: tell a broken image from a non-image by its signature."""
    signature = _sniff_signature(data)
    if signature is None:
        return "not_an_image"
    if signature not in _openable_formats():
        return "unsupported_format"
    declared = _declared_size(data, signature)
    if declared is not None and 0 in declared:
        return "zero_size"
    return "corrupt"


def _sniff_signature(data: bytes) -> str | None:
    """Name the format from its magic bytes, for classifying files Pillow (as restricted) refuses."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if head[4:8] == b"ftyp":
        brands = {head[i : i + 4] for i in range(8, min(len(head), int.from_bytes(head[:4], "big")), 4)}
        if brands & {b"avif", b"avis"}:
            return "AVIF"
        if brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}:
            return "HEIF"
        return None
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JPEG2000"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "JXL"
    if head.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return "EPS"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")):
        return "ICO"
    if b"<svg" in data[:1024].lower() and b"<html" not in data[:1024].lower():
        return "SVG"
    return None


def _declared_size(data: bytes, signature: str) -> tuple[int, int] | None:
    """Width and height straight from a PNG IHDR or GIF screen descriptor (Pillow refuses a 0 side)."""
    if signature == "PNG" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if signature == "GIF" and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return None


def _load_failure_reason(error: BaseException) -> str:
    """Map a Pillow failure to a reason; messages are Pillow's own and stable across recent versions."""
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "too_many_pixels"
    if isinstance(error, MemoryError):
        return "out_of_memory"
    message = str(error).lower()
    if isinstance(error, ValueError) and "max_text" in message:  # MAX_TEXT_CHUNK / MAX_TEXT_MEMORY
        return "metadata_too_large"
    if isinstance(error, EOFError) or "truncated" in message:
        return "truncated"
    if "out of memory" in message:
        return "out_of_memory"
    return "corrupt"


def _exif_orientation(image: Image.Image) -> tuple[int | None, str | None]:
    """The EXIF orientation (1 when absent), or (None, what went wrong) when the block is unreadable."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception as error:
        return None, _describe(error)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        return None, f"invalid orientation {orientation!r}"
    return orientation, None


def _is_animated(image: Image.Image, header: HeaderInfo) -> bool:
    """Whether frames follow the first. Asked after the pixels are copied out, because GIF answers
    by seeking, which resets the frame already loaded."""
    if header.n_frames is not None:
        return header.n_frames > 1
    try:
        return bool(getattr(image, "is_animated", False))
    except Exception:  # a broken second frame: we only use the first
        return False


def _has_transparency(image: Image.Image) -> bool:
    """tRNS-style transparency: a colour key or palette alpha, not an alpha channel."""
    if "transparency" in image.info:
        return True
    return image.mode == "P" and image.palette is not None and image.palette.mode == "RGBA"


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend RGBA onto an opaque white background, rounding to nearest (fits uint16: at most 65152)."""
    colour = rgba[..., :3].astype(np.uint16)
    alpha = rgba[..., 3:4].astype(np.uint16)
    blended = (colour * alpha + 255 * (255 - alpha) + 127) // 255
    return blended.astype(np.uint8)


def _high_bit_depth_to_rgb(image: Image.Image) -> np.ndarray:
    """16-bit on its full scale, I/F stretched over their finite range; colour-key transparency kept.
    Two passes over strips (range, then scaling), so no float64 copy of the whole image exists."""
    width, height = image.size
    transparent_value = image.info.get("transparency")
    keyed = isinstance(transparent_value, (int, float)) and not isinstance(transparent_value, bool)
    sixteen = image.mode in _SIXTEEN_BIT_MODES

    def strip_values(top: int, bottom: int) -> np.ndarray:
        return np.asarray(image.crop((0, top, width, bottom)))

    low = high = None
    if not sixteen:
        for top, bottom in _strips(width, height):
            values = strip_values(top, bottom).astype(np.float64)
            finite = values[np.isfinite(values)]
            if finite.size:
                low = finite.min() if low is None else min(low, finite.min())
                high = finite.max() if high is None else max(high, finite.max())
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top, bottom in _strips(width, height):
        values = strip_values(top, bottom)
        if sixteen:
            gray = ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        else:
            gray = _stretch_to_uint8(values.astype(np.float64), low, high)
        out[top:bottom] = gray[..., None]
        if keyed:
            out[top:bottom][values == transparent_value] = 255
    return out


def _stretch_to_uint8(values: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """Linear low..high (the finite range) to 0..255; NaN and -inf go to 0, +inf to 255."""
    finite = np.isfinite(values)
    if low is None:
        return np.where(values == np.inf, 255, 0).astype(np.uint8)
    span = high - low
    scaled = (values - low) * (255.0 / span) if span > 0 else np.zeros_like(values)
    scaled = np.where(finite, scaled, np.where(values == np.inf, 255.0, 0.0))
    return np.rint(scaled).astype(np.uint8)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:200]
