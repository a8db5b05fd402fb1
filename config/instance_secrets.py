"""The JWT keys of a start without configured ones: random, made once, kept in the instance folder.

So `make run` and a bare start work, and tokens survive restarts, without any published key.
Several gunicorn workers start at once: the file is written whole under a temporary name and
published with link(2), which fails if the name exists (as O_EXCL would), so every worker reads
the one file that won, never a half-written one. Mode 0600.
"""

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config import ConfigError

FILE_NAME = "secrets.env"
KEYS = ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET")


def fill_missing(config: dict[str, Any], instance: Path) -> None:
    """Set each JWT key the configuration lacks from the instance folder's file."""
    if all(config.get(key) for key in KEYS):
        return
    kept = load_or_create(instance / FILE_NAME)
    for key in KEYS:
        if not config.get(key):
            config[key] = kept[key]


def load_or_create(path: Path) -> dict[str, str]:
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            publish(path, "".join(f"{key}={secrets.token_hex(32)}\n" for key in KEYS))
        values = dotenv_values(path)
    except OSError as exc:
        reason = f"cannot keep JWT keys in {path} ({exc.strerror}): set JWT_SECRET"
        raise ConfigError(reason) from exc
    missing = [key for key in KEYS if not values.get(key)]
    if missing:
        raise ConfigError(f"{path} lacks {', '.join(missing)}: delete the file to make new keys")
    return {key: str(values[key]) for key in KEYS}


def publish(path: Path, content: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")  # mode 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another worker published first: its keys are the ones
    finally:
        os.unlink(temporary)
