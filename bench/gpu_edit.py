"""GPU benchmark of one instruction edit: diffusers' defaults vs retouch's settings.

Builds the real-size FLUX.1 Kontext transformer (and Qwen-Image-Edit's, if memory
and time allow) from their published configs with random weights (no download),
the real VAEs likewise, and times at 1024x1024 with one reference image (the
edited picture):

  - one denoising step (the transformer forward pass over text + output + reference tokens)
  - a full 28-step edit through the real pipeline (VAE encode, 28 steps, VAE decode),
    with precomputed random prompt embeddings standing in for the text encoders

first with diffusers' defaults (bf16, SDPA), then with what retouch's model manager
applies (tools/models/speedups.py: channels-last VAE, cuDNN attention, regional
torch.compile), printing ms/step, the speed-up, peak GPU memory, achieved TFLOP/s
against the GPU's bf16 peak, and how far the optimised output drifts from the default.

    python bench/gpu_edit.py             # on a GPU (well under 10 minutes on an H100/H200)
    python bench/gpu_edit.py --tiny      # anywhere: tiny configs on the CPU, a smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
from pathlib import Path

import torch


def _speedups():
    """tools/models/speedups.py, loaded on its own: it needs only torch, so the benchmark
    runs on a GPU machine that has torch and diffusers but not retouch's other needs."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "models" / "speedups.py"
    spec = importlib.util.spec_from_file_location("retouch_speedups", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


apply_speedups = _speedups().apply_speedups
fast_attention = _speedups().fast_attention

# Published configs (transformer/config.json and vae/config.json of each hub repo).
FLUX_KONTEXT_TRANSFORMER = dict(
    patch_size=1, in_channels=64, num_layers=19, num_single_layers=38, attention_head_dim=128,
    num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768,
    guidance_embeds=True, axes_dims_rope=(16, 56, 56))
FLUX_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=16, block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    layers_per_block=2, norm_num_groups=32, sample_size=1024, scaling_factor=0.3611,
    shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False)
QWEN_IMAGE_TRANSFORMER = dict(
    patch_size=2, in_channels=64, out_channels=16, num_layers=60, attention_head_dim=128,
    num_attention_heads=24, joint_attention_dim=3584, guidance_embeds=False,
    axes_dims_rope=(16, 56, 56))
QWEN_VAE = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                temperal_downsample=[False, True, True])

# Tiny stand-ins for --tiny (CPU smoke test of this script).
TINY = {
    "flux": (dict(patch_size=1, in_channels=8, num_layers=1, num_single_layers=1,
                  attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                  pooled_projection_dim=32, guidance_embeds=True, axes_dims_rope=(4, 4, 8)),
             dict(in_channels=3, out_channels=3, latent_channels=2, block_out_channels=(8, 8),
                  down_block_types=("DownEncoderBlock2D",) * 2,
                  up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1,
                  norm_num_groups=4, sample_size=32, use_quant_conv=False,
                  use_post_quant_conv=False, scaling_factor=0.4, shift_factor=0.06)),
    "qwen": (dict(patch_size=2, in_channels=16, out_channels=4, num_layers=2,
                  attention_head_dim=16, num_attention_heads=3, joint_attention_dim=16,
                  guidance_embeds=False, axes_dims_rope=(8, 4, 4)),
             dict(base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                  temperal_downsample=[False, True, True], latents_mean=[0.0] * 4,
                  latents_std=[1.0] * 4)),
}

# Dense bf16 tensor-core peaks (TFLOP/s) from the vendor's data sheets.
BF16_PEAK = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "RTX 4090": 165.0}

TEXT_TOKENS = 512


def log(message: str) -> None:
    print(message, flush=True)


