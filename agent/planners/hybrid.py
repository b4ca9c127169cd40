"""The hybrid planner: the offline grammar when it is sure, the LLM for everything else.

Most requests are everyday phrasings the offline planner reads exactly in a few
milliseconds; only requests it cannot read with confidence (a clause it does not
know, a free-form fallback) cost an LLM call. If the LLM fails, the offline
plan is used when there is one, so a dead endpoint degrades instead of breaking.
"""

from __future__ import annotations

import logging

from agent.plan import Plan
from agent.planners.base import PlanningContext, PlanningError
from agent.planners.llm import LLMPlanner
from agent.planners.offline import OfflinePlanner

log = logging.getLogger(__name__)


class HybridPlanner:
    name = "hybrid"

    def __init__(self, offline: OfflinePlanner, llm: LLMPlanner):
        self.offline = offline
        self.llm = llm
        self.last_source = ""   # "offline" or "llm": who planned the last request

    def describe(self) -> str:
        return f"hybrid (offline grammar first, then {self.llm.describe()})"

    def plan(self, context: PlanningContext) -> Plan:
        parsed = self.offline.parse(context)
        if parsed.confident:
            self.last_source = "offline"
            return parsed.plan
        try:
            plan = self.llm.plan(context)
            self.last_source = "llm"
            return plan
        except PlanningError as exc:
            if parsed.plan.steps:
                log.warning("LLM planner failed (%s); using the offline plan", exc)
                self.last_source = "offline"
                return parsed.plan
            raise
