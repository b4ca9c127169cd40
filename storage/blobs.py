"""Content-addressed image blobs on disk: blobs/ab/<sha256>.png.

A blob is written to a temporary file, fsynced, then renamed into place (and the
folder fsynced), so a blob path either holds the complete bytes or does not exist.
Identical images are stored once.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

# Level 1 encodes several times faster than Pillow's default 6 for ~10-20% more bytes:
# commits sit on the interactive path, disk is cheap.
PNG_COMPRESS_LEVEL = 1


@dataclass
class BlobTimings:
    """Where a blob write spent its time, in seconds (read by bench/store.py)."""

    encode: float = 0.0
    hash: float = 0.0
    write: float = 0.0


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


class BlobStore:
    # Decoded images kept in memory: the next step of a chain reads the image the
    # previous step just wrote, and decoding a 1 MP PNG costs ~30 ms.
    RECENT_IMAGES = 4

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._recent: OrderedDict[str, Image.Image] = OrderedDict()
        self._recent_lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.png"

    def put_image(self, image: Image.Image, timings: BlobTimings | None = None) -> str:
        """Store an image as PNG and return its sha256. Durable when this returns."""
        timings = timings or BlobTimings()
        start = time.perf_counter()
        data = encode_png(image)
        timings.encode = time.perf_counter() - start
        sha = self.put_bytes(data, timings)
        self._remember(sha, image.copy())
        return sha

    def put_bytes(self, data: bytes, timings: BlobTimings | None = None) -> str:
        timings = timings or BlobTimings()
        start = time.perf_counter()
        sha = hashlib.sha256(data).hexdigest()
        timings.hash = time.perf_counter() - start
        start = time.perf_counter()
        target = self.path(sha)
        if not target.exists():
            _write_durably(target, data)
        timings.write = time.perf_counter() - start
        return sha

    def open(self, sha256: str) -> Image.Image:
        """The blob's image, decoded; callers get their own copy to change as they like."""
        with self._recent_lock:
            cached = self._recent.get(sha256)
            if cached is not None:
                self._recent.move_to_end(sha256)
        if cached is not None:
            return cached.copy()
        with Image.open(self.path(sha256)) as image:
            image.load()
        self._remember(sha256, image.copy())
        return image

    def _remember(self, sha256: str, image: Image.Image) -> None:
        with self._recent_lock:
            self._recent[sha256] = image
            self._recent.move_to_end(sha256)
            while len(self._recent) > self.RECENT_IMAGES:
                self._recent.popitem(last=False)

    def read_bytes(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def _write_durably(target: Path, data: bytes) -> None:
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform (Windows)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
