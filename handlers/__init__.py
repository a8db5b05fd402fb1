"""Every domain module, imported explicitly so its acts register.

The order is the registration order `help` and the OpenAPI document list the acts in: the order
the acts registered in while some handler modules still imported others (users before auth,
folders before endpoints, projects before mcp). Keep it, or both documents change on the wire.
"""

# isort: off
from handlers import users  # noqa: F401
from handlers import auth  # noqa: F401
from handlers import docs  # noqa: F401
from handlers import folders  # noqa: F401
from handlers import endpoints  # noqa: F401
from handlers import environments  # noqa: F401
from handlers import executions  # noqa: F401
from handlers import flow_status  # noqa: F401
from handlers import flows  # noqa: F401
from handlers import projects  # noqa: F401
from handlers import mcp  # noqa: F401
from handlers import mcp_token  # noqa: F401
from handlers import system  # noqa: F401
# isort: on
