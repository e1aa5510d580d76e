"""Weight digests are hashed once per file across processes, and again whenever the file changes."""

from __future__ import annotations

import hashlib
import os

import pytest

from humanverse.models import weights_digest


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANVERSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights_digest, "PERSIST_MIN_BYTES", 1)
    monkeypatch.setattr(weights_digest, "_CACHE", {})
    return tmp_path / "cache" / "weights-sha256.json"


def _new_process(monkeypatch):
    """What a fresh process sees: an empty in-memory cache."""
    monkeypatch.setattr(weights_digest, "_CACHE", {})


def test_digest_is_the_files_sha256_and_is_stored(tmp_path, store):
    weights = tmp_path / "model.pth"
    weights.write_bytes(b"w" * 1000)
    assert weights_digest.sha256_file(weights) == hashlib.sha256(b"w" * 1000).hexdigest()
    assert store.exists() and hashlib.sha256(b"w" * 1000).hexdigest() in store.read_text()


def test_a_later_process_reads_the_store_instead_of_hashing(tmp_path, store, monkeypatch):
    weights = tmp_path / "model.pth"
    weights.write_bytes(b"w" * 1000)
    first = weights_digest.sha256_file(weights)
    _new_process(monkeypatch)
    monkeypatch.setattr(weights_digest, "_hash", lambda p: pytest.fail("hashed again"))
    assert weights_digest.sha256_file(weights) == first


def test_a_replaced_file_is_hashed_again(tmp_path, store, monkeypatch):
    weights = tmp_path / "model.pth"
    weights.write_bytes(b"a" * 1000)
    before = weights_digest.sha256_file(weights)
    st = weights.stat()
    weights.write_bytes(b"b" * 1000)  # same size
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    _new_process(monkeypatch)
    after = weights_digest.sha256_file(weights)
    assert after != before and after == hashlib.sha256(b"b" * 1000).hexdigest()


def test_a_torn_store_only_costs_a_rehash(tmp_path, store, monkeypatch):
    weights = tmp_path / "model.pth"
    weights.write_bytes(b"w" * 1000)
    store.parent.mkdir(parents=True)
    store.write_text('{"half a json')
    assert weights_digest.sha256_file(weights) == hashlib.sha256(b"w" * 1000).hexdigest()


def test_small_files_stay_out_of_the_store(tmp_path, store, monkeypatch):
    monkeypatch.setattr(weights_digest, "PERSIST_MIN_BYTES", 10_000)
    weights = tmp_path / "tiny.pth"
    weights.write_bytes(b"w" * 1000)
    weights_digest.sha256_file(weights)
    assert not store.exists()
