"""Speed settings the model manager applies on CUDA, none of which changes what a model draws:

- the VAE in channels-last memory layout (faster convolutions on tensor cores);
- cuDNN's fused attention kernel first, where the GPU, shapes and masks allow it (on
  Hopper it beats the default flash kernel for these long sequences); torch falls
  back to the next kernel by itself where it does not apply;
- optionally, torch.compile of the denoiser's repeated blocks (regional compilation:
  one compile per block type, seconds instead of minutes, reused by every block).

bench/gpu_edit.py measures these against diffusers' defaults.
"""

from __future__ import annotations

import contextlib
import logging

import torch

log = logging.getLogger(__name__)


def denoiser(pipeline):
    return getattr(pipeline, "transformer", None) or getattr(pipeline, "unet", None)


def apply_speedups(pipeline, compile: bool = False) -> list[str]:
    """Set up a pipeline already on its CUDA device; returns what was applied."""
    applied = []
    vae = getattr(pipeline, "vae", None)
    is_2d = vae is not None and not any(isinstance(m, torch.nn.Conv3d) for m in vae.modules())
    if is_2d:  # video-style VAEs (Qwen-Image's) use 3D convolutions: left as they are
        vae.to(memory_format=torch.channels_last)
        applied.append("channels-last VAE")
    model = denoiser(pipeline)
    if compile and model is not None and hasattr(model, "compile_repeated_blocks"):
        try:
            model.compile_repeated_blocks(fullgraph=True)
            applied.append("compiled blocks")
        except Exception as exc:  # an optimisation, never a requirement
            log.warning("torch.compile skipped: %s", exc)
    return applied


def fast_attention(device: str):
    """Context in which a pipeline call prefers cuDNN attention (CUDA only)."""
    if not device.startswith("cuda"):
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    order = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
             SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    try:
        return sdpa_kernel(order, set_priority=True)
    except TypeError:  # torch without priorities: keep its default order
        return contextlib.nullcontext()
