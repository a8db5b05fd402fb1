"""Every domain module, imported explicitly so its acts register."""

from handlers import docs, flow_status, system, users  # noqa: F401
