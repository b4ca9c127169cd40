"""Fixtures shared by every room's tests: real photos, a real data dir, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def photo(name: str = "astronaut") -> Image.Image:
    """A real photo shipped with scikit-image: astronaut, coffee, chelsea, rocket, ..."""
    from skimage import data

    array = getattr(data, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return Image.fromarray(array[..., :3].astype(np.uint8), "RGB")


@pytest.fixture
def photo_path(tmp_path) -> Path:
    path = tmp_path / "astronaut.png"
    photo("astronaut").save(path)
    return path


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def store(data_dir):
    from storage import Store

    store = Store(data_dir)
    yield store
    store.close()


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(data_dir):
    """Run `retouch ...` as a user would, in a child process, on the test's data dir."""

    def run(*args: str, check: bool = True, env: dict | None = None, timeout: float = 300) -> CliResult:
        full_env = {**os.environ, "RETOUCH_DATA_DIR": str(data_dir),
                    "PYTHONPATH": str(REPO), **(env or {})}
        done = subprocess.run([sys.executable, "-m", "agent.cli", *map(str, args)],
                              capture_output=True, text=True, env=full_env, timeout=timeout,
                              cwd=REPO, stdin=subprocess.DEVNULL)
        result = CliResult(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"retouch {' '.join(map(str, args))} failed: {done.stderr}")
        return result

    return run
