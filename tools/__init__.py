"""tools: the hands. Edit operations, their backends and model loading. Images in, images out."""
