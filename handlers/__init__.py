"""Every domain module, imported explicitly so its acts register."""

from handlers import auth, docs, executions, flow_status, system, users  # noqa: F401
from handlers import endpoints, folders  # noqa: F401
from handlers import environments, mcp, projects  # noqa: F401
from handlers import flows  # noqa: F401
