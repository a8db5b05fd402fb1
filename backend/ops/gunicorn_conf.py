"""Production gunicorn defaults; every value can be overridden from the environment."""

import multiprocessing
import os

import gunicorn.http.wsgi

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
# gevent workers: each connection is a greenlet, so a client that sends its request slowly (or
# keeps an idle keep-alive connection) holds a socket, not a worker; sync and gthread workers are
# stopped by a few of them (issue #15 item 3, docs/security.md). PyMySQL is pure Python, so it
# yields to the other greenlets while it waits for the database.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 100
preload_app = False
accesslog = None  # the gateway writes its own structured access log
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn writes its own `Server` header and drops the application's; keep the legacy value.
gunicorn.http.wsgi.SERVER = "GASS-API"
# The control socket lives at one fixed path per user; several gateways on one host would collide.
control_socket_disable = True
