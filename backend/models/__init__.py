"""Mapped classes for the legacy GASS API tables plus the gateway's own additive tables.

Every legacy class mirrors `legacy-contract/schema.md` column for column, in physical order
(serialised rows keep that key order), with the legacy key and constraint names, so that
`create_all()` on a database built by the legacy migrations adds the gateway's own tables
(`flow_executions`, `mcp_token_lifecycle`, `project_policies`, `login_throttle`; `additive.py`)
and nothing else.
Datetimes are naive local times written by the application.

One module per domain; each defines its tables' Core handles (`FLOWS = Flow.__table__`) once,
and this package hands every class and handle on.
"""

from backend.models.accounts import (
    LOGIN_THROTTLE,
    REFRESH_TOKENS,
    USERS,
    EmailVerificationToken,
    LoginThrottle,
    PasswordResetToken,
    RefreshToken,
    User,
)
from backend.models.audit import AUDIT, AuditLog
from backend.models.flows import EXECUTIONS, FLOWS, Flow, FlowExecution, TestFlow
from backend.models.folders import ENDPOINTS, FOLDERS, Endpoint, Folder
from backend.models.projects import (
    ENVIRONMENTS,
    MCP_LIFECYCLE,
    MCP_TOKENS,
    MEMBERS,
    POLICIES,
    PROJECTS,
    Environment,
    McpClientToken,
    McpTokenLifecycle,
    Project,
    ProjectMember,
    ProjectPolicy,
)

__all__ = [
    "AUDIT",
    "ENDPOINTS",
    "ENVIRONMENTS",
    "EXECUTIONS",
    "FLOWS",
    "FOLDERS",
    "MCP_LIFECYCLE",
    "LOGIN_THROTTLE",
    "MCP_TOKENS",
    "MEMBERS",
    "POLICIES",
    "PROJECTS",
    "REFRESH_TOKENS",
    "USERS",
    "AuditLog",
    "EmailVerificationToken",
    "Endpoint",
    "Environment",
    "Flow",
    "FlowExecution",
    "Folder",
    "LoginThrottle",
    "McpClientToken",
    "McpTokenLifecycle",
    "PasswordResetToken",
    "Project",
    "ProjectMember",
    "ProjectPolicy",
    "RefreshToken",
    "TestFlow",
    "User",
]
