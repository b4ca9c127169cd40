"""storage: the versioned image history (SQLAlchemy; SQLite in WAL mode by default)."""

from storage.errors import ConflictError, ImageError, NotFound, StorageError
from storage.history import MAIN_BRANCH, Asset, CommitTimings, History, Operation, SessionInfo, Store, Version
from storage.images import DEFAULT_MAX_PIXELS, load_image

__all__ = [
    "Asset", "CommitTimings", "ConflictError", "DEFAULT_MAX_PIXELS", "History", "ImageError",
    "MAIN_BRANCH", "NotFound", "Operation", "SessionInfo", "Store", "StorageError", "Version",
    "load_image",
]
