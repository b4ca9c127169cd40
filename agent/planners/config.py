"""Planner settings: which planner, and how to reach its language model if it has one.

Nested under `planner` in Settings: RETOUCH_PLANNER__KIND=hybrid,
RETOUCH_PLANNER__BASE_URL=http://localhost:11434/v1, RETOUCH_PLANNER__MODEL=qwen2.5:7b,
or a [planner] table in retouch.toml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class PlannerConfig(BaseModel):
    kind: Literal["auto", "offline", "llm", "hybrid"] = Field(
        "auto", description="auto: hybrid when a language model is configured, else offline")
    provider: Literal["openai", "gguf"] = Field(
        "openai", description="openai: any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp "
                              "server, LM Studio); gguf: a local GGUF file via llama-cpp-python")
    base_url: str | None = Field(None, description="Endpoint, e.g. http://localhost:11434/v1")
    model: str | None = Field(None, description="Model name at the endpoint")
    api_key: SecretStr | None = Field(None, description="Key for the endpoint, if it needs one")
    gguf_path: Path | None = Field(None, description="Local GGUF model file (provider gguf)")
    context_window: int = Field(8192, gt=0, description="Context size for a local GGUF model")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    json_mode: bool = Field(True, description="Ask the endpoint for JSON output "
                                              "(response_format json_object)")
    recent_versions: int = Field(8, ge=0, le=100,
                                 description="How many recent versions the LLM sees")
    recent_turns: int = Field(6, ge=0, le=100,
                              description="How many past exchanges the LLM sees")

    @property
    def llm_configured(self) -> bool:
        if self.provider == "gguf":
            return self.gguf_path is not None
        return bool(self.base_url or self.model)

    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        return "hybrid" if self.llm_configured else "offline"
