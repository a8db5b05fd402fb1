"""`gunicorn -c gunicorn.conf.py wsgi:app`: the packaged defaults of backend/gunicorn_conf.py."""

from backend.gunicorn_conf import *  # noqa: F403
