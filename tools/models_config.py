"""The configuration of the diffusion models: which edit models exist, where their
weights are, which one serves which operation, and how the GPU is used.

A plain pydantic model: agent/config.py holds one `models: ModelsConfig` field and
passes it down; tools never read settings themselves. In retouch.toml:

    [models]
    default = "kontext"                 # serves every operation it can
    device = "auto"                     # auto | cuda | cuda:1 | mps | cpu
    memory_budget_gb = 60               # resident pipelines are evicted beyond this
    offload = "none"                    # none | model | sequential (small GPUs)

    [models.operations]                 # per-operation overrides
    try_on = "qwen_plus"

    [models.edit.kontext]
    kind = "flux_kontext"
    path = "black-forest-labs/FLUX.1-Kontext-dev"   # a local folder or a hub id in the HF cache

    [[models.edit.kontext.loras]]
    path = "/loras/relight.safetensors"
    weight = 0.8
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Every edit model family retouch can drive (one module each under tools/diffusion/).
EditModelKind = Literal["flux_kontext", "qwen_image_edit", "qwen_image_edit_plus",
                        "instruct_pix2pix", "flux2", "flux2_klein", "longcat_image_edit"]

# Weight formats that unpickle Python objects when loaded: never loaded.
PICKLE_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".pkl", ".pickle")

REMOTE_CODE_REFUSED = ("retouch never runs code shipped with a model (trust_remote_code); "
                       "use a model whose pipeline is part of diffusers")


def _refuse_pickle(path: str, what: str) -> str:
    if path.lower().endswith(PICKLE_SUFFIXES):
        raise ValueError(f"{what} {path} is a pickle checkpoint, which can run arbitrary code "
                         f"when loaded; retouch loads only .safetensors weights")
    return path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_remote_code(cls, data):
        if isinstance(data, dict) and data.get("trust_remote_code"):
            raise ValueError(REMOTE_CODE_REFUSED)
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key != "trust_remote_code"}
        return data


class LoraConfig(_Strict):
    """One LoRA (a .safetensors file, or a folder or hub id holding one) and its weight."""

    path: str
    weight: float = Field(1.0, ge=-4.0, le=4.0, description="Strength of the LoRA")
    weight_name: str | None = Field(None, description="File inside a folder or hub repo")
    name: str | None = Field(None, description="Adapter name; default from the file name")

    @field_validator("path", "weight_name")
    @classmethod
    def _safetensors_only(cls, value: str | None) -> str | None:
        return None if value is None else _refuse_pickle(value, "LoRA")

    def adapter_name(self) -> str:
        if self.name:
            return self.name
        stem = Path(self.weight_name or self.path).name.removesuffix(".safetensors")
        return "".join(ch if ch.isalnum() else "_" for ch in stem) or "lora"


class EditModelConfig(_Strict):
    """One instruction-edit model: its family, where its weights are, and its defaults."""

    kind: EditModelKind
    path: str = Field(description="A diffusers pipeline folder, or a hub id (org/name) "
                                  "already in the local Hugging Face cache")
    steps: int | None = Field(None, gt=0, le=200, description="Denoising steps; default: the model's")
    guidance: float | None = Field(None, ge=0.0, le=30.0, description="Guidance; default: the model's")
    resolution: int | None = Field(None, ge=64, le=4096,
                                   description="Work at about resolution x resolution pixels, "
                                               "keeping the aspect ratio; default: the model's")
    loras: list[LoraConfig] = Field(default_factory=list)
    operations: list[str] | None = Field(None, description="Only these operations; default: all it can do")

    @field_validator("path")
    @classmethod
    def _no_pickle(cls, value: str) -> str:
        return _refuse_pickle(value, "model")


class GroundingConfig(_Strict):
    """Text -> mask, used by remove/replace/background when no mask is given."""

    kind: Literal["clipseg", "grounding_dino_sam"]
    path: str = Field(description="CLIPSeg or Grounding DINO folder or hub id, e.g. "
                                  "CIDAS/clipseg-rd64-refined, IDEA-Research/grounding-dino-base")
    sam_path: str | None = Field(None, description="SAM folder or hub id for grounding_dino_sam, "
                                                   "e.g. facebook/sam-vit-base")
    threshold: float = Field(0.35, gt=0.0, lt=1.0,
                             description="Score above which a pixel (CLIPSeg) or a box (Grounding DINO) counts")
    text_threshold: float = Field(0.25, gt=0.0, lt=1.0, description="Grounding DINO: words' score")

    @field_validator("path", "sam_path")
    @classmethod
    def _no_pickle(cls, value: str | None) -> str | None:
        return None if value is None else _refuse_pickle(value, "grounding model")

    @model_validator(mode="after")
    def _sam_needed(self):
        if self.kind == "grounding_dino_sam" and not self.sam_path:
            raise ValueError("grounding kind grounding_dino_sam needs sam_path (a SAM model)")
        return self


class ModelsConfig(_Strict):
    edit: dict[str, EditModelConfig] = Field(default_factory=dict, description="Edit models by name")
    default: str | None = Field(None, description="The edit model tried first; default: the first listed")
    operations: dict[str, str] = Field(default_factory=dict,
                                       description="Operation -> edit model name that serves it")
    grounding: GroundingConfig | None = None
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    memory_budget_gb: float | None = Field(None, gt=0, description="Default: 85% of the GPU's memory")
    offload: Literal["none", "model", "sequential"] = "none"
    retry_with_offload: bool = Field(True, description="On GPU out-of-memory, retry once with "
                                                       "CPU offload instead of failing")
    hf_cache: Path | None = Field(None, description="Hugging Face cache folder; default: HF_HUB_CACHE")
    compile: bool = Field(False, description="torch.compile the denoiser's repeated blocks (CUDA)")

    @model_validator(mode="after")
    def _names_exist(self):
        names = set(self.edit)
        if self.default is not None and self.default not in names:
            raise ValueError(f"models.default is '{self.default}' but no [models.edit.{self.default}] "
                             f"is configured (configured: {', '.join(sorted(names)) or 'none'})")
        for operation, name in self.operations.items():
            if name not in names:
                raise ValueError(f"models.operations.{operation} names '{name}', which is not "
                                 f"configured (configured: {', '.join(sorted(names)) or 'none'})")
        return self

    def ordered_names(self) -> list[str]:
        """Edit model names, the default first."""
        names = list(self.edit)
        if self.default in names:
            names.remove(self.default)
            names.insert(0, self.default)
        return names
