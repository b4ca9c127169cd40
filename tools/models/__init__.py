"""Model loading: the manager that owns device, residency and the one GPU queue."""

from tools.models.loading import ModelNotFound, UnsafeCheckpoint, locate, resolve
from tools.models.manager import ModelManager, OutOfMemory, PipelineSpec

__all__ = ["ModelManager", "ModelNotFound", "OutOfMemory", "PipelineSpec", "UnsafeCheckpoint",
           "locate", "resolve"]
