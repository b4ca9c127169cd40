"""Sorting the files attached to a chat message: the photo to edit, masks, references.

The rules, in order (the chat tells the user how each file was taken):
  1. a file that is not an image is left out, with a note;
  2. a file named like `mask.png` / `scribble.jpg`, a black-and-white image, or a copy
     of the photo with red paint on it is a mask;
  3. of the other images, the first is the photo to edit and the rest are references
     ("reference 1", "reference 2", ...) -- unless the message calls them references
     and there is already a photo, then all of them are references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MASK_NAME = re.compile(r"(mask|scribble|matte|selection)", re.IGNORECASE)
REFERENCE_WORDS = re.compile(r"\b(references?|as (?:a )?guide|like (?:this|these)|this style)\b",
                             re.IGNORECASE)
# A small copy is enough to judge what kind of image a file is.
PROBE_SIDE = 256


@dataclass
class Upload:
    name: str
    path: Path


@dataclass
class Attachments:
    photo: Upload | None = None
    masks: list[Upload] = field(default_factory=list)
    references: list[Upload] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # one line per file: how it was taken

    @property
    def empty(self) -> bool:
        return self.photo is None and not self.masks and not self.references


def sort_attachments(uploads: list[Upload], text: str = "",
                     current: Image.Image | None = None) -> Attachments:
    """Decide what each attached file is; `current` is the image being edited, if any."""
    result = Attachments()
    notes: dict[int, str] = {}  # by position, so the notes read in the order of the files
    masks: list[tuple[int, Upload]] = []  # in file order: 'mask 1', 'mask 2', ...
    candidates: list[tuple[int, Upload, Image.Image]] = []
    for index, upload in enumerate(uploads):
        probe = _probe(upload.path)
        if probe is None:
            notes[index] = f"{upload.name}: not an image I can read, left out"
        elif is_black_and_white(probe):
            masks.append((index, upload))
            notes[index] = f"{upload.name}: mask"
        else:
            candidates.append((index, upload, probe))

    # A scribble is judged against the photo it was painted on: the new photo, else the current one.
    photos: list[tuple[int, Upload]] = []
    first_photo: Image.Image | None = None
    for index, upload, probe in candidates:
        base = first_photo if first_photo is not None else current
        if base is not None and is_scribble(probe, base):
            masks.append((index, upload))
            notes[index] = f"{upload.name}: scribble (the red paint marks the region)"
        elif MASK_NAME.search(upload.name):  # taken at its word
            masks.append((index, upload))
            notes[index] = f"{upload.name}: mask (by its name)"
        else:
            photos.append((index, upload))
            first_photo = probe if first_photo is None else first_photo

    all_references = current is not None and bool(REFERENCE_WORDS.search(text or ""))
    for position, (index, upload) in enumerate(photos):
        if position == 0 and not all_references:
            result.photo = upload
            notes[index] = f"{upload.name}: the photo to edit"
        else:
            result.references.append(upload)
            notes[index] = f"{upload.name}: reference {len(result.references)}"
    result.masks = [upload for _index, upload in sorted(masks, key=lambda item: item[0])]
    result.notes = [notes[index] for index in sorted(notes)]
    return result


def _probe(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            full_size = image.size
            image.draft("RGB", (PROBE_SIDE, PROBE_SIDE))  # JPEG: decode at reduced size
            probe = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    probe.info["full_size"] = full_size
    probe.thumbnail((PROBE_SIDE, PROBE_SIDE), Image.Resampling.BILINEAR)
    return probe


def is_black_and_white(image: Image.Image) -> bool:
    """A mask: grey pixels that are nearly all black or white, with some of each.

    A transparent cut-out (a painted layer) counts too: its alpha is the region.
    """
    array = np.asarray(image.convert("RGBA"), np.int16)
    alpha = array[..., 3]
    if alpha.min() < 128 and (alpha > 127).any():
        return True
    rgb = array[..., :3]
    grey = rgb.max(axis=2) - rgb.min(axis=2) <= 12
    extreme = (rgb.mean(axis=2) <= 24) | (rgb.mean(axis=2) >= 231)
    share_extreme = float((grey & extreme).mean())
    white = float((rgb.mean(axis=2) >= 231).mean())
    return share_extreme >= 0.97 and 0.0005 < white < 0.9995


def is_scribble(image: Image.Image, photo: Image.Image) -> bool:
    """A copy of `photo` (same shape) with strokes of red paint on it."""
    full, base_full = image.info.get("full_size", image.size), photo.info.get("full_size", photo.size)
    if abs(full[0] / full[1] - base_full[0] / base_full[1]) > 0.01:
        return False
    base = photo.convert("RGB").resize(image.size, Image.Resampling.BILINEAR)
    a = np.asarray(image.convert("RGB"), np.int16)
    b = np.asarray(base, np.int16)
    red = (a[..., 0] >= 180) & (a[..., 1] <= 90) & (a[..., 2] <= 90)
    changed = np.abs(a - b).max(axis=2) > 40
    painted = red & changed
    if painted.mean() < 0.001:
        return False
    # Outside the paint the two must be the same picture.
    return float(np.abs(a - b)[~painted].mean()) < 12
