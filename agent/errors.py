"""Errors of the agent, and the families of errors that reach a user as one readable line."""

from storage.errors import StorageError
from tools.errors import ToolError


class AgentError(Exception):
    """A request cannot be planned or carried out; the message says why."""


# What the CLI, chat and MCP server show as a message instead of a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (AgentError, StorageError, ToolError)
