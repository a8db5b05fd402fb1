"""Production entry point: `gunicorn -c gunicorn.conf.py wsgi:app`."""

from backend import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    raise SystemExit(f"configuration: {exc}") from None