def bf16_peak(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    name = torch.cuda.get_device_name()
    return next((peak for key, peak in BF16_PEAK.items() if key in name), None)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def new_module(cls, config: dict, device: str, dtype: torch.dtype):
    """A module built straight on the device in its dtype: random weights, no download."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return cls(**config).eval()
    finally:
        torch.set_default_dtype(previous)


def linear_flops(model, call) -> int:
    """FLOPs of every nn.Linear in one `call()` (2 x in x out per token), counted by hooks."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += 2 * inputs[0].numel() // inputs[0].shape[-1] * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    try:
        with torch.inference_mode():
            call()
    finally:
        for handle in handles:
            handle.remove()
    return total


def time_call(call, device: str, repeats: int) -> float:
    """Median seconds of `call()` after one warm-up."""
    with torch.inference_mode():
        call()
        synchronize(device)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            synchronize(device)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def peak_gb(device: str) -> float | None:
    return round(torch.cuda.max_memory_allocated() / 1024**3, 1) if device.startswith("cuda") else None


# ---------------------------------------------------------------------- the two models

def flux_setup(args, device, dtype):
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel

    t_cfg, v_cfg = TINY["flux"] if args.tiny else (FLUX_KONTEXT_TRANSFORMER, FLUX_VAE)
    transformer = new_module(FluxTransformer2DModel, t_cfg, device, dtype)
    vae = new_module(AutoencoderKL, v_cfg, device, dtype)
    pipeline = FluxKontextPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
        vae=vae, text_encoder=None, tokenizer=None, text_encoder_2=None, tokenizer_2=None,
        transformer=transformer)
    pipeline.set_progress_bar_config(disable=True)
    side, text = args.size, args.text_tokens
    g = torch.Generator(device).manual_seed(0)
    prompt_embeds = torch.randn(1, text, t_cfg["joint_attention_dim"], generator=g, device=device, dtype=dtype)
    pooled = torch.randn(1, t_cfg["pooled_projection_dim"], generator=g, device=device, dtype=dtype)
    channels = t_cfg["in_channels"]
    tokens = (side // pipeline.vae_scale_factor // 2) ** 2
    latents = torch.randn(1, 2 * tokens, channels, generator=g, device=device, dtype=dtype)  # output + reference
    ids = torch.zeros(2 * tokens, 3, device=device)
    ids[tokens:, 0] = 1  # the reference image's tokens, as Kontext marks them
    text_ids = torch.zeros(text, 3, device=device)
    step_inputs = dict(hidden_states=latents, encoder_hidden_states=prompt_embeds,
                       pooled_projections=pooled, timestep=torch.full((1,), 0.5, device=device, dtype=dtype),
                       guidance=torch.full((1,), 2.5, device=device, dtype=torch.float32),
                       img_ids=ids, txt_ids=text_ids, return_dict=False)
    edit_inputs = dict(prompt_embeds=prompt_embeds, pooled_prompt_embeds=pooled, height=side,
                       width=side, max_area=side * side, _auto_resize=False, guidance_scale=2.5)
    seq = text + 2 * tokens
    attention_layers = t_cfg["num_layers"] + t_cfg["num_single_layers"]
    inner = t_cfg["num_attention_heads"] * t_cfg["attention_head_dim"]
    return pipeline, step_inputs, edit_inputs, 4 * seq * seq * inner * attention_layers, 1


def qwen_setup(args, device, dtype):
    from diffusers import (AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler,
                           QwenImageEditPipeline, QwenImageTransformer2DModel)

    t_cfg, v_cfg = TINY["qwen"] if args.tiny else (QWEN_IMAGE_TRANSFORMER, QWEN_VAE)
    transformer = new_module(QwenImageTransformer2DModel, t_cfg, device, dtype)
    vae = new_module(AutoencoderKLQwenImage, v_cfg, device, dtype)
    pipeline = QwenImageEditPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=True, base_shift=0.5,
                                                  max_shift=0.9, base_image_seq_len=256,
                                                  max_image_seq_len=8192, time_shift_type="exponential"),
        vae=vae, text_encoder=None, tokenizer=None, processor=None, transformer=transformer)
    pipeline.set_progress_bar_config(disable=True)
    side, text = args.size, args.text_tokens
    g = torch.Generator(device).manual_seed(0)
    embeds = torch.randn(1, text, t_cfg["joint_attention_dim"], generator=g, device=device, dtype=dtype)
    mask = torch.ones(1, text, dtype=torch.long, device=device)
    grid = side // pipeline.vae_scale_factor // 2
    tokens = grid * grid
    latents = torch.randn(1, 2 * tokens, t_cfg["in_channels"], generator=g, device=device, dtype=dtype)
    # An all-ones mask is dropped by the pipeline (no masked attention): the same here.
    step_inputs = dict(hidden_states=latents, encoder_hidden_states=embeds,
                       encoder_hidden_states_mask=None,
                       timestep=torch.full((1,), 0.5, device=device, dtype=dtype),
                       img_shapes=[[(1, grid, grid), (1, grid, grid)]],
                       return_dict=False)
    # The recommended true CFG (scale 4) runs the transformer twice per step.
    edit_inputs = dict(prompt_embeds=embeds, prompt_embeds_mask=mask, negative_prompt_embeds=embeds,
                       negative_prompt_embeds_mask=mask, true_cfg_scale=4.0, height=side, width=side)
    seq = text + 2 * tokens
    inner = t_cfg["num_attention_heads"] * t_cfg["attention_head_dim"]
    return pipeline, step_inputs, edit_inputs, 4 * seq * seq * inner * t_cfg["num_layers"], 2


