"""Stand-in for xtcocotools on a machine where it cannot be installed (bench/gpu_run.py puts it on the path only
then). mmpose 1.1 imports COCO, COCOeval and mask at import time for dataset loading and evaluation; top-down
inference never calls them, so every name here raises if anything does."""


class _Unavailable:
    def __init__(self, *args, **kwargs):
        raise ImportError("xtcocotools is not installed: bench/gpu_shims stands in for imports only")
