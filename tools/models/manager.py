"""The model manager: the only code in retouch that touches CUDA.

It owns the device and dtype, loads pipelines lazily on first use (local files,
safetensors, never remote code), keeps them resident between the steps of a chain
and across requests, evicts the least recently used when the memory budget would
be exceeded, optionally offloads to the CPU, and runs one GPU job at a time. A
CUDA out-of-memory error never escapes as a crash: the job is retried once after
freeing other pipelines (and with CPU offload if configured), else it fails with
a clear message and nothing is committed.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import torch

from tools.errors import ToolError
from tools.models import loading
from tools.models.job_queue import JobQueue
from tools.models.speedups import apply_speedups, fast_attention
from tools.models_config import LoraConfig, ModelsConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

# Headroom left to activations when no budget is configured.
DEFAULT_BUDGET_SHARE = 0.85


class OutOfMemory(ToolError):
    """The GPU ran out of memory; the step was not committed."""


@dataclass(frozen=True)
class PipelineSpec:
    """What to load: a diffusers pipeline class from a source, plus LoRAs."""

    key: str                                  # the configured model name
    source: str                               # folder or hub id
    pipeline_class: str                       # diffusers class to load it as
    accepted_classes: tuple[str, ...]         # model_index.json classes that may be loaded so
    loras: tuple[LoraConfig, ...] = ()
    # Components the backend builds itself from the folder (e.g. an image-only processor),
    # passed to from_pretrained ...
    extra_components: Callable[[Path], dict] | None = None
    # ... or, where diffusers' class check cannot accept them, attached after loading.
    attach_components: Callable[[Path], dict] | None = None


@dataclass
class _Resident:
    spec: PipelineSpec
    pipeline: Any
    bytes: int
    offloaded: bool
    variants: dict = field(default_factory=dict)
    load_s: float = 0.0


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def pick_device(name: str = "auto") -> str:
    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(name: str, device: str) -> torch.dtype:
    if name != "auto":
        return getattr(torch, name)
    if device.startswith("cuda"):
        return torch.bfloat16
    if device == "mps":
        return torch.float16
    return torch.float32


def module_bytes(pipeline) -> int:
    """Bytes held by the weights of a pipeline's torch modules."""
    total = 0
    for component in getattr(pipeline, "components", {}).values():
        if isinstance(component, torch.nn.Module):
            total += sum(p.numel() * p.element_size() for p in component.parameters())
            total += sum(b.numel() * b.element_size() for b in component.buffers())
    return total


