"""The SQLAlchemy extension and the column types that mirror the legacy MySQL schema."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Numeric, SmallInteger, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase

from backend.db.request_connection import SESSION_OPTIONS

# Legacy column types: MySQL gets the exact legacy type, SQLite a close equivalent.
Flag = SmallInteger().with_variant(mysql.TINYINT(1), "mysql", "mariadb")
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
Str255 = String(255)
Decimal32 = Numeric(3, 2)

TABLE_ARGS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options=dict(SESSION_OPTIONS))
