"""Types that other parts of fastcore provide to the plan builder, named in one place.

`BackgroundTasks` (fastcore.background) is injected and `UploadFile` (fastcore.datastructures)
detected by annotation. Until the forms workstream provides `UploadFile`, a stand-in that no
annotation can match keeps the plan builder importable.
"""
from __future__ import annotations

from ..background import BackgroundTasks

try:
    from ..datastructures import UploadFile
except ImportError:  # fastcore.datastructures has no UploadFile yet
    class UploadFile:  # type: ignore[no-redef]
        """Never matched: no annotation names this class."""

__all__ = ["BackgroundTasks", "UploadFile"]
