"""Style: re-render the whole picture in an artistic look (global)."""

from __future__ import annotations

from pydantic import Field

from tools.operations.fields import ImageName, Text
from tools.registry import OperationArgs, operation


@operation("style_transfer",
           "Re-render the whole picture in a style: e.g. pencil sketch, watercolour, cartoon, "
           "oil painting, black-and-white film, sepia, or the look of an attached reference image.",
           local=False)
class StyleTransfer(OperationArgs):
    style: Text = Field(description="The style, e.g. 'pencil sketch', 'watercolour', 'cartoon', "
                                    "'oil painting', 'black and white film', 'sepia', 'Van Gogh'")
    reference: ImageName | None = Field(None, description="Attached image whose style or colours "
                                                          "to copy, e.g. 'reference 1'")
    strength: float = Field(1.0, ge=0.0, le=1.0,
                            description="How much of the style to apply: 0 none, 1 full")
