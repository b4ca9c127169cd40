"""The operation families. Importing this package registers every operation.

One file per family; adding an operation touches only its family's file.
"""

from tools.operations import camera, generation, objects, scene, style, text  # noqa: F401
