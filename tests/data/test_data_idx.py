"""IDX reader (raw, gzipped, corrupt, truncated), checksums and the opt-in download."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from genlab.data import download_mnist, file_digest, read_idx, verify_checksum
from genlab.data import idx as idx_module

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as IDX, written independently of the reader (struct, big-endian)."""
    header = struct.pack(">BBBB", 0, 0, _CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_round_trip(tmp_path, gz, dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(7, 5, 3)) * 50).astype(dtype)
    out = read_idx(write_idx(tmp_path / "a-idx3", array, gz))
    assert out.shape == (7, 5, 3) and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, array)


def test_read_idx_hand_checked_bytes(tmp_path):
    # labels 1, 2, 258 as int16: header 00 00 0B 01, dim 3, then big-endian data
    raw = bytes.fromhex("00000b01" "00000003" "0001" "0002" "0102")
    (tmp_path / "f").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), [1, 2, 258])


@pytest.mark.parametrize("byte, value, message", [
    (0, 0x12, "bad magic number"),  # the two leading bytes must be zero
    (2, 0x07, "magic"),  # unknown element type code
])
def test_bad_header_byte(tmp_path, byte, value, message):
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[byte] = value
    (tmp_path / "bad").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=message):
        read_idx(tmp_path / "bad")


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("delta", [-1, -50, 3])
def test_size_mismatch(tmp_path, gz, delta):
    data = idx_bytes(np.arange(100, dtype=np.uint8).reshape(4, 5, 5))
    data = data[:delta] if delta < 0 else data + b"\0" * delta
    (tmp_path / "f").write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match="size mismatch"):
        read_idx(tmp_path / "f")


def test_truncated_header_and_empty_file(tmp_path):
    (tmp_path / "h").write_bytes(idx_bytes(np.zeros((2, 3, 4), np.uint8))[:10])
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(tmp_path / "h")
    (tmp_path / "e").write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        read_idx(tmp_path / "e")


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    (tmp_path / "f.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(tmp_path / "f.gz")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_idx(tmp_path / "nope")


def test_file_digest_known_vectors(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "abc").write_bytes(b"abc")
    assert file_digest(tmp_path / "empty") == "d41d8cd98f00b204e9800998ecf8427e"  # RFC 1321
    assert file_digest(tmp_path / "abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert file_digest(tmp_path / "abc", "sha256") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2


def test_verify_checksum(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    verify_checksum(tmp_path / "abc", "900150983CD24FB0D6963F7D28E17F72")  # case-insensitive
    with pytest.raises(ValueError, match="checksum mismatch"):
        verify_checksum(tmp_path / "abc", "d41d8cd98f00b204e9800998ecf8427e")
    (tmp_path / "abc").write_bytes(b"abd")  # one corrupted byte
    with pytest.raises(ValueError, match="md5 checksum mismatch"):
        verify_checksum(tmp_path / "abc", "900150983cd24fb0d6963f7d28e17f72")


def _local_mirror(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    sums = {}
    for i, name in enumerate(idx_module.MNIST_FILES):
        path = write_idx(mirror / (name + ".gz"), np.full((3,), i, np.uint8), gz=True)
        sums[path.name] = file_digest(path)
    return mirror, sums


def test_download_from_local_mirror_verifies_checksums(tmp_path, monkeypatch):
    mirror, sums = _local_mirror(tmp_path)
    monkeypatch.setitem(idx_module._MD5, "mnist", sums)
    dest = download_mnist(tmp_path / "dest", base_url=mirror.as_uri())
    assert sorted(p.name for p in dest.iterdir()) == sorted(sums)
    np.testing.assert_array_equal(read_idx(dest / "t10k-images-idx3-ubyte.gz"), [2, 2, 2])


def test_download_rejects_bad_checksum_and_keeps_nothing(tmp_path, monkeypatch):
    mirror, sums = _local_mirror(tmp_path)
    sums["train-images-idx3-ubyte.gz"] = "0" * 32
    monkeypatch.setitem(idx_module._MD5, "mnist", sums)
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_mnist(tmp_path / "dest", base_url=mirror.as_uri())
    assert list((tmp_path / "dest").iterdir()) == []  # no partial or unverified file left


def test_download_unknown_variant(tmp_path):
    with pytest.raises(ValueError, match="allowed: mnist, fashion"):
        download_mnist(tmp_path, which="kmnist")
