"""Scene edits: a new background (local: the subject is kept) and new light (global)."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import ImageName, Text
from tools.registry import OperationArgs, operation


@operation("replace_background",
           "Keep the subject and replace everything behind it: a described scene, a colour, "
           "a gradient like 'sunset' or 'studio grey', a blur, or an attached reference image.",
           mask_keeps=True)
class ReplaceBackground(OperationArgs):
    mask: str | None = Field(
        None, description="The subject to KEEP: 'mask' for the attached mask or scribble. "
                          "Leave empty to find the subject automatically.")
    description: Text = Field(description="The new background, e.g. 'a beach at sunset', "
                                          "'studio grey', 'blurred', 'the reference image'")
    reference: ImageName | None = Field(None, description="Attached image to use as the new "
                                                          "background, e.g. 'reference 1'")


@operation("relight",
           "Change the lighting of the whole picture: warmer/cooler, brighter/darker, light "
           "from a direction, golden hour, night, studio light.", local=False)
class Relight(OperationArgs):
    description: Text = Field(description="The light wanted, e.g. 'warm light from the left', "
                                          "'golden hour', 'night', 'brighter'")
    strength: float = Field(1.0, ge=0.0, le=2.0,
                            description="How strong the change is: 0 none, 1 normal, 2 double")
