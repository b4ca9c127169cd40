"""Generation from other images: try-on, control images, collages, and free-form edits."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import ImageName, Text
from tools.registry import OperationArgs, operation


@operation("try_on",
           "Dress a person in a garment shown in an attached reference image.")
class TryOn(OperationArgs):
    garment_reference: ImageName = Field(description="Attached image of the garment, e.g. 'reference 1'")
    target: Text = Field("person", description="Who wears it, e.g. 'the woman on the right'")


@operation("control_generate",
           "Make a new image that follows the pose, depth or edges of an attached control image.",
           local=False)
class ControlGenerate(OperationArgs):
    control_image: ImageName = Field(description="Attached control image, e.g. 'reference 1'")
    kind: Text = Field(description="What the control image gives: 'pose', 'depth' or 'edges'")
    prompt: Text = Field(description="What the new image shows")


@operation("refine_collage",
           "Blend a rough collage (pasted cut-outs) into one coherent photo: light, shadows, "
           "edges and colours made consistent.", local=False)
class RefineCollage(OperationArgs):
    description: Text = Field(description="What the final picture should look like")


@operation("edit",
           "Any other edit, as a free-form instruction (used when no specific operation fits).")
class Edit(OperationArgs):
    instruction: Text = Field(description="The edit to make, in plain words")
