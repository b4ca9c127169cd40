"""The LLM planner: any LangChain chat model writes the plan as JSON; code checks it.

The model sees the registry's operations and the session's state (agent/prompts.py)
and answers with a Plan in JSON. The answer is validated against the Plan model,
whose steps validate against each operation's own argument model. Invalid output
(not JSON, an unknown tool, bad arguments) is sent back once with the exact error
to repair; a second invalid answer is a PlanningError with a clear message. Version
references stay words here: finalize_plan resolves them in code.
"""

from __future__ import annotations

import json
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.plan import InvalidPlan, Plan, parse_plan
from agent.planners.base import PlanningContext, PlanningError
from agent.prompts import system_prompt, user_message


class LLMPlanner:
    name = "llm"

    def __init__(self, model: BaseChatModel, *, recent_versions: int = 8, recent_turns: int = 6,
                 label: str = ""):
        self.model = model
        self.recent_versions = recent_versions
        self.recent_turns = recent_turns
        self.label = label or type(model).__name__

    def describe(self) -> str:
        return f"llm ({self.label})"

    def plan(self, context: PlanningContext) -> Plan:
        messages = self.messages(context)
        answer = self._ask(messages)
        try:
            return plan_from_answer(answer)
        except InvalidPlan as first:
            messages += [answer, HumanMessage(
                f"That answer is not a valid plan: {first}. Reply again with the corrected JSON "
                f"object only.")]
        answer = self._ask(messages)
        try:
            return plan_from_answer(answer)
        except InvalidPlan as second:
            raise PlanningError(f"the planner model ({self.label}) gave an invalid plan twice; "
                                f"last problem: {second}") from None

    def messages(self, context: PlanningContext) -> list[BaseMessage]:
        messages: list[BaseMessage] = [SystemMessage(system_prompt(context, self.recent_versions))]
        for turn in context.turns[-self.recent_turns:] if self.recent_turns else []:
            messages.append(HumanMessage(turn.get("user", "")))
            messages.append(AIMessage(turn.get("reply", "")))
        messages.append(HumanMessage(user_message(context)))
        return messages

    def _ask(self, messages: list[BaseMessage]) -> AIMessage:
        try:
            return self.model.invoke(messages)
        except Exception as exc:  # network, server, model file: one line for the user
            raise PlanningError(f"the planner model ({self.label}) could not be reached: "
                                f"{type(exc).__name__}: {exc}") from None


def plan_from_answer(answer: AIMessage) -> Plan:
    """The Plan in a model's answer: a tool call's arguments, or a JSON object in the text."""
    if getattr(answer, "tool_calls", None):
        return parse_plan(answer.tool_calls[0]["args"])
    text = answer.content if isinstance(answer.content, str) else "".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in answer.content)
    return parse_plan(_json_object(text))


def _json_object(text: str) -> dict:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise InvalidPlan("the answer contains no JSON object")
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise InvalidPlan(f"the JSON does not parse ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise InvalidPlan("the answer must be a JSON object with steps, reply and clarify")
    return data
