"""Errors the edit tools raise, each with a one-line reason fit for a user."""


class ToolError(Exception):
    """An operation cannot run as asked (bad arguments, missing model, unsupported)."""


class UnknownOperation(ToolError):
    """No operation of that name is registered."""


class NeedsMask(ToolError):
    """The operation needs a region and no mask, scribble or grounding model gave one."""


class Unsupported(ToolError):
    """The chosen backend cannot do this operation (e.g. classic cannot add objects)."""
