"""Every domain module, imported explicitly so its acts register."""

from handlers import (  # noqa: F401
    auth,
    docs,
    endpoints,
    environments,
    executions,
    flow_status,
    flows,
    folders,
    mcp,
    mcp_token,
    projects,
    system,
    users,
)
