"""Deduplication of a finished run: exact (normalised URL, pixel digest of the upright pixels), perceptual (pHash
Hamming distance through multi-index hashing) and semantic (SemDeDup on CLIP embeddings).

Everything here is Ray-free and testable on its own; the Ray wiring of the `humanverse dedup` pass is
humanverse/engine/dedup_ray.py. Nothing is ever deleted from the shards: the pass writes marks under
OUT/dedup/ (humanverse/shards/dedup_marks.py says where) and every reader skips the marked keys by default.
"""
