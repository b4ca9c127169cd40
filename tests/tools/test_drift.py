"""Drift-free chaining: after 10 chained local edits on a real photo, every pixel outside
all the edited regions is bit-identical to the original."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from agent.apply import apply_operation
from tests.conftest import photo
from tools.classic import ClassicBackend
from tools.compositing import FEATHER, GROW
from tools.masks import grow, mask_from_box
from tools.registry import EditContext, EditResult, Toolbox, validate_args

BOXES = [(20, 20, 70, 60), (400, 30, 460, 90), (230, 60, 270, 100), (60, 300, 120, 360),
         (430, 420, 490, 480), (300, 380, 340, 430), (150, 200, 190, 240), (350, 250, 390, 290),
         (30, 440, 80, 500), (250, 470, 300, 505)]
# How far an edit may reach past its mask: the inpainting margin, then grow + feather.
REACH = 3 + GROW + 2 * FEATHER + 1


def _outside_all(boxes, size) -> np.ndarray:
    reach = np.zeros(size[::-1], bool)
    for box in boxes:
        reach |= grow(mask_from_box(box, size), REACH) > 0
    return ~reach


def test_ten_chained_classic_edits_leave_everything_else_bit_identical(store, photo_path):
    history = store.session("drift")
    root = history.import_image(photo_path)
    toolbox = Toolbox([ClassicBackend()])
    for step, box in enumerate(BOXES):
        apply_operation(history, toolbox, "remove_object", {"target": f"spot {step}"},
                        mask=mask_from_box(box, (512, 512)), seed=step)
    head = history.head()
    assert len(history.ancestry(head.id)) == 11
    original, final = np.asarray(history.image(root.id)), np.asarray(history.image(head.id))
    outside = _outside_all(BOXES, (512, 512))
    assert outside.mean() > 0.6
    assert np.array_equal(final[outside], original[outside])
    for box in BOXES:                          # and every edit really happened
        x0, y0, x1, y1 = box
        assert np.abs(final[y0:y1, x0:x1].astype(int) - original[y0:y1, x0:x1]).mean() > 3


class ReencodingBackend:
    """An edit model's habit, for real: it does the edit asked ("paint x0,y0,x1,y1 orange")
    and returns the whole picture through a lossy encoder, as diffusion models do through
    their VAE, so pixels it was not asked to touch drift a little every step."""

    name = "reencoding"

    def supports(self, operation: str) -> bool:
        return operation == "edit"

    def describe(self) -> dict:
        return {"name": self.name, "available": True, "operations": ["edit"], "models": []}

    def run(self, operation, image, args, ctx: EditContext) -> EditResult:
        x0, y0, x1, y1 = (int(v) for v in args.instruction.split()[1].split(","))
        pixels = np.asarray(image).copy()
        pixels[y0:y1, x0:x1] = (255, 64, 0)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=88)
        return EditResult(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), self.name)


def test_ten_reencoding_edits_drift_without_compositing_and_not_with_it():
    original = photo("astronaut")
    backend = ReencodingBackend()
    toolbox = Toolbox([backend])
    raw = composited = original
    for step, box in enumerate(BOXES):
        args = {"instruction": f"paint {','.join(map(str, box))} orange"}
        raw = backend.run("edit", raw, validate_args("edit", args), EditContext()).image
        # Half the steps come with a mask; in the others the tool measures what changed.
        ctx = EditContext(mask=mask_from_box(box, original.size)) if step % 2 == 0 else EditContext()
        composited = toolbox.run("edit", composited, args, ctx).image
    outside = _outside_all(BOXES, original.size)
    before = np.asarray(original)
    drift = np.abs(np.asarray(raw).astype(int) - before)[outside]
    assert drift.mean() > 1.0 and drift.max() > 20          # without compositing it drifts
    assert np.array_equal(np.asarray(composited)[outside], before[outside])
    for x0, y0, x1, y1 in BOXES:                             # and every edit is there
        assert np.abs(np.asarray(composited)[y0 + 2:y1 - 2, x0 + 2:x1 - 2].astype(int) - (255, 64, 0)).mean() < 20

