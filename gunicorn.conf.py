"""`gunicorn -c gunicorn.conf.py wsgi:app` with the defaults of backend/ops/gunicorn_conf.py."""

import os

from config import metrics_dir

# Before any gateway module imports prometheus_client (config/metrics_dir.py).
metrics_dir.ensure(os.environ)

from backend.ops.gunicorn_conf import *  # noqa: E402, F403
