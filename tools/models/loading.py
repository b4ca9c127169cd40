"""Finding weights on disk and checking them before anything is loaded.

A model source is a local folder or a Hugging Face hub id (org/name) already in the
local cache: nothing is ever downloaded. A folder is loaded only when it is a
diffusers/transformers checkpoint in safetensors, with no custom code: pickle
checkpoints and `auto_map`/custom pipeline classes are refused before any file is
opened by torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ToolError
from tools.models_config import PICKLE_SUFFIXES, REMOTE_CODE_REFUSED


class ModelNotFound(ToolError):
    """The configured weights are not on disk where retouch looked."""


class UnsafeCheckpoint(ToolError):
    """The weights would run code when loaded (pickle, custom code): refused."""


# Libraries whose classes a pipeline's components may come from.
TRUSTED_LIBRARIES = {"diffusers", "transformers", None}


@dataclass(frozen=True)
class Location:
    """Where a source was looked for, and whether something is there."""

    source: str
    path: Path          # the exact folder looked at (the snapshot for a cached hub id)
    found: bool
    detail: str


def default_hf_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _looks_like_hub_id(source: str) -> bool:
    parts = source.split("/")
    return (len(parts) == 2 and all(parts) and not source.startswith((".", "~", "/"))
            and not Path(source).expanduser().exists())


def locate(source: str, cache_dir: Path | None = None) -> Location:
    """Look for `source` on disk without raising: a folder, or a hub id in the HF cache."""
    if not _looks_like_hub_id(source):
        path = Path(source).expanduser().resolve()
        if path.is_dir():
            return Location(source, path, True, "local folder")
        if path.exists():
            return Location(source, path, True, "local file")
        return Location(source, path, False, f"{path} does not exist")
    cache = Path(cache_dir or default_hf_cache()).expanduser()
    repo = cache / ("models--" + source.replace("/", "--"))
    if not repo.is_dir():
        return Location(source, repo, False, f"{source} is not in the Hugging Face cache "
                                             f"(looked for {repo})")
    ref = repo / "refs" / "main"
    snapshots = repo / "snapshots"
    if ref.is_file():
        snapshot = snapshots / ref.read_text().strip()
    else:  # no ref: the newest snapshot
        candidates = sorted(snapshots.glob("*"), key=lambda p: p.stat().st_mtime) if snapshots.is_dir() else []
        snapshot = candidates[-1] if candidates else snapshots
    if not snapshot.is_dir():
        return Location(source, snapshot, False, f"{source} has no downloaded snapshot ({snapshot})")
    return Location(source, snapshot, True, "Hugging Face cache")


def resolve(source: str, cache_dir: Path | None = None, what: str = "model") -> Path:
    """The folder (or file) holding `source`, or ModelNotFound naming the exact path."""
    location = locate(source, cache_dir)
    if not location.found:
        hint = (f"download it first (e.g. `hf download {source}`) or set its path to a local folder"
                if _looks_like_hub_id(source) else "check the path in retouch.toml")
        raise ModelNotFound(f"{what} weights not found: {location.detail}; {hint}")
    return location.path


def _weight_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(safetensors files, pickle files) directly inside `folder`."""
    safe, pickled = [], []
    for path in folder.iterdir() if folder.is_dir() else []:
        name = path.name.lower()
        if name.endswith(".safetensors"):
            safe.append(path)
        elif name.endswith(PICKLE_SUFFIXES):
            pickled.append(path)
    return safe, pickled


def refuse_custom_code(config_path: Path) -> None:
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(config, dict) and ("auto_map" in config or "custom_pipeline" in config):
        raise UnsafeCheckpoint(f"{config_path} asks for custom code (auto_map): {REMOTE_CODE_REFUSED}")


def check_pipeline_folder(folder: Path, expected_classes: tuple[str, ...]) -> dict:
    """Refuse anything but a diffusers pipeline of an expected class with safetensors
    weights and no custom code; returns model_index.json."""
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise ModelNotFound(f"{folder} is not a diffusers pipeline folder (no model_index.json there)")
    index = json.loads(index_path.read_text())
    class_name = index.get("_class_name")
    if isinstance(class_name, list) or class_name not in expected_classes:
        raise ToolError(f"{folder} holds a {class_name} pipeline; expected "
                        f"{' or '.join(expected_classes)}")
    for component, spec in index.items():
        if component.startswith("_") or not isinstance(spec, list) or len(spec) != 2:
            continue
        library = spec[0]
        if library not in TRUSTED_LIBRARIES:
            raise UnsafeCheckpoint(f"{folder}: component '{component}' comes from '{library}': "
                                   f"{REMOTE_CODE_REFUSED}")
        sub = folder / component
        for config_name in ("config.json", "processor_config.json", "tokenizer_config.json"):
            if (sub / config_name).is_file():
                refuse_custom_code(sub / config_name)
        safe, pickled = _weight_files(sub)
        if pickled and not safe:
            raise UnsafeCheckpoint(f"{sub} has only pickle weights ({pickled[0].name}), which can "
                                   f"run arbitrary code when loaded; retouch loads only .safetensors")
    return index


def check_weights_file(path: Path, what: str) -> Path:
    """A single weights file (a LoRA) or a folder holding one: safetensors only."""
    if path.is_file():
        if not path.name.lower().endswith(".safetensors"):
            raise UnsafeCheckpoint(f"{what} {path} is not a .safetensors file; retouch loads only safetensors")
        return path
    safe, pickled = _weight_files(path)
    if not safe:
        found = f" (only pickle files such as {pickled[0].name})" if pickled else ""
        raise ModelNotFound(f"no .safetensors {what} in {path}{found}")
    return path


def model_folder(source: str, cache_dir: Path | None, what: str) -> Path:
    """A transformers model folder, checked: safetensors weights, no custom code."""
    folder = resolve(source, cache_dir, what=what)
    check_weights_file(folder, what)
    for config_name in ("config.json", "preprocessor_config.json", "tokenizer_config.json",
                        "processor_config.json"):
        if (folder / config_name).is_file():
            refuse_custom_code(folder / config_name)
    return folder


def folder_bytes(folder: Path) -> int:
    """Bytes of safetensors under `folder` (following the HF cache's links): a size estimate."""
    total = 0
    for root, _dirs, files in os.walk(folder, followlinks=True):
        for name in files:
            if name.endswith(".safetensors"):
                try:
                    total += (Path(root) / name).stat().st_size
                except OSError:
                    pass
    return total
