from xtcocotools import _Unavailable as COCOeval  # noqa: F401
