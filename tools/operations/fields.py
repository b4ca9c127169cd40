"""Argument types shared by the operation families."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# A non-empty piece of text (surrounding spaces removed): "the man on the left".
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

# The name of an attached image, as the user counts them: "reference 1", "reference 2".
ImageName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
