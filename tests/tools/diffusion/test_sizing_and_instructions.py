"""Working sizes keep the aspect ratio and snap to the model's multiple; instructions name
what to change and what to keep."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tools.diffusion import instructions, sizing
from tools.registry import validate_args


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (4000, 3000), (333, 777), (512, 512)])
def test_working_size_keeps_aspect_and_area(size):
    width, height = sizing.working_size(size, 1024 * 1024, 16)
    assert width % 16 == 0 and height % 16 == 0
    assert abs(width / height - size[0] / size[1]) / (size[0] / size[1]) < 0.03
    assert 0.9 < width * height / 1024**2 < 1.1


def test_working_size_respects_a_minimum_side():
    width, height = sizing.working_size((300, 100), 64 * 64, 16, min_side=64)
    assert min(width, height) >= 64 and width % 16 == 0 and height % 16 == 0


def test_output_maps_back_corner_to_corner():
    # A marker in each corner of the model's output lands in the same corner of the input grid.
    out = np.zeros((48, 80, 3), np.uint8)
    out[:4, :4] = 255
    out[-4:, -4:] = 128
    mapped = np.asarray(sizing.to_input_grid(Image.fromarray(out), (101, 61)))
    assert mapped.shape == (61, 101, 3)
    assert mapped[0, 0, 0] > 200 and mapped[-1, -1, 0] > 100 and mapped[30, 50, 0] == 0


def test_instructions_name_change_and_keep():
    args = validate_args("replace_object", {"target": "the dog", "replacement": "a ginger cat"})
    text = instructions.instruction("replace_object", args, instructions.Phrasing())
    assert "Replace the dog with a ginger cat" in text and "Keep everything else" in text
    terse = instructions.instruction("replace_object", args, instructions.Phrasing(terse=True))
    assert terse == "turn the dog into a ginger cat"


def test_multi_image_instructions_refer_to_pictures_by_position():
    args = validate_args("try_on", {"garment_reference": "reference 2", "target": "the man",
                                    "references": ["reference 1", "reference 2"]})
    names = instructions.reference_names("try_on", args)
    assert names == ["reference 2", "reference 1"]
    text = instructions.instruction("try_on", args, instructions.Phrasing(image_word="Picture"), names)
    assert "the man in Picture 1 in the garment from Picture 2" in text
