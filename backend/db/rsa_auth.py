"""PyMySQL's RSA password exchange, loaded when a server first asks for it.

PyMySQL was imported without `cryptography` (backend/core/lazy_crypto.py); an account on
sha256_password or caching_sha2_password (MySQL 8's default) reached without TLS then fails its
handshake with PyMySQL's RuntimeError. That connection is tried once more after PyMySQL's auth
module has been run again with `cryptography` importable: from then on the module is as an
import with `cryptography` installed makes it, for every later connection of the process.
"""

import importlib
from typing import Any

import pymysql
from sqlalchemy.engine import Engine

REFUSAL = "'cryptography' package is required"


def load() -> None:
    importlib.reload(pymysql._auth)


def install(engine: Engine) -> None:
    if engine.dialect.driver != "pymysql":
        return
    dialect = engine.dialect
    connect = dialect.connect

    def connect_with_rsa(*cargs: Any, **cparams: Any) -> Any:
        try:
            return connect(*cargs, **cparams)
        except RuntimeError as exc:
            if REFUSAL not in str(exc):
                raise
        load()
        return connect(*cargs, **cparams)

    dialect.connect = connect_with_rsa  # type: ignore[method-assign]
