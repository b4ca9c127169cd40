"""Pictures the chat shows: the version tree, before/after, a mask overlay, previews.

Pure Pillow, no Chainlit: each function takes images (or versions and a way to
load their thumbnails) and returns an image, so they are easy to test and reuse.
"""

from __future__ import annotations

import io
from collections import OrderedDict, defaultdict
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps


# Colours chosen to read on Chainlit's light and dark themes alike.
BACKGROUND = (30, 32, 38)
CARD = (48, 51, 60)
TEXT = (232, 234, 240)
MUTED = (160, 165, 178)
EDGE = (120, 126, 140)
ACCENT = (255, 170, 40)       # the head of the current branch
BRANCH = (90, 170, 255)       # other branch heads
MASK_TINT = (255, 40, 40)

PREVIEW_SIDE = 1024           # longest side of images sent to the browser
# Arguments that are bookkeeping (which stored mask or reference was used), not the edit.
QUIET_ARGS = {"assets", "mask", "references"}


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()


def preview(image: Image.Image, side: int = PREVIEW_SIDE) -> Image.Image:
    """A copy no larger than `side` on its longest edge (the browser needs no more)."""
    image = image.convert("RGBA") if image.mode in ("RGBA", "LA", "P") else image.convert("RGB")
    if max(image.size) <= side:
        return image
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


class Thumbnails:
    """Reduced copies of version images (tree thumbnails, chat previews), kept in
    memory by content hash (LRU), so one cache serves every session of the process.
    """

    def __init__(self, size: int = 112, capacity: int = 512):
        self.size = size
        self.capacity = capacity
        self._cache: OrderedDict[str, Image.Image] = OrderedDict()

    def get(self, version, load: Callable[[int], Image.Image]) -> Image.Image:
        key = version.image_sha256
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        image = load(version.id).convert("RGB")
        image.thumbnail((self.size, self.size), Image.Resampling.LANCZOS)
        self._cache[key] = image
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return image


def caption(version) -> tuple[str, str]:
    """(what, detail) of a version for captions: ("remove_object", "flag"), ("import", "a.png")."""
    args = version.args or {}
    if version.tool == "import":
        return "import", str(args.get("source") or "").rsplit("/", 1)[-1]
    detail = ", ".join(str(value) for key, value in args.items()
                       if key not in QUIET_ARGS and value not in (None, "", [], {}))
    return version.tool, detail


def caption_text(version, limit: int = 60) -> str:
    """"remove_object (flag)": a version in a sentence."""
    what, detail = caption(version)
    return _fit(f"{what} ({detail})" if detail else what, limit)


# ----- the version tree -------------------------------------------------------------

def tree_layout(versions: Sequence) -> dict[int, tuple[int, int]]:
    """Version id -> (column, row): a column per generation, a row per line of history.

    The first child continues its parent's row; every further child (a branch, or
    an edit made after an undo) opens a new row below everything drawn so far.
    """
    children: dict[int | None, list] = defaultdict(list)
    known = {version.id for version in versions}
    for version in versions:
        parent = version.parent_id if version.parent_id in known else None
        children[parent].append(version)
    positions: dict[int, tuple[int, int]] = {}
    next_row = 0
    # Iterative walk: a long chain must not hit the recursion limit.
    stack = [(root, 0, None) for root in reversed(children[None])]
    while stack:
        version, column, row = stack.pop()
        if row is None:
            row = next_row
            next_row += 1
        positions[version.id] = (column, row)
        kids = children.get(version.id, [])
        for index in reversed(range(len(kids))):
            stack.append((kids[index], column + 1, row if index == 0 else None))
    return positions


