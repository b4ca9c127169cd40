"""Edit-tool timings on a 1-megapixel real photo, classic backend, CPU.

    .venv/bin/python bench/tools.py [--runs N]

Prints the median time of each classic operation (through Toolbox.run, so the
compositing step is included) and of the compositing step alone.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.classic import ClassicBackend  # noqa: E402
from tools.classic.subject import SubjectFinder  # noqa: E402
from tools.compositing import composite_result  # noqa: E402
from tools.masks import mask_from_box  # noqa: E402
from tools.registry import EditContext, EditResult, Toolbox  # noqa: E402


def photo_1mp() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)


def median_ms(action, runs: int) -> float:
    action()  # warm-up: first-use loading (the U²-Netp session) is not a per-edit cost
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    image = photo_1mp()
    mask = mask_from_box((740, 0, 960, 640), image.size)   # the shuttle model, ~13% of the frame
    toolbox = Toolbox([ClassicBackend()])
    grabcut = Toolbox([ClassicBackend(SubjectFinder(use_model=False))])
    cases = [
        ("remove_object (mask 13%)", toolbox, "remove_object", {"target": "rocket"}, mask),
        ("replace_background studio grey, U²-Netp", toolbox, "replace_background", {"description": "studio grey"}, None),
        ("replace_background sunset, GrabCut", grabcut, "replace_background", {"description": "sunset"}, None),
        ("replace_background blurred, U²-Netp", toolbox, "replace_background", {"description": "blurred"}, None),
        ("relight golden hour from the left", toolbox, "relight", {"description": "golden hour from the left"}, None),
        ("relight night", toolbox, "relight", {"description": "night"}, None),
        *[(f"style_transfer {style}", toolbox, "style_transfer", {"style": style}, None)
          for style in ("pencil sketch", "colour pencil", "watercolour", "cartoon", "oil painting",
                        "black-and-white film", "sepia")],
        ("change_camera zoom in 2x", toolbox, "change_camera", {"description": "zoom in 2x"}, None),
        ("change_camera zoom out 1.5x", toolbox, "change_camera", {"description": "zoom out 1.5x"}, None),
        ("change_camera rotate 5 degrees", toolbox, "change_camera", {"description": "rotate 5 degrees"}, None),
        ("change_camera mirror", toolbox, "change_camera", {"description": "mirror"}, None),
    ]
    print(f"classic backend, {image.width}x{image.height} photo (astronaut), median of {runs} runs")
    for label, box, name, args, region in cases:
        ms = median_ms(lambda: box.run(name, image, args, EditContext(mask=region, seed=0)), runs)
        print(f"  {label:<44} {ms:8.1f} ms")

    # The compositing step alone, on a re-encoded result (the drift an edit model leaves).
    edited = np.asarray(image).copy()
    edited[200:600, 300:700] = (255, 64, 0)
    buffer = io.BytesIO()
    Image.fromarray(edited).save(buffer, format="JPEG", quality=88)
    drifted = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    region = mask_from_box((300, 200, 700, 600), image.size)
    print("compositing step (1024x1024)")
    for label, given in (("given mask", region), ("measured difference", None)):
        ms = median_ms(lambda: composite_result(image, EditResult(drifted, "bench"), True, given), runs * 4)
        print(f"  {label:<44} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
