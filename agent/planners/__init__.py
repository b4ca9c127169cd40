"""Planners: a request in words -> a Plan. Interchangeable behind one interface.

- offline: deterministic phrase grammar, no model (the embedded default)
- llm: any LangChain chat model, JSON plan validated and repaired once
- hybrid: offline when it is confident, the LLM for the rest

`make_planner(settings)` picks one from the settings; imports stay lazy so that
reading configuration never loads a language-model client.
"""

from __future__ import annotations


def make_planner(settings, kind: str | None = None):
    """The planner the settings ask for (`kind` overrides: offline, llm, hybrid)."""
    from agent.planners.offline import OfflinePlanner

    config = settings.planner
    kind = kind or config.resolved_kind()
    if kind == "offline":
        return OfflinePlanner()
    from agent.planners.llm import LLMPlanner
    from agent.planners.providers import chat_model_from_config

    llm = LLMPlanner(chat_model_from_config(config), recent_versions=config.recent_versions,
                     recent_turns=config.recent_turns, label=config.model or config.provider)
    if kind == "llm":
        return llm
    from agent.planners.hybrid import HybridPlanner

    return HybridPlanner(OfflinePlanner(), llm)
