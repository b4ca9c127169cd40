"""Bad input is refused with a clear error and changes nothing; odd modes convert predictably."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from storage import ImageError, Store, load_image
from tests.conftest import photo


@pytest.fixture
def history(store):
    return store.session("images")


def png_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=params.pop("format", "PNG"), **params)
    return buffer.getvalue()


def assert_nothing_recorded(store, history):
    assert history.log() == []
    assert not list((store.data_dir / "blobs").rglob("*.png"))


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"this is a text file, not a picture\n" * 20, "not an image"),
    (png_bytes(photo("coffee"))[:5000], "truncated or corrupt"),
    (png_bytes(photo("coffee"), format="JPEG")[:3000], "truncated or corrupt"),
])
def test_bad_files_are_refused_and_change_nothing(store, history, tmp_path, content, reason):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason):
        history.import_image(path)
    assert_nothing_recorded(store, history)


def test_missing_file(history, tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        history.import_image(tmp_path / "nope.png")


def test_decompression_bomb_is_refused_before_decoding(tmp_path, data_dir):
    # A 1-bit 20000x20000 PNG is tiny on disk but 400 megapixels when decoded.
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path, optimize=True)
    assert path.stat().st_size < 200_000
    store = Store(data_dir)
    with pytest.raises(ImageError, match="over the limit"):
        store.session().import_image(path)
    assert_nothing_recorded(store, store.session())


def test_pixel_limit_is_configurable(tmp_path, data_dir):
    path = tmp_path / "photo.png"
    photo("coffee").save(path)  # 400x600 = 240,000 pixels
    with pytest.raises(ImageError, match="RETOUCH_MAX_PIXELS"):
        Store(data_dir, max_pixels=100_000).session().import_image(path)
    assert Store(data_dir, max_pixels=300_000).session().import_image(path).width == 600


def test_exif_orientation_is_applied(history, tmp_path):
    image = photo("coffee")  # 600 wide, 400 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif.tobytes(), quality=95)
    version = history.import_image(path)
    assert (version.width, version.height) == (400, 600)


def test_cmyk_becomes_rgb(history, tmp_path):
    path = tmp_path / "cmyk.jpg"
    photo("coffee").convert("CMYK").save(path)
    version = history.import_image(path)
    assert version.mode == "RGB"


def test_palette_with_transparency_keeps_alpha(history, tmp_path):
    image = Image.new("P", (32, 32), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    image.paste(0, (0, 0, 16, 32))
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)
    version = history.import_image(path)
    assert version.mode == "RGBA"
    pixels = np.asarray(history.image(version.id))
    assert pixels[0, 0, 3] == 0 and tuple(pixels[0, 31]) == (255, 0, 0, 255)


def test_palette_without_transparency_becomes_rgb(history, tmp_path):
    path = tmp_path / "palette.gif"
    photo("coffee").convert("P").save(path)
    assert history.import_image(path).mode == "RGB"


def test_rgba_alpha_is_kept(history, tmp_path):
    rgba = photo("coffee").convert("RGBA")
    alpha = np.full((400, 600), 255, np.uint8)
    alpha[:, :100] = 0
    rgba.putalpha(Image.fromarray(alpha))
    path = tmp_path / "alpha.png"
    rgba.save(path)
    stored = np.asarray(history.image(history.import_image(path).id))
    assert stored.shape == (400, 600, 4)
    assert np.array_equal(stored[..., 3], alpha)


def test_sixteen_bit_greyscale_scales_to_eight_bits(history, tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    version = history.import_image(path)
    pixels = np.asarray(history.image(version.id))
    assert version.mode == "RGB"
    assert pixels[0, 0, 0] == 0 and pixels[0, -1, 0] == 255
    assert abs(int(pixels[0, 128, 0]) - 128) <= 1


def test_greyscale_becomes_rgb(history, tmp_path):
    path = tmp_path / "grey.png"
    photo("coffee").convert("L").save(path)
    assert history.import_image(path).mode == "RGB"


def test_load_image_accepts_bytes_and_pil():
    data = png_bytes(photo("coffee"))
    assert load_image(data).size == (600, 400)
    assert load_image(photo("coffee").convert("L")).mode == "RGB"
    with pytest.raises(ImageError, match="over the limit"):
        load_image(data, max_pixels=1000)
