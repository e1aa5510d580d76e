from xtcocotools import _Unavailable


def __getattr__(name):  # encode, decode, frPyObjects, ...: raise on use
    def unavailable(*args, **kwargs):
        _Unavailable()

    return unavailable
