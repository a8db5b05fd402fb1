"""`gunicorn -c gunicorn.conf.py wsgi:app`: the packaged defaults of backend/gunicorn_conf.py."""

import os

from backend.gunicorn_conf import *  # noqa: F403

# gevent workers: each connection is a greenlet, so a client that sends its request slowly (or
# keeps an idle keep-alive connection) holds a socket, not a worker; sync and gthread workers are
# stopped by a few of them (issue #15 item 3, docs/security.md). PyMySQL is pure Python, so it
# yields to the other greenlets while it waits for the database.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
