"""A worker does not import what its acts do not use: `cryptography` (about 10 MB) is loaded only
when a database server asks for the RSA password exchange (backend/core/lazy_crypto.py,
backend/db/driver.py), PyYAML (swagger-ui-py's) never. Each check runs in a fresh interpreter:
this one has imported both already."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVE_TOKENS = """
import sys
from sqlalchemy import text
from backend import create_app
from backend.auth.tokens import decode_token, issue_token
from backend.db import db

app = create_app()
with app.app_context():
    db.session.execute(text("SELECT 1"))
    claims = decode_token(issue_token("user_1", "a@example.com", "access", 0), "access")
print(claims["sub"], "cryptography" in sys.modules)
"""

RSA_HANDSHAKE = """
from backend.db import driver
import pymysql
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


class Handshake:
    # PyMySQL's step of caching_sha2_password without TLS, in place of a server's handshake.
    def __init__(self, *args, **kwargs):
        self.sent = pymysql._auth.sha2_rsa_encrypt(b"pw", b"s" * 20, pem)


driver.Connection = Handshake
sent = driver.connect().sent
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
print(key.decrypt(sent, oaep) == pymysql._auth._xor_password(b"pw\\0", b"s" * 20))
"""

SERVE_DOCS = """
import sys
from backend import create_app

client = create_app().test_client()
asset = client.get("/gassapi2/backend/?act=docs_asset&id=swagger-ui-bundle.js")
print(asset.status_code, len(asset.data) > 100_000, "yaml" in sys.modules)
"""


def python(code: str, tmp_path: Path, database_url: str = "sqlite://") -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DB_", "JWT_"))}
    env.update(
        DATABASE_URL=database_url,
        APP_ENV="development",
        GATEWAY_INSTANCE_PATH=str(tmp_path),
        JWT_ACCESS_SECRET="a" * 64,
        JWT_REFRESH_SECRET="b" * 64,
        PYTHONPATH=str(ROOT),
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_an_app_that_queries_and_signs_tokens_never_loads_cryptography(
    database_url: str, tmp_path: Path
) -> None:
    assert python(SERVE_TOKENS, tmp_path, database_url) == "user_1 False"


def test_a_server_asking_for_the_rsa_exchange_gets_it_on_the_connection_tried_again(
    tmp_path: Path,
) -> None:
    assert python(RSA_HANDSHAKE, tmp_path) == "True"


def test_the_api_reference_page_is_served_without_loading_pyyaml(tmp_path: Path) -> None:
    assert python(SERVE_DOCS, tmp_path) == "200 True False"
