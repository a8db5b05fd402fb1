"""The legacy clock: what PHP `date()` wrote."""

import time
from datetime import datetime, tzinfo

from flask import current_app

from backend.core.seconds import PerSecond


def local_second(second: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(second, tz).replace(tzinfo=None)


_local_second = PerSecond(local_second)


def now() -> datetime:
    """Wall-clock time in APP_TIMEZONE, naive, whole seconds (what PHP `date()` wrote); made once
    a second."""
    tz: tzinfo = current_app.config["TZINFO"]
    return _local_second(int(time.time()), tz)