MODELS = {"flux_kontext": flux_setup, "qwen_image_edit": qwen_setup}


def bench_model(name: str, args, device: str, dtype: torch.dtype, peak: float | None, deadline: float) -> dict:
    from PIL import Image

    log(f"\n== {name}: building from the published config with random weights")
    start = time.perf_counter()
    pipeline, step_inputs, edit_inputs, attention_flops, passes = MODELS[name](args, device, dtype)
    transformer = pipeline.transformer
    params = sum(p.numel() for p in transformer.parameters())
    synchronize(device)
    log(f"   {params / 1e9:.2f} B parameters, built in {time.perf_counter() - start:.1f}s")
    reference = Image.new("RGB", (args.size, args.size), (90, 120, 160))
    step = lambda: transformer(**step_inputs)  # noqa: E731
    flops_per_step = (linear_flops(transformer, step) + attention_flops) * passes
    result = {"model": name, "params_b": round(params / 1e9, 2), "size": args.size,
              "steps": args.steps, "tflop_per_step": round(flops_per_step / 1e12, 1)}

    def measure(label: str, attention=None) -> dict:
        with attention or contextlib.nullcontext():
            return _measure(label)

    def _measure(label: str) -> dict:
        reset_peak(device)
        one = time_call(step, device, args.repeats)
        with torch.inference_mode():
            reference_out = step()[0].float()
        row = {"step_ms": round(one * 1000 * passes, 1)}
        if time.perf_counter() < deadline:
            generator = torch.Generator("cpu").manual_seed(0)
            synchronize(device)
            t0 = time.perf_counter()
            with torch.inference_mode():
                pipeline(image=reference, num_inference_steps=args.steps, generator=generator,
                         output_type="pil", **edit_inputs)
            synchronize(device)
            row["edit_s"] = round(time.perf_counter() - t0, 2)
            row["edit_ms_per_step"] = round(row["edit_s"] * 1000 / args.steps, 1)
        row["peak_gb"] = peak_gb(device)
        row["tflops"] = round(flops_per_step / (one * passes) / 1e12, 1)
        if peak:
            row["of_bf16_peak"] = f"{row['tflops'] / peak:.0%}"
        log(f"   {label:<9} one step {row['step_ms']:>8.1f} ms"
            f"{'  (x%d passes, true CFG)' % passes if passes > 1 else ''}"
            f" | {args.steps}-step edit {row.get('edit_s', '-')} s"
            f" | {row['tflops']} TFLOP/s{' = ' + row['of_bf16_peak'] + ' of bf16 peak' if peak else ''}"
            f" | peak {row['peak_gb']} GB")
        return row, reference_out

    result["defaults"], baseline = measure("defaults")
    if time.perf_counter() > deadline:
        log("   (time budget reached: retouch settings skipped)")
        return result
    start = time.perf_counter()
    applied = apply_speedups(pipeline, compile=device.startswith("cuda") and not args.no_compile)
    if device.startswith("cuda"):
        applied.append("cuDNN attention first")
    try:
        result["retouch"], optimised = measure("retouch", fast_attention(device))
    except Exception as exc:  # a compile failure must not lose the run: measure without it
        log(f"   compiled run failed ({str(exc).splitlines()[0][:160]}); measuring without compile")
        for module in transformer.modules():
            if getattr(module, "_compiled_call_impl", None) is not None:
                module._compiled_call_impl = None
        torch._dynamo.reset()
        applied = [a for a in applied if a != "compiled blocks"]
        result["retouch"], optimised = measure("retouch", fast_attention(device))
    result["retouch"]["applied"] = applied
    result["retouch"]["total_s_incl_compile"] = round(time.perf_counter() - start, 1)
    drift = (optimised - baseline).abs().max().item() / max(baseline.abs().max().item(), 1e-6)
    result["relative_drift"] = round(drift, 4)
    result["speedup_step"] = round(result["defaults"]["step_ms"] / result["retouch"]["step_ms"], 2)
    if "edit_s" in result["defaults"] and "edit_s" in result["retouch"]:
        result["speedup_edit"] = round(result["defaults"]["edit_s"] / result["retouch"]["edit_s"], 2)
    log(f"   applied: {', '.join(applied)}; speed-up one step x{result['speedup_step']}"
        f"{', full edit x' + str(result['speedup_edit']) if 'speedup_edit' in result else ''}"
        f"; output drift {drift:.2%} of its range")
    del pipeline, transformer, step_inputs, edit_inputs
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs on the CPU (smoke test)")
    parser.add_argument("--models", default="flux_kontext,qwen_image_edit")
    parser.add_argument("--size", type=int, default=None, help="image side (default 1024; 64 with --tiny)")
    parser.add_argument("--steps", type=int, default=None, help="edit steps (default 28; 2 with --tiny)")
    parser.add_argument("--repeats", type=int, default=3, help="timed single steps (median)")
    parser.add_argument("--text-tokens", type=int, default=TEXT_TOKENS)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--budget-s", type=float, default=330, help="stop starting new work after this")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    args.size = args.size or (64 if args.tiny else 1024)
    args.steps = args.steps or (2 if args.tiny else 28)
    if args.tiny:
        args.text_tokens = min(args.text_tokens, 16)
    deadline = time.perf_counter() + args.budget_s
    device = "cpu" if args.tiny or not torch.cuda.is_available() else "cuda"
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    if device == "cpu" and not args.tiny:
        log("no GPU here: use --tiny for a CPU smoke test")
        return 2
    peak = bf16_peak(device)
    import diffusers

    log(f"device {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}, torch {torch.__version__}, "
        f"diffusers {diffusers.__version__}, {args.size}x{args.size}, {args.steps} steps, one reference"
        f"{f', bf16 peak {peak:.0f} TFLOP/s' if peak else ''}")
    if device == "cuda":
        a = torch.randn(8192, 8192, device=device, dtype=dtype)
        seconds = time_call(lambda: a @ a, device, 5)
        log(f"bf16 8192^3 matmul: {2 * 8192**3 / seconds / 1e12:.0f} TFLOP/s measured")
        del a
    results = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if time.perf_counter() > deadline:
            log(f"\n== {name}: skipped (time budget reached)")
            continue
        if device == "cuda":
            free = torch.cuda.mem_get_info()[0] / 1024**3
            need = 26 if name == "flux_kontext" else 46
            if free < need:
                log(f"\n== {name}: skipped ({free:.0f} GB free, needs about {need} GB)")
                continue
        try:
            results.append(bench_model(name, args, device, dtype, peak, deadline))
        except torch.OutOfMemoryError:
            log(f"   {name}: out of GPU memory, skipped")
            gc.collect()
            torch.cuda.empty_cache()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    elif os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_edit.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
