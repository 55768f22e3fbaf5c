"""IDX files (the MNIST / Fashion-MNIST format), checksums, and the opt-in download.

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes,
a type code, the number of dimensions d, then d big-endian uint32 sizes, then the
data in row-major order, big-endian. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
import zlib
from pathlib import Path

import numpy as np

__all__ = ["MNIST_FILES", "download_mnist", "file_digest", "read_idx", "verify_checksum"]

# IDX type code -> big-endian numpy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: The four files of MNIST and of Fashion-MNIST (same names), without ".gz".
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# MD5 of the official gzipped files (the checksums torchvision publishes).
_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
_MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
}


def _read_bytes(path: Path) -> bytes:
    """File contents, gunzipped if the file starts with the gzip magic bytes."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({err})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a numpy array, checking its header.

    Args:
        path: the file.

    Returns:
        An array of the header's shape and type (native byte order), e.g.
        (60000, 28, 28) uint8 for ``train-images-idx3-ubyte``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: bad magic number, unknown type code, or the data size does not
            match the header (a truncated or padded file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist")
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        magic = data[:4].hex() or "empty file"
        raise ValueError(f"{path}: not an IDX file (bad magic number {magic}; "
                         f"expected 0000TTDD with type TT in {sorted(f'{t:02x}' for t in _IDX_TYPES)})")
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, need {header})")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: size mismatch: header says shape {dims} ({expected} data bytes) "
                         f"but the file holds {len(data) - header}; the file is truncated or corrupt")
    array = np.frombuffer(data, dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file (``algorithm`` as named by :mod:`hashlib`, e.g. "md5", "sha256")."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: str | os.PathLike, expected: str, algorithm: str = "md5") -> None:
    """Raise ``ValueError`` unless the file's digest equals ``expected``.

    Args:
        path: the file.
        expected: the expected hex digest (case-insensitive).
        algorithm: hashlib name of the hash ("md5", "sha256", ...).
    """
    actual = file_digest(path, algorithm)
    if actual != expected.lower():
        raise ValueError(f"{path}: {algorithm} checksum mismatch: got {actual}, expected {expected.lower()}")


def _fetch(url: str, target: Path, md5: str) -> None:
    """Download ``url`` to ``target`` atomically, keeping it only if the MD5 matches."""
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        verify_checksum(partial, md5)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def download_mnist(dest: str | os.PathLike, which: str = "mnist", *,
                   base_url: str | None = None) -> Path:
    """Download the four IDX files of MNIST or Fashion-MNIST, verifying MD5 checksums.

    Never called implicitly by any loader: the network is used only when you call
    this. Files already present with the right checksum are kept; a download whose
    checksum does not match is deleted and raises ``ValueError``.

    Args:
        dest: directory to write into (created if needed).
        which: "mnist" or "fashion".
        base_url: a mirror to use instead of the built-in ones (e.g. "file:///data/").

    Returns:
        ``dest`` as a Path, ready for ``mnist(source=dest)`` / ``fashion_mnist(source=dest)``.
    """
    if which not in _MD5:
        raise ValueError(f"unknown MNIST variant {which!r}; allowed: {', '.join(_MD5)}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    mirrors = (base_url,) if base_url else _MIRRORS[which]
    for name, md5 in _MD5[which].items():
        target = dest / name
        if target.is_file() and file_digest(target) == md5:
            continue
        errors = []
        for mirror in mirrors:
            try:
                _fetch(mirror.rstrip("/") + "/" + name, target, md5)
                break
            except OSError as err:  # network errors; a checksum mismatch raises at once
                errors.append(f"{mirror}: {err}")
        else:
            raise OSError(f"could not download {name}: " + "; ".join(errors))
    return dest
