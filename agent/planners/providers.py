"""Chat models for the LLM planner, from the planner settings.

- openai: any OpenAI-compatible endpoint through langchain-openai (vLLM, Ollama,
  llama.cpp server, LM Studio, OpenAI itself): base URL, model and key from config.
- gguf: a local GGUF file run in-process by llama-cpp-python, which is optional
  (not a dependency: it compiles from source) and imported only when asked for.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agent.planners.base import PlanningError
from agent.planners.config import PlannerConfig


def chat_model_from_config(config: PlannerConfig) -> BaseChatModel:
    if config.provider == "gguf":
        if config.gguf_path is None:
            raise PlanningError("planner provider gguf needs planner.gguf_path (a .gguf file)")
        return LlamaCppChat(model_path=str(config.gguf_path), n_ctx=config.context_window,
                            temperature=config.temperature, max_tokens=config.max_tokens,
                            json_mode=config.json_mode)
    if not config.model:
        raise PlanningError("the LLM planner needs planner.model (e.g. RETOUCH_PLANNER__MODEL="
                            "qwen2.5:7b-instruct) and usually planner.base_url")
    from langchain_openai import ChatOpenAI

    key = config.api_key.get_secret_value() if config.api_key else None
    model = ChatOpenAI(model=config.model, base_url=config.base_url,
                       api_key=key or "not-needed",  # local servers ignore the key
                       temperature=config.temperature, max_tokens=config.max_tokens,
                       timeout=config.timeout_s, max_retries=1)
    if config.json_mode:
        return model.bind(response_format={"type": "json_object"})
    return model


class LlamaCppChat(BaseChatModel):
    """A minimal LangChain chat model over llama_cpp.Llama.create_chat_completion."""

    model_path: str
    n_ctx: int = 8192
    temperature: float = 0.0
    max_tokens: int = 1024
    json_mode: bool = True
    _llama: Any = None

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _load(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise PlanningError("the gguf planner needs llama-cpp-python: "
                                    "pip install llama-cpp-python") from None
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, verbose=False)
        return self._llama

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None,
                  **kwargs) -> ChatResult:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        chat = [{"role": roles.get(message.type, "user"), "content": message.content}
                for message in messages]
        extra = {"response_format": {"type": "json_object"}} if self.json_mode else {}
        answer = self._load().create_chat_completion(
            messages=chat, temperature=self.temperature, max_tokens=self.max_tokens, stop=stop,
            **extra)
        text = answer["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