class ModelManager:
    def __init__(self, device: str = "auto", dtype: str = "auto",
                 memory_budget_gb: float | None = None, offload: str = "none",
                 retry_with_offload: bool = True, hf_cache: Path | None = None,
                 compile: bool = False):
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.offload = offload if self.device.startswith("cuda") else "none"
        self.retry_with_offload = retry_with_offload
        self.hf_cache = hf_cache
        self.compile = compile and self.device.startswith("cuda")
        self.budget_bytes = self._budget(memory_budget_gb)
        self._resident: OrderedDict[str, _Resident] = OrderedDict()
        self._lock = threading.RLock()
        self.queue = JobQueue()

    @classmethod
    def from_config(cls, config: ModelsConfig) -> "ModelManager":
        return cls(device=config.device, dtype=config.dtype,
                   memory_budget_gb=config.memory_budget_gb, offload=config.offload,
                   retry_with_offload=config.retry_with_offload, hf_cache=config.hf_cache,
                   compile=config.compile)

    def _budget(self, gigabytes: float | None) -> int | None:
        if gigabytes is not None:
            return int(gigabytes * 1024**3)
        if self.device.startswith("cuda"):
            index = torch.device(self.device).index or 0
            return int(torch.cuda.get_device_properties(index).total_memory * DEFAULT_BUDGET_SHARE)
        return None  # CPU/MPS: no budget unless configured

    # ------------------------------------------------------------------ residency

    def resident(self) -> list[str]:
        """Names of loaded pipelines, least recently used first."""
        with self._lock:
            return list(self._resident)

    def resident_bytes(self) -> int:
        with self._lock:
            return sum(r.bytes for r in self._resident.values())

    def evict(self, key: str) -> bool:
        with self._lock:
            entry = self._resident.pop(key, None)
        if entry is None:
            return False
        log.info("evicting %s (%.1f GB)", key, entry.bytes / 1024**3)
        del entry
        self._free_memory()
        return True

    def evict_all(self, keep: str | None = None) -> None:
        for key in self.resident():
            if key != keep:
                self.evict(key)

    def _free_memory(self) -> None:
        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    def _make_room(self, needed: int, keep: str | None = None) -> None:
        if self.budget_bytes is None:
            return
        for key in self.resident():  # least recently used first
            if self.resident_bytes() + needed <= self.budget_bytes:
                return
            if key != keep:
                self.evict(key)

    def _pipeline(self, spec: PipelineSpec, variant: str | None = None):
        """The loaded pipeline for `spec` (loading it if needed), optionally re-wrapped as
        the `variant` class (e.g. the inpaint pipeline) sharing the same weights. Called
        only by the job holding the queue, so loads never race; the lock guards the
        residency table only, never a load, so `resident()` always answers at once."""
        with self._lock:
            entry = self._resident.get(spec.key)
        if entry is not None and entry.spec != spec:  # configuration changed: reload
            self.evict(spec.key)
            entry = None
        if entry is None:
            entry = self._load(spec)
            with self._lock:
                self._resident[spec.key] = entry
        with self._lock:
            self._resident.move_to_end(spec.key)
        if variant is None or variant == type(entry.pipeline).__name__:
            return entry.pipeline
        if variant not in entry.variants:
            import diffusers

            # from_pipe casts the shared weights to float32 unless told the dtype.
            entry.variants[variant] = getattr(diffusers, variant).from_pipe(
                entry.pipeline, torch_dtype=self.dtype)
        return entry.variants[variant]

    def _load(self, spec: PipelineSpec) -> _Resident:
        import diffusers

        folder = loading.resolve(spec.source, self.hf_cache, what=spec.key)
        loading.check_pipeline_folder(folder, spec.accepted_classes)
        estimate = loading.folder_bytes(folder)  # on disk; fp32 files loaded in bf16 take half
        self._make_room(0 if self.offload != "none" else estimate)
        start = time.perf_counter()
        extra = spec.extra_components(folder) if spec.extra_components else {}
        attach = spec.attach_components(folder) if spec.attach_components else {}
        pipeline_class = getattr(diffusers, spec.pipeline_class)
        try:
            pipeline = pipeline_class.from_pretrained(
                folder, torch_dtype=self.dtype, local_files_only=True, use_safetensors=True,
                **extra, **{name: None for name in attach})
            if attach:
                pipeline.register_modules(**attach)
        except ToolError:
            raise
        except Exception as exc:  # a broken or mismatched folder: one line, not a traceback
            raise ToolError(f"could not load {spec.key} from {folder}: "
                            f"{type(exc).__name__}: {first_line(exc)}") from exc
        self._load_loras(pipeline, spec)
        pipeline.set_progress_bar_config(disable=True)
        offloaded = self._place(pipeline)
        if self.device.startswith("cuda") and not offloaded:
            apply_speedups(pipeline, compile=self.compile)
        size = module_bytes(pipeline)
        log.info("loaded %s from %s in %.1fs (%.1f GB)", spec.key, folder,
                 time.perf_counter() - start, size / 1024**3)
        return _Resident(spec, pipeline, size, offloaded, load_s=time.perf_counter() - start)

    def _load_loras(self, pipeline, spec: PipelineSpec) -> None:
        if not spec.loras:
            return
        names, weights = [], []
        for lora in spec.loras:
            path = loading.resolve(lora.path, self.hf_cache, what=f"LoRA of {spec.key}")
            loading.check_weights_file(path / lora.weight_name if lora.weight_name else path, "LoRA")
            kwargs = {"weight_name": lora.weight_name} if lora.weight_name else {}
            if path.is_file():
                path, kwargs = path.parent, {"weight_name": path.name}
            try:
                pipeline.load_lora_weights(str(path), adapter_name=lora.adapter_name(),
                                           use_safetensors=True, local_files_only=True, **kwargs)
            except (ValueError, KeyError, OSError, RuntimeError) as exc:
                raise ToolError(f"LoRA {lora.path} does not fit {spec.key}: {first_line(exc)}") from exc
            names.append(lora.adapter_name())
            weights.append(lora.weight)
        pipeline.set_adapters(names, adapter_weights=weights)

    def _place(self, pipeline) -> bool:
        """Move to the device, or set up CPU offload; True when offloaded."""
        if self.offload == "model":
            pipeline.enable_model_cpu_offload(device=self.device)
            return True
        if self.offload == "sequential":
            pipeline.enable_sequential_cpu_offload(device=self.device)
            return True
        pipeline.to(self.device)
        return False

    # ------------------------------------------------------------------ running

    def run(self, spec: PipelineSpec, job: Callable[[Any], T], variant: str | None = None,
            on_wait: Callable[[int], None] | None = None) -> T:
        """Run `job(pipeline)` as the one GPU job; out-of-memory handled here."""
        with self.queue.turn(on_wait), fast_attention(self.device):
            try:
                return job(self._pipeline(spec, variant))
            except torch.OutOfMemoryError:
                pass  # handled below, outside the except block so the failed frames are freed
            self._free_memory()
            others = [key for key in self.resident() if key != spec.key]
            if others:  # first, free the other resident pipelines and try again
                log.warning("out of memory running %s: evicting %s and retrying", spec.key, others)
                self.evict_all(keep=spec.key)
                try:
                    return job(self._pipeline(spec, variant))
                except torch.OutOfMemoryError:
                    pass
                self._free_memory()
            if self.retry_with_offload and self.device.startswith("cuda") and not self._offloaded(spec.key):
                log.warning("out of memory running %s: retrying with CPU offload", spec.key)
                self._offload_now(spec.key)
                try:
                    return job(self._pipeline(spec, variant))
                except torch.OutOfMemoryError:
                    pass
                self._free_memory()
            raise OutOfMemory(self._oom_message(spec))

    def run_module(self, key: str, load: Callable[[], Any], job: Callable[[Any], T]) -> T:
        """Run `job(model)` for a small transformers model (grounding) on the same queue;
        `load()` builds it on first use, the manager places it and keeps it resident."""
        with self.queue.turn():
            with self._lock:
                entry = self._resident.get(key)
            if entry is None:
                try:
                    model = load().eval()
                except ToolError:
                    raise
                except Exception as exc:
                    raise ToolError(f"could not load {key}: {type(exc).__name__}: "
                                    f"{first_line(exc)}") from exc
                size = sum(p.numel() for p in model.parameters()) * torch.finfo(self.dtype).bits // 8
                self._make_room(size, keep=key)
                entry = _Resident(None, model.to(self.device, self.dtype), size, False)
                with self._lock:
                    self._resident[key] = entry
            with self._lock:
                self._resident.move_to_end(key)
            try:
                with torch.inference_mode():
                    return job(entry.pipeline)
            except torch.OutOfMemoryError:
                pass
            self._free_memory()
            raise OutOfMemory(f"the {self.device} device ran out of memory running {key}; "
                              f"the history is unchanged")

    def _offloaded(self, key: str) -> bool:
        with self._lock:
            entry = self._resident.get(key)
            return bool(entry and entry.offloaded)

    def _offload_now(self, key: str) -> None:
        with self._lock:
            entry = self._resident.get(key)
            if entry is None:
                return
            entry.pipeline.enable_model_cpu_offload(device=self.device)
            entry.offloaded = True
            entry.variants.clear()

    def _oom_message(self, spec: PipelineSpec) -> str:
        hints = []
        if self.offload == "none":
            hints.append("set models.offload = \"model\" in retouch.toml")
        hints.append("use a smaller image or a lower models.edit.<name>.resolution")
        return (f"the {self.device} device ran out of memory running {spec.key}; the step was not "
                f"applied and the history is unchanged ({'; or '.join(hints)})")

    def describe(self) -> dict:
        return {
            "device": self.device,
            "dtype": str(self.dtype).removeprefix("torch."),
            "offload": self.offload,
            "memory_budget_gb": None if self.budget_bytes is None else round(self.budget_bytes / 1024**3, 1),
            "resident": self.resident(),
            "compile": self.compile,
        }
