"""Camera: zoom, angle, rotation and mirroring of the whole frame (global)."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import Text
from tools.registry import OperationArgs, operation


@operation("change_camera",
           "Change the framing or viewpoint: zoom in/out, rotate, flip/mirror, or see the "
           "scene from another angle (side view, from above).", local=False)
class ChangeCamera(OperationArgs):
    description: Text = Field(description="The camera change, e.g. 'zoom in 2x', 'zoom out', "
                                          "'rotate 90 degrees left', 'mirror', 'side view'")
