"""What the agent adds to each step, next to the time the edit tool itself takes.

    python bench/agent_overhead.py [--runs 3] [--size 1024]

Runs a three-step request through RetouchSession.send on a real photo (skimage's
astronaut, resized to SIZE x SIZE) with the classic backend, and splits the time
from the event timestamps and the versions' recorded tool durations:
  plan       request sent -> "planned" (planner, reference resolution, checkpoint)
  tool       the operation inside Toolbox.run (Version.duration_s)
  step rest  the rest of a step: loading the head, the commit (blob + DB), events
             (the PNG decode + encode part of it is measured on its own too)
  between    one step's commit -> the next step's start (graph loop + checkpoint)
  reply      last commit -> "reply"
Medians over the runs; each run uses a fresh session in a temporary data dir.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

REQUEST = "make it warmer, then make it look like a pencil sketch, then zoom in a bit"


def one_run(size: int, data_dir: Path, name: str) -> dict:
    from skimage import data
    from PIL import Image

    from agent.config import load_settings
    from agent.session import RetouchSession

    session = RetouchSession(name, load_settings(data_dir=data_dir))
    session.history.import_image(Image.fromarray(data.astronaut()).resize((size, size)))
    session.toolbox  # build the backends before timing, as a running app has them
    stamps: list[tuple[float, object]] = []
    start = time.perf_counter()
    for event in session.send(REQUEST):
        stamps.append((time.perf_counter(), event))
    planned = next(t for t, e in stamps if e.kind == "planned")
    started = [t for t, e in stamps if e.kind == "started"]
    done = [(t, e) for t, e in stamps if e.kind == "committed"]
    reply = next(t for t, e in stamps if e.kind == "reply")
    tools = [e.version["duration_s"] for _, e in done]
    # The store's share of a step: decoding the head it starts from, storing the result.
    from storage.blobs import encode_png

    head = session.history.head()
    t0 = time.perf_counter()
    image = session.history.image(head.id)
    t1 = time.perf_counter()
    encode_png(image)
    t2 = time.perf_counter()
    walls = [t - s for s, (t, _) in zip(started, done)]
    return {
        "plan_ms": (planned - start) * 1000,
        "tool_ms": [x * 1000 for x in tools],
        "step_rest_ms": [(w - x) * 1000 for w, x in zip(walls, tools)],
        "between_ms": [(s - t) * 1000 for (t, _), s in zip(done, started[1:])],
        "reply_ms": (reply - done[-1][0]) * 1000,
        "total_ms": (reply - start) * 1000,
        "tools": [e.tool for _, e in done],
        "png_ms": ((t1 - t0) + (t2 - t1)) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=1024, help="photo side in pixels")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="retouch-bench-") as tmp:
        runs = [one_run(args.size, Path(tmp), f"run-{n}") for n in range(args.runs)]
    med = statistics.median
    print(f"request: {REQUEST!r} on a {args.size}x{args.size} photo, classic backend, "
          f"median of {args.runs} runs")
    print(f"plan:  {med(r['plan_ms'] for r in runs):7.1f} ms")
    for index, tool in enumerate(runs[0]["tools"]):
        tool_ms = med(r["tool_ms"][index] for r in runs)
        rest_ms = med(r["step_rest_ms"][index] for r in runs)
        print(f"step {index + 1} {tool:<16} tool {tool_ms:7.1f} ms   agent+store {rest_ms:6.1f} ms")
    between = [x for r in runs for x in r["between_ms"]]
    print(f"between steps (graph loop, checkpoint): {med(between):5.1f} ms")
    print(f"reply: {med(r['reply_ms'] for r in runs):6.1f} ms   total: "
          f"{med(r['total_ms'] for r in runs):7.1f} ms")
    tool_total = med(sum(r["tool_ms"]) for r in runs)
    overhead = med(r["total_ms"] - sum(r["tool_ms"]) for r in runs)
    per_step = overhead / len(runs[0]["tools"])
    png = med(r["png_ms"] for r in runs)
    print(f"tools {tool_total:.0f} ms vs everything else {overhead:.0f} ms ({per_step:.0f} ms per "
          f"step, of which the store's PNG decode + encode of a {args.size}px image is ~{png:.0f} ms;"
          f" the agent itself ~{per_step - png:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
