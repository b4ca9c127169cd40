"""Images across the MCP boundary: arguments in (path, file URL or data URL), PNG content out.

Arguments are turned into what the façade accepts (a path or raw bytes) without
decoding pixels here: `storage.images.load_image` is the one place that validates
and normalises an image, so every front end refuses the same files the same way.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image

from agent.errors import AgentError
from storage import History, Version

# Bigger than any photo a person takes; smaller than what would exhaust memory.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def image_argument(value: str, what: str = "image") -> Path | bytes:
    """A local path, a file:// URL or a `data:image/...;base64,` URL -> a path or the bytes."""
    text = (value or "").strip()
    if not text:
        raise AgentError(f"{what}: empty; give a file path or a data:image/png;base64,... URL")
    if text[:5].lower() == "data:":
        return _data_url_bytes(text, what)
    if text[:7].lower() == "file://":
        text = unquote(urlparse(text).path)
    try:
        path = Path(text).expanduser().resolve()
        is_file = path.is_file()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, unknown ~user, loops
        raise AgentError(f"{what}: '{text[:200]}' is not a usable file path") from None
    if not is_file:
        raise AgentError(f"{what}: {path} does not exist or is not a file (paths are read on "
                         f"the server's disk; send a data URL otherwise)")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise AgentError(f"{what}: {path} is {size / 2**20:.0f} MiB, over the "
                         f"{MAX_UPLOAD_BYTES // 2**20} MiB limit")
    return path


def _data_url_bytes(text: str, what: str) -> bytes:
    header, comma, payload = text.partition(",")
    if not comma or ";base64" not in header.lower():
        raise AgentError(f"{what}: a data URL must look like data:image/png;base64,<data>")
    if len(payload) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise AgentError(f"{what}: the data URL is over the {MAX_UPLOAD_BYTES // 2**20} MiB limit")
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AgentError(f"{what}: the data URL is not valid base64") from None
    if not data:
        raise AgentError(f"{what}: the data URL holds no bytes")
    return data


@dataclass
class EncodedImage:
    png: bytes
    width: int
    height: int
    original_size: tuple[int, int]

    @property
    def downscaled(self) -> bool:
        return (self.width, self.height) != self.original_size

    def describe(self) -> str:
        width, height = self.original_size
        text = f"{width}x{height} PNG"
        if self.downscaled:
            text += f", sent downscaled to {self.width}x{self.height}"
        return text


def version_png(history: History, version: Version, max_bytes: int,
                max_side: int | None = None) -> EncodedImage:
    """A version's image as PNG: the stored blob itself (it is a PNG) when it fits, so the
    common case decodes and encodes nothing; otherwise re-encoded smaller."""
    size = (version.width, version.height)
    if not max_side or max(size) <= max_side:
        data = history.store.blobs.read_bytes(version.image_sha256)
        if len(data) <= max_bytes:
            return EncodedImage(data, version.width, version.height, size)
    return encode_png(history.image(version.id), max_bytes, max_side)


def encode_png(image: Image.Image, max_bytes: int, max_side: int | None = None) -> EncodedImage:
    """PNG bytes of `image`, shrunk to `max_side` if given and until it fits `max_bytes`."""
    if max_side is not None and max_side < 1:
        raise AgentError("max_side must be a positive number of pixels")
    original = image.size
    if max_side and max(image.size) > max_side:
        image = _resized(image, max_side / max(image.size))
    scale = _scale_to_fit(image, max_bytes)
    while True:
        sent = _resized(image, scale) if scale < 1 else image
        buffer = io.BytesIO()
        sent.save(buffer, format="PNG", compress_level=1)  # fastest; 5-10% bigger than the default
        data = buffer.getvalue()
        if len(data) <= max_bytes or max(sent.size) <= 64:
            return EncodedImage(data, sent.width, sent.height, original)
        # PNG size grows about with the pixel count; aim a little under the cap.
        scale *= min(0.9, 0.95 * (max_bytes / len(data)) ** 0.5)


def _scale_to_fit(image: Image.Image, max_bytes: int) -> float:
    """Guess the scale whose PNG fits from a mosaic of full-resolution tiles taken across the
    image: encoding a 12-megapixel photo only to find it too big would cost a second."""
    if image.width * image.height * len(image.getbands()) <= max_bytes:
        return 1.0  # even uncompressed it fits
    tile, grid = 128, 4
    mosaic = Image.new(image.mode, (tile * grid, tile * grid))
    for row in range(grid):
        for column in range(grid):
            left = (image.width - tile) * column // (grid - 1)
            top = (image.height - tile) * row // (grid - 1)
            piece = image.crop((left, top, left + tile, top + tile))
            mosaic.paste(piece, (column * tile, row * tile))
    buffer = io.BytesIO()
    mosaic.save(buffer, format="PNG", compress_level=1)
    estimate = len(buffer.getvalue()) / (mosaic.width * mosaic.height) * image.width * image.height
    return 1.0 if estimate <= max_bytes else (0.9 * max_bytes / estimate) ** 0.5


def _resized(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)
