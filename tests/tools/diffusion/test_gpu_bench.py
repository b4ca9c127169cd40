"""bench/gpu_edit.py stays runnable: its --tiny mode on the CPU (FLUX.1 Kontext only: the
Qwen path encodes a 1 MP image even when tiny, too slow for the suite; it ran on the GPU)."""

from __future__ import annotations

import importlib.util
import json

from tests.conftest import REPO


def test_gpu_benchmark_runs_tiny_on_cpu(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_edit", REPO / "bench" / "gpu_edit.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "figures.json"
    assert bench.main(["--tiny", "--models", "flux_kontext", "--repeats", "1", "--json", str(out)]) == 0
    figures = {row["model"]: row for row in json.loads(out.read_text())}
    assert set(figures) == {"flux_kontext"}
    for row in figures.values():
        assert row["defaults"]["step_ms"] > 0 and row["retouch"]["step_ms"] > 0
        assert row["defaults"]["edit_s"] > 0 and row["speedup_step"] > 0
        assert row["relative_drift"] < 1e-3  # on the CPU the settings change nothing
