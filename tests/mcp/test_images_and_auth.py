"""The MCP server's small parts, in process: image arguments, PNG content, the token rules."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from agent.errors import AgentError
from agent.mcp.auth import check_binding, is_loopback
from agent.mcp.images import encode_png, image_argument, version_png
from tests.conftest import photo


def test_image_arguments_accept_paths_file_urls_and_data_urls(photo_path):
    assert image_argument(str(photo_path)) == photo_path.resolve()
    assert image_argument(f"file://{photo_path}") == photo_path.resolve()
    encoded = base64.b64encode(photo_path.read_bytes()).decode()
    assert image_argument(f"data:image/png;base64,{encoded}") == photo_path.read_bytes()
    # Line breaks inside the base64 text (as some clients wrap it) are fine.
    wrapped = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    assert image_argument(f"data:image/png;base64,{wrapped}") == photo_path.read_bytes()


@pytest.mark.parametrize("value, message", [
    ("", "empty"),
    ("/no/such/file.png", "does not exist"),
    ("data:image/png,rawtext", "must look like data:image/png;base64"),
    ("data:image/png;base64,***", "not valid base64"),
    ("data:image/png;base64,", "holds no bytes"),
    ("bad\0path.png", "not a usable file path"),
])
def test_bad_image_arguments_say_what_is_wrong(value, message):
    with pytest.raises(AgentError, match=message):
        image_argument(value, "mask")


def test_png_content_keeps_pixels_and_shrinks_only_when_it_must():
    image = photo("coffee")  # 600x400
    exact = encode_png(image, max_bytes=10_000_000)
    assert not exact.downscaled
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(exact.png))), np.asarray(image))

    small = encode_png(image, max_bytes=10_000_000, max_side=150)
    assert (small.width, small.height) == (150, 100) and "downscaled to 150x100" in small.describe()

    capped = encode_png(image, max_bytes=60_000)
    assert len(capped.png) <= 60_000 and capped.downscaled
    assert abs(capped.width / capped.height - 1.5) < 0.02  # the aspect ratio is kept


def test_a_stored_version_is_sent_as_its_own_png(store, photo_path):
    history = store.session("png")
    version = history.import_image(photo_path)
    sent = version_png(history, version, max_bytes=10_000_000)
    assert sent.png == store.blobs.read_bytes(version.image_sha256)
    thumbnail = version_png(history, version, max_bytes=10_000_000, max_side=64)
    assert max(thumbnail.width, thumbnail.height) == 64


def test_loopback_and_token_rules():
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host)
    for host in ("0.0.0.0", "192.168.1.20", "::", "example.org"):
        assert not is_loopback(host)
    check_binding("127.0.0.1", None)
    check_binding("0.0.0.0", "secret")
    with pytest.raises(AgentError, match="set RETOUCH_MCP_TOKEN"):
        check_binding("0.0.0.0", None)
