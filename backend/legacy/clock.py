"""The legacy clock: what PHP `date()` wrote."""

from datetime import datetime

from flask import current_app


def now() -> datetime:
    """Wall-clock time in APP_TIMEZONE, naive, whole seconds (what PHP `date()` wrote)."""
    return datetime.now(current_app.config["TZINFO"]).replace(tzinfo=None, microsecond=0)
