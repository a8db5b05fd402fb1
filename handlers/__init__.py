"""Every domain module, imported explicitly so its acts register."""

from handlers import system, users  # noqa: F401
