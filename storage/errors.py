"""Errors the history store raises. Each carries a one-line reason fit for a user."""


class StorageError(Exception):
    """Base class: something the user asked of the history cannot be done."""


class ImageError(StorageError):
    """The file is not an image retouch can take (empty, corrupt, too large, ...)."""


class NotFound(StorageError):
    """An unknown session, version or branch."""


class ConflictError(StorageError):
    """The branch moved while an edit was running; nothing was committed."""
