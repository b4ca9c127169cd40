"""Object edits: remove, replace or add one thing in the picture (local)."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import Text
from tools.registry import OperationArgs, operation


@operation("remove_object",
           "Erase an object or person and fill the hole with plausible background. "
           "Needs a mask or scribble unless a grounding model is configured.")
class RemoveObject(OperationArgs):
    target: Text = Field(description="What to remove, e.g. 'the man on the left', 'the red cup'")


@operation("replace_object",
           "Swap one object for another in the same place, e.g. the dog for a cat.")
class ReplaceObject(OperationArgs):
    target: Text = Field(description="What to replace, e.g. 'the dog'")
    replacement: Text = Field(description="What to put there instead, e.g. 'a ginger cat'")


@operation("add_object",
           "Add a new object to the picture at a described place.")
class AddObject(OperationArgs):
    object: Text = Field(description="What to add, e.g. 'a red balloon'")
    where: Text | None = Field(None, description="Where to put it, e.g. 'in her left hand'; "
                                                 "empty: wherever it fits, or the masked region")
