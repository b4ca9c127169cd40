"""Working sizes for edit models, and mapping their output back onto the input's pixels.

Edit pipelines want about one megapixel in multiples of 16 (or 8, 32) and, left to
themselves, snap to a preset list of sizes, which crops, zooms and shifts the
picture. Here the whole frame is resized (never cropped) to the multiple-of-N size
nearest the input's aspect ratio at the model's area, and the output is resized
back to the input's exact size: corner maps to corner, so the result lines up
pixel for pixel with the input for the compositing step.
"""

from __future__ import annotations

import math

from PIL import Image


def working_size(size: tuple[int, int], area: int, multiple: int,
                 min_side: int = 0) -> tuple[int, int]:
    """(width, height) of about `area` pixels, multiples of `multiple`, closest to size's
    aspect, each side at least `min_side`."""
    width, height = size
    ratio = width / height
    ideal_width = math.sqrt(area * ratio)
    ideal_height = ideal_width / ratio
    shortest = min(ideal_width, ideal_height)
    if shortest < min_side:  # grow the area until the short side fits
        ideal_width, ideal_height = (ideal_width * min_side / shortest,
                                     ideal_height * min_side / shortest)
        multiple_up = lambda value: math.ceil(value / multiple) * multiple  # noqa: E731
        return multiple_up(ideal_width), multiple_up(ideal_height)
    return (max(multiple, round(ideal_width / multiple) * multiple),
            max(multiple, round(ideal_height / multiple) * multiple))


def to_working(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    image = image.convert("RGB")
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def mask_to_working(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    mask = mask.convert("L")
    return mask if mask.size == size else mask.resize(size, Image.Resampling.BILINEAR)


def to_input_grid(output: Image.Image, input_size: tuple[int, int]) -> Image.Image:
    """The model's output stretched back over the input's exact pixel grid."""
    output = output.convert("RGB")
    return output if output.size == input_size else output.resize(input_size, Image.Resampling.LANCZOS)
