"""The fetch path's decode (decode_image, keep_pixels=False: checks, digest, `{key}.jpg`) per photo, with the
sha256 and the xxh3_128 pixel digest interleaved in one process: CPU time per photo of each definition, and of
the digest alone (the same packed bytes hashed on their own), over the shared photos.

    PYTHONPATH=$PWD .venv/bin/python bench/pixel_digest_ab.py [--rounds 5]

One thread; CPU time (time.process_time) rather than wall time, so other work on the cores matters less."""

from __future__ import annotations

import argparse
import statistics
import time

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import DEFINITIONS, image_pixel_digest


def cpu_ms(fn, items) -> float:
    started = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - started) * 1e3 / len(items)


def main() -> None:
    import io

    from PIL import Image

    import photos

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data = [p.read_bytes() for p in photos.photos()]
    cfg = DecodeConfig()
    images = []
    for blob in data:
        with Image.open(io.BytesIO(blob)) as im:
            images.append(im.convert("RGB"))
    decode = {d: [] for d in DEFINITIONS}
    digest = {d: [] for d in DEFINITIONS}
    for _ in range(args.rounds):
        for d in DEFINITIONS:  # interleaved: each round measures both
            decode[d].append(cpu_ms(lambda b, d=d: decode_image(b, cfg, keep_pixels=False, digest_definition=d), data))
            digest[d].append(cpu_ms(lambda im, d=d: image_pixel_digest(im, d), images))
    mpx = statistics.mean(im.width * im.height for im in images) / 1e6
    print(f"{len(data)} photos, mean {mpx:.2f} Mpx; median of {args.rounds} interleaved rounds, CPU ms per photo:")
    for d in DEFINITIONS:
        print(f"  {d:9s} decode_image(keep_pixels=False) {statistics.median(decode[d]):6.2f}   "
              f"digest alone (pack + hash) {statistics.median(digest[d]):5.2f}")


if __name__ == "__main__":
    main()