def tree_picture(versions: Sequence, current_branch: str, thumbnails: Thumbnails,
                 load: Callable[[int], Image.Image], max_versions: int = 40) -> Image.Image:
    """The version tree as a picture: thumbnails, edges, branch names, the head marked."""
    if not versions:
        return _message_card("No versions yet: upload a photo to start.")
    shown = list(versions)[-max_versions:]
    hidden = len(versions) - len(shown)
    positions = tree_layout(shown)
    by_id = {version.id: version for version in shown}
    thumb = thumbnails.size
    cell_w, cell_h = thumb + 64, thumb + 84
    margin, top = 24, 56
    columns = max(column for column, _ in positions.values()) + 1
    rows = max(row for _, row in positions.values()) + 1
    width = max(margin * 2 + columns * cell_w, 420)
    height = top + rows * cell_h + margin
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title = f"History · on branch {current_branch} · {len(versions)} version(s)"
    if hidden:
        title += f" (latest {len(shown)} shown)"
    draw.text((margin, 18), title, fill=TEXT, font=font(18))

    def box(version_id: int) -> tuple[int, int, int, int]:
        column, row = positions[version_id]
        x = margin + column * cell_w
        y = top + row * cell_h
        return x, y, x + thumb, y + thumb

    for version in shown:  # edges first, so thumbnails sit on top of them
        if version.parent_id not in by_id:
            continue
        px0, py0, px1, py1 = box(version.parent_id)
        cx0, cy0, cx1, cy1 = box(version.id)
        start = (px1, (py0 + py1) // 2)
        end = (cx0, (cy0 + cy1) // 2)
        if start[1] == end[1]:
            draw.line([start, end], fill=EDGE, width=3)
        else:  # down the parent's right side, then across into the child
            elbow = (px1 + (cx0 - px1) // 2, start[1])
            draw.line([start, elbow, (elbow[0], end[1]), end], fill=EDGE, width=3, joint="curve")

    head_id = next((v.id for v in shown if current_branch in v.branches), None)
    for version in shown:
        x0, y0, x1, y1 = box(version.id)
        image = thumbnails.get(version, load)
        frame = (x0 - 4, y0 - 4, x1 + 4, y1 + 4)
        colour = ACCENT if version.id == head_id else (BRANCH if version.branches else CARD)
        draw.rounded_rectangle(frame, radius=6, fill=CARD, outline=colour,
                               width=4 if version.branches else 2)
        canvas.paste(image, (x0 + (thumb - image.width) // 2, y0 + (thumb - image.height) // 2))
        what, detail = caption(version)
        draw.text((x0 - 2, y1 + 8), _fit(f"v{version.id} {what}", 21), fill=TEXT, font=font(13))
        if detail:
            draw.text((x0 - 2, y1 + 25), _fit(detail, 22), fill=MUTED, font=font(12))
        if version.branches:
            names = ", ".join(("▶ " if name == current_branch else "") + name
                              for name in version.branches)
            draw.text((x0 - 2, y1 + 42), _fit(names, 21), font=font(13),
                      fill=ACCENT if version.id == head_id else BRANCH)
        if version.id == head_id:
            _badge(draw, (x1 - 2, y0 - 10), "HEAD")
    return canvas


def _badge(draw: ImageDraw.ImageDraw, right_top: tuple[int, int], text: str) -> None:
    small = font(12)
    width = int(draw.textlength(text, font=small)) + 10
    x1, y0 = right_top
    draw.rounded_rectangle((x1 - width, y0, x1, y0 + 18), radius=4, fill=ACCENT)
    draw.text((x1 - width + 5, y0 + 2), text, fill=(20, 20, 20), font=small)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message_card(text: str) -> Image.Image:
    canvas = Image.new("RGB", (520, 80), BACKGROUND)
    ImageDraw.Draw(canvas).text((20, 28), text, fill=TEXT, font=font(16))
    return canvas


# ----- comparisons ------------------------------------------------------------------

def side_by_side(images: Sequence[Image.Image], labels: Sequence[str],
                 height: int = 420, gap: int = 12) -> Image.Image:
    """Images scaled to one height, next to each other, each with its label above."""
    scaled = []
    for image in images:
        image = image.convert("RGB")
        width = max(1, round(image.width * height / image.height))
        scaled.append(image.resize((width, height), Image.Resampling.LANCZOS))
    label_h = 34
    total_w = sum(image.width for image in scaled) + gap * (len(scaled) + 1)
    canvas = Image.new("RGB", (total_w, height + label_h + gap), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    x = gap
    label_font = font(18)
    for image, label in zip(scaled, labels):
        while len(label) > 1 and draw.textlength(label, font=label_font) > image.width:
            label = label[:-2] + "…"  # cut to the image's width, never over its neighbour
        draw.text((x, 8), label, fill=TEXT, font=label_font)
        canvas.paste(image, (x, label_h))
        x += image.width + gap
    return canvas


# ----- masks ------------------------------------------------------------------------

def mask_overlay(image: Image.Image, mask: Image.Image) -> Image.Image:
    """The photo with the masked region tinted red and outlined, the rest dimmed."""
    base = preview(image).convert("RGB")  # drawn at preview size: the browser shows no more
    region = mask.convert("L").resize(base.size, Image.Resampling.NEAREST)
    selected = np.asarray(region) > 127
    pixels = np.asarray(base).astype(np.float32)
    tint = np.array(MASK_TINT, dtype=np.float32)
    out = pixels * 0.45  # dim what stays untouched
    out[selected] = pixels[selected] * 0.5 + tint * 0.5
    overlay = Image.fromarray(out.clip(0, 255).astype(np.uint8), "RGB")
    # Outline: the region grown by a few pixels minus the region itself.
    width = max(3, round(max(base.size) / 200)) | 1
    grown = region.point(lambda value: 255 if value > 127 else 0).filter(ImageFilter.MaxFilter(width))
    edge = ImageOps.invert(region.point(lambda value: 255 if value > 127 else 0))
    outline = Image.fromarray(np.minimum(np.asarray(grown), np.asarray(edge)), "L")
    overlay.paste(Image.new("RGB", base.size, (255, 255, 255)), (0, 0), outline)
    return overlay


def describe_mask(mask: Image.Image) -> str:
    """'the region covers 12% of the image, around x 40-60%, y 10-35%' (what we understood)."""
    selected = np.asarray(mask.convert("L")) > 127
    share = selected.mean()
    if not selected.any():
        return "the mask is empty: nothing is selected"
    ys, xs = np.nonzero(selected)
    height, width = selected.shape
    return (f"the region covers {share:.0%} of the image, "
            f"x {xs.min() / width:.0%}–{(xs.max() + 1) / width:.0%}, "
            f"y {ys.min() / height:.0%}–{(ys.max() + 1) / height:.0%} (from the top left)")
