"""Text: change the words written in the picture (local)."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import Text
from tools.registry import OperationArgs, operation


@operation("edit_text",
           "Change or add written text in the picture (signs, labels, posters), keeping its look.")
class EditText(OperationArgs):
    new_text: Text = Field(description="The text that should appear")
    old_text: Text | None = Field(None, description="The text to replace, as it reads now")
    where: Text | None = Field(None, description="Where the text is or should go, e.g. 'the shop sign'")
