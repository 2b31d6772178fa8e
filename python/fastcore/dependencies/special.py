"""Types that other parts of fastcore provide to the plan builder, named in one place.

`BackgroundTasks` (fastcore.background) is injected and `UploadFile` (fastcore.datastructures)
detected by annotation.
"""
from __future__ import annotations

from ..background import BackgroundTasks

from ..datastructures import UploadFile

__all__ = ["BackgroundTasks", "UploadFile"]
