"""`gunicorn -c gunicorn.conf.py wsgi:app` with the defaults of backend/ops/gunicorn_conf.py."""

from backend.ops.gunicorn_conf import *  # noqa: F403
