"""A process killed mid-commit leaves a consistent history; two processes committing to
one session at once both succeed or one fails cleanly, never a corrupted branch head."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
from PIL import Image

from storage import Operation, Store
from tests.conftest import REPO, photo

COMMIT_LOOP = textwrap.dedent("""
    import sys, numpy as np
    from PIL import Image
    from storage import ConflictError, Operation, Store
    data_dir, session, mode, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    history = Store(data_dir).session(session)
    base = np.asarray(history.image(history.head().id))
    rng = np.random.default_rng()
    done = conflicts = 0
    print("ready", flush=True)
    for index in range(count):
        pixels = base.copy()
        pixels[rng.integers(0, pixels.shape[0]), :, :] = rng.integers(0, 255)  # a new image each time
        image = Image.fromarray(pixels)
        if mode == "stale-parent":
            parent = history.head().id
            try:
                history.commit(image, Operation(tool="edit", args={"i": index}), parent_id=parent)
                done += 1
            except ConflictError:
                conflicts += 1
        else:
            history.commit(image, Operation(tool="edit", args={"i": index}))
            done += 1
    print(f"done {done} {conflicts}", flush=True)
""")


def start_committer(data_dir, session, mode="head", count=100_000):
    return subprocess.Popen(
        [sys.executable, "-c", COMMIT_LOOP, str(data_dir), session, mode, str(count)],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def assert_consistent(store: Store, session: str) -> list:
    history = store.session(session)
    versions = history.log()
    ids = {v.id for v in versions}
    for version in versions:
        blob = store.blobs.path(version.image_sha256)
        assert blob.is_file(), f"version {version.id} lost its image"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == version.image_sha256
        assert version.parent_id is None or version.parent_id in ids
    for name, head in history.branches().items():
        assert head in ids, f"branch {name} points at a missing version"
        history.ancestry(head)  # the chain down to the root is whole
    with Image.open(store.blobs.path(history.head().image_sha256)) as image:
        image.load()
    return versions


def test_kill_mid_commit_loop_leaves_history_consistent(data_dir):
    store = Store(data_dir)
    store.session("crash").import_image(photo("coffee").resize((96, 64)))
    rng = random.Random(1234)
    seen = 1
    for _ in range(12):
        child = start_committer(data_dir, "crash")
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        versions = assert_consistent(Store(data_dir), "crash")
        assert len(versions) >= seen  # nothing committed earlier disappears
        seen = len(versions)
    assert seen > 12, "the children should have committed between kills"
    # and the history still takes new commits
    history = Store(data_dir).session("crash")
    head = history.head()
    child = history.commit(photo("coffee").resize((96, 64)), Operation(tool="edit"))
    assert child.parent_id == head.id


def test_two_processes_committing_on_head_both_succeed(data_dir):
    store = Store(data_dir)
    root = store.session("race").import_image(photo("coffee").resize((64, 48)))
    children = [start_committer(data_dir, "race", "head", 25) for _ in range(2)]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    versions = assert_consistent(Store(data_dir), "race")
    assert len(versions) == 51
    # every commit went on top of the one before: a single unbroken chain
    chain = Store(data_dir).session("race").ancestry(Store(data_dir).session("race").head().id)
    assert len(chain) == 51 and chain[0].id == root.id


def test_two_processes_with_stale_parents_fail_cleanly(data_dir):
    store = Store(data_dir)
    store.session("race").import_image(photo("coffee").resize((64, 48)))
    children = [start_committer(data_dir, "race", "stale-parent", 25) for _ in range(2)]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    succeeded = sum(int(out.split()[-2]) for out in outputs)
    versions = assert_consistent(Store(data_dir), "race")
    assert len(versions) == succeeded + 1  # a failed commit leaves no version behind
    history = Store(data_dir).session("race")
    assert len(history.ancestry(history.head().id)) == len(versions)
