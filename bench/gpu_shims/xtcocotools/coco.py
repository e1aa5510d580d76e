from xtcocotools import _Unavailable as COCO  # noqa: F401
