"""How attached files are taken: photo, mask, scribble, references, not an image."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from chat_ui.uploads import Upload, is_black_and_white, is_scribble, sort_attachments
from tests.conftest import photo


def save(image: Image.Image, path) -> Upload:
    image.save(path)
    return Upload(path.name, path)


def scribbled(image: Image.Image) -> Image.Image:
    copy = image.convert("RGB").copy()
    ImageDraw.Draw(copy).line([(40, 40), (200, 120), (260, 60)], fill=(255, 0, 0), width=14)
    return copy


def test_first_image_is_the_photo_and_the_rest_references(tmp_path):
    a = save(photo("astronaut"), tmp_path / "a.png")
    b = save(photo("coffee"), tmp_path / "b.jpg")
    c = save(photo("chelsea"), tmp_path / "c.png")
    result = sort_attachments([a, b, c], "put the cat from reference 2 in")
    assert result.photo == a
    assert result.references == [b, c]
    assert result.notes[0] == "a.png: the photo to edit"


def test_mask_by_name_and_by_content(tmp_path):
    mask = Image.new("L", (512, 512), 0)
    mask.paste(255, (100, 100, 200, 200))
    named = save(photo("coffee"), tmp_path / "cup_mask.png")     # named: taken at its word
    plain = save(mask, tmp_path / "region.png")                   # black and white: a mask
    base = save(photo("astronaut"), tmp_path / "astronaut.png")
    result = sort_attachments([base, named, plain], "remove it")
    assert result.photo == base
    assert result.masks == [named, plain]
    assert not result.references


def test_red_scribble_on_a_copy_of_the_photo_is_a_mask(tmp_path):
    original = photo("astronaut")
    base = save(original, tmp_path / "astronaut.png")
    scribble = save(scribbled(original), tmp_path / "edited.png")
    result = sort_attachments([base, scribble], "remove this")
    assert result.photo == base and result.masks == [scribble]
    assert "scribble" in result.notes[-1]


def test_scribble_alone_is_judged_against_the_current_image(tmp_path):
    original = photo("astronaut")
    scribble = save(scribbled(original), tmp_path / "x.jpg")
    result = sort_attachments([scribble], "remove this", current=original)
    assert result.masks == [scribble] and result.photo is None
    # Without a current image the same file is a new photo.
    assert sort_attachments([scribble], "remove this").photo == scribble


def test_references_only_when_said_and_a_photo_exists(tmp_path):
    ref = save(photo("chelsea"), tmp_path / "cat.png")
    result = sort_attachments([ref], "use this as a reference for the style", current=photo("astronaut"))
    assert result.photo is None and result.references == [ref]


def test_a_file_that_is_not_an_image_is_left_out_with_a_note(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    result = sort_attachments([Upload("notes.png", text)], "hi")
    assert result.empty
    assert "not an image" in result.notes[0]


def test_photos_are_not_mistaken_for_masks_or_scribbles():
    for name in ("astronaut", "coffee", "chelsea", "camera", "text"):
        image = photo(name)
        assert not is_black_and_white(image), name
    assert not is_scribble(photo("coffee").resize((512, 512)), photo("astronaut"))
    # A red object in the photo itself is not paint: the copy must differ there.
    assert not is_scribble(photo("astronaut"), photo("astronaut"))
    assert is_black_and_white(Image.fromarray((np.arange(256 * 256).reshape(256, 256) % 7 == 0)
                                              .astype(np.uint8) * 255))
