"""Types that other parts of fastcore provide to the plan builder, named in one place.

`BackgroundTasks` (fastcore.background) and `UploadFile` (fastcore.datastructures) are injected
or detected by annotation. Until the modules that own them provide them, stand-ins that no
annotation can match keep the plan builder importable.
"""
from __future__ import annotations

try:
    from ..background import BackgroundTasks
except ImportError:  # fastcore.background not there yet
    class BackgroundTasks:  # type: ignore[no-redef]
        """Never matched: no annotation names this class."""

try:
    from ..datastructures import UploadFile
except ImportError:  # fastcore.datastructures has no UploadFile yet
    class UploadFile:  # type: ignore[no-redef]
        """Never matched: no annotation names this class."""

__all__ = ["BackgroundTasks", "UploadFile"]
