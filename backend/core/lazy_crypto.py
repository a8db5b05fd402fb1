"""PyJWT and PyMySQL imported without `cryptography`, which costs every process about 10 MB.

Both import it at their own import when it is installed, and both work without it (they catch the
ImportError): PyJWT then offers the HMAC algorithms only, and the gateway signs and verifies
HS256 only (JWT_ALGORITHM, as the legacy backend); PyMySQL needs it only for the RSA password
exchange of sha256_password and caching_sha2_password over a connection without TLS, and
backend/db/driver.py loads it when a server first asks for that. A None entry in `sys.modules`
makes an import raise ModuleNotFoundError, as if the package were not installed (the import
system's documented rule); it is there only while the two libraries are imported. The app
factory imports this module before any other of the gateway's.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

PACKAGE = "cryptography"


@contextmanager
def hidden(package: str) -> Iterator[None]:
    if package in sys.modules:  # already loaded by the process: nothing left to save
        yield
        return
    sys.modules[package] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules[package]


with hidden(PACKAGE):
    import jwt  # noqa: F401
    import pymysql  # noqa: F401
