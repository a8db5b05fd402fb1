"""Configuration from the environment, the legacy DB_* variables and a legacy `.env` file."""

from pathlib import Path

import pytest

from config import (
    DEFAULT_ACCESS_SECRET,
    DEFAULT_REFRESH_SECRET,
    ConfigError,
    load_config,
    mounts,
)


def test_database_url_wins() -> None:
    config = load_config({"DATABASE_URL": "sqlite:///x.db", "DB_HOST": "db"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///x.db"


def test_legacy_db_variables_build_a_mysql_url_with_escaped_password() -> None:
    config = load_config(
        {
            "DB_HOST": "db.local",
            "DB_PORT": "3307",
            "DB_USERNAME": "gass",
            "DB_PASSWORD": "p@ss:w/rd",
            "DB_DATABASE": "gassapi",
        }
    )
    url = config["SQLALCHEMY_DATABASE_URI"]
    assert url.startswith("mysql+pymysql://gass:p%40ss%3Aw%2Frd@db.local:3307/gassapi")
    assert "charset=utf8mb4" in url


def test_sqlite_file_is_the_default() -> None:
    assert load_config({})["SQLALCHEMY_DATABASE_URI"] == "sqlite:///gateway.sqlite"


def test_development_without_keys_never_falls_back_to_the_published_ones() -> None:
    config = load_config({})
    assert config["JWT_ACCESS_SECRET"] is None and config["JWT_REFRESH_SECRET"] is None


def test_a_published_key_set_explicitly_is_used_outside_production() -> None:
    """How a gateway shares tokens with a legacy backend that still runs on the default."""
    config = load_config({"JWT_ACCESS_SECRET": DEFAULT_ACCESS_SECRET})
    assert config["JWT_ACCESS_SECRET"] == DEFAULT_ACCESS_SECRET


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"JWT_SECRET": DEFAULT_ACCESS_SECRET}, "JWT_SECRET is the legacy's published default"),
        (
            {"JWT_SECRET": "s" * 40, "JWT_REFRESH_SECRET": DEFAULT_REFRESH_SECRET},
            "JWT_REFRESH_SECRET is the legacy's published default",
        ),
        ({"JWT_SECRET": "s" * 31}, "JWT_SECRET is shorter than 32 bytes"),
        ({"JWT_ACCESS_SECRET": "é" * 16, "JWT_SECRET": "s" * 40}, None),
    ],
)
def test_production_refuses_a_short_or_published_key_naming_its_variable(
    environ: dict[str, str], named: str | None
) -> None:
    if named is None:  # 16 two-byte characters are 32 bytes
        assert load_config({"APP_ENV": "production", **environ})["JWT_ACCESS_SECRET"]
        return
    with pytest.raises(ConfigError, match=named):
        load_config({"APP_ENV": "production", **environ})


def test_production_without_jwt_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError):
        load_config({"APP_ENV": "production"})


def test_jwt_secret_feeds_both_token_kinds() -> None:
    config = load_config({"APP_ENV": "production", "JWT_SECRET": "s" * 40})
    assert config["JWT_ACCESS_SECRET"] == config["JWT_REFRESH_SECRET"] == "s" * 40


def test_legacy_env_file_is_read_and_process_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_HOST=from-file\nAPP_TIMEZONE=UTC\nAPP_NAME=FILE\n")
    config = load_config({"APP_NAME": "PROCESS"}, env_file=env_file)
    assert "from-file" in config["SQLALCHEMY_DATABASE_URI"]
    assert config["APP_TIMEZONE"] == "UTC"
    assert config["APP_NAME"] == "PROCESS"


def test_missing_env_file_is_tolerated(tmp_path: Path) -> None:
    assert load_config({}, env_file=tmp_path / "missing.env")["APP_TIMEZONE"] == "Asia/Jakarta"


def test_mounts_are_normalised_longest_first() -> None:
    assert mounts("/, /gassapi2/backend/ ,/index.php") == ("/gassapi2/backend", "/index.php", "")


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "off"])
def test_db_auto_create_false_forbids_startup_ddl(value: str) -> None:
    assert load_config({"DB_AUTO_CREATE": value})["DB_AUTO_CREATE"] is False


@pytest.mark.parametrize("environ", [{}, {"DB_AUTO_CREATE": "true"}, {"DB_AUTO_CREATE": "1"}])
def test_db_auto_create_is_on_unless_switched_off(environ: dict[str, str]) -> None:
    assert load_config(environ)["DB_AUTO_CREATE"] is True
