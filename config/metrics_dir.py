"""The Prometheus multiprocess directory every gunicorn worker counts into (backend/web/metrics.py).

Whichever worker answers a scrape reads the files of all of them, so the same requests read the
same counts on every scrape. prometheus_client reads the variable when it is first imported: the
directory must be in the environment before any gateway module is imported, which is why the
entry points (`gunicorn.conf.py`, `gassapi-gateway serve`) call `ensure` first. Without one
configured, a private directory is made (and removed by the master when it exits)."""

import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PRIVATE_PREFIX = "gassapi-metrics-"


def ensure(environ: MutableMapping[str, str]) -> Path:
    if not environ.get(VARIABLE):
        environ[VARIABLE] = tempfile.mkdtemp(prefix=PRIVATE_PREFIX)
    return Path(environ[VARIABLE])


def empty(path: Path) -> None:
    """Fresh at every start: counts of an earlier run must not be read as this run's."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def remove_private(path: Path) -> None:
    if path.name.startswith(PRIVATE_PREFIX) and path.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(path, ignore_errors=True)
