"""Benchmark of the history store: prints figures, asserts nothing.

    .venv/bin/python bench/store.py [--commits 30] [--versions 10000]

- commit latency on a 1-megapixel photo, median and p95, split into PNG encode,
  sha256, durable blob write and the database transaction;
- the floor: a bare `Image.save` of the same image + fsync, and the ratio of a commit to it;
- `log` latency with 10,000 versions in the session (rows inserted in bulk);
- bytes on disk per version.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.history_view import render_tree  # noqa: E402
from storage import CommitTimings, Operation, Store  # noqa: E402
from storage.blobs import PNG_COMPRESS_LEVEL  # noqa: E402
from storage.models import VersionRow, utcnow  # noqa: E402


def megapixel_photo() -> np.ndarray:
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((1000, 1000), Image.LANCZOS))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def bench_commits(root: Path, commits: int) -> None:
    store = Store(root / "data")
    history = store.session("bench")
    base = megapixel_photo()
    history.import_image(Image.fromarray(base))
    phases = {"encode": [], "hash": [], "write": [], "db": [], "total": []}
    floors = []
    for index in range(commits):
        pixels = base.copy()
        pixels[index % 1000, :, :] = index % 255  # a distinct image every time: no dedup
        image = Image.fromarray(pixels)

        start = time.perf_counter()
        floor_path = root / f"floor-{index}.png"
        with open(floor_path, "wb") as handle:
            image.save(handle, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
            handle.flush()
            os.fsync(handle.fileno())
        floors.append(time.perf_counter() - start)

        timings = CommitTimings()
        start = time.perf_counter()
        history.commit(image, Operation(tool="edit", args={"instruction": "bench"}), timings=timings)
        phases["total"].append(time.perf_counter() - start)
        for name in ("encode", "hash", "write", "db"):
            phases[name].append(getattr(timings, name))

    print(f"commit of a 1-megapixel photo ({commits} commits, PNG compress_level={PNG_COMPRESS_LEVEL})")
    print(f"  {'phase':<30}{'median':>12}{'p95':>12}")
    for name, values in phases.items():
        print(f"  {name:<30}{ms(statistics.median(values)):>12}{ms(percentile(values, 95)):>12}")
    # The floor encodes the same PNG and fsyncs it once: what a commit adds beyond that.
    overhead = [total - floor for total, floor in zip(phases["total"], floors)]
    print(f"  {'floor: Image.save + fsync':<30}{ms(statistics.median(floors)):>12}"
          f"{ms(percentile(floors, 95)):>12}")
    print(f"  commit / floor (same run): {statistics.median(phases['total']) / statistics.median(floors):.2f}x")
    print(f"  overhead beyond PNG encode + one fsync'd write: median "
          f"{ms(statistics.median(overhead))}, p95 {ms(percentile(overhead, 95))}")
    blob_bytes = sum(p.stat().st_size for p in (root / "data" / "blobs").rglob("*.png"))
    versions = len(history.log())
    print(f"  bytes on disk per version: {blob_bytes / versions / 1e6:.2f} MB of PNG blob "
          f"(raw RGB is {base.nbytes / 1e6:.2f} MB)")
    store.close()


def bench_log(root: Path, versions: int) -> None:
    store = Store(root / "log-data")
    history = store.session("big")
    root_version = history.import_image(Image.fromarray(megapixel_photo()[:64, :64]))
    with store.writing() as db:
        parent = db.get(VersionRow, root_version.id)
        session_id = parent.session_id
        parent_id = parent.id
        rows = []
        for index in range(versions - 1):
            rows.append(dict(session_id=session_id, parent_id=None, image_sha256=parent.image_sha256,
                             width=64, height=64, mode="RGB", tool="relight",
                             args={"description": f"step {index}"}, backend="classic",
                             instruction=f"make it warmer {index}", created_at=utcnow()))
        # a long chain with a side branch every 50 versions, like a long refinement session
        for index, row in enumerate(rows):
            row["id"] = parent_id + 1 + index
            row["parent_id"] = (row["id"] - 1) if index % 50 else max(parent_id, row["id"] - 2)
        db.execute(VersionRow.__table__.insert(), rows)
    history.revert(parent_id + versions - 1)
    db_size = sum(path.stat().st_size for path in (root / "log-data").glob("retouch.db*"))
    timings, render_timings = [], []
    for _ in range(7):
        start = time.perf_counter()
        log = history.log()
        timings.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_tree(log, history.current_branch)
        render_timings.append(time.perf_counter() - start)
    print(f"log with {len(log):,} versions")
    print(f"  History.log():        median {ms(statistics.median(timings))}, "
          f"max {ms(max(timings))}")
    print(f"  + render_tree (text): median {ms(statistics.median(render_timings))}")
    print(f"  database bytes per version: {db_size / len(log):.0f} B")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--versions", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("RETOUCH_BENCH_DIR")) as tmp:
        bench_commits(Path(tmp), args.commits)
        bench_log(Path(tmp), args.versions)


if __name__ == "__main__":
    main()
