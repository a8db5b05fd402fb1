"""User accounts, their one-time tokens, and the gateway's own login throttle."""

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import TABLE_ARGS, Flag, Str255, db
from backend.models.columns import created_column, fk, id_column, updated_column


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("email", name="users_email_unique"),
        Index("users_is_active_idx", "is_active"),
        Index("users_email_idx", "email"),
        Index("users_password_reset_token_idx", "password_reset_token"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(Str255)
    password_hash: Mapped[str] = mapped_column(Str255)
    name: Mapped[str] = mapped_column(Str255)
    avatar_url: Mapped[str | None] = mapped_column(Str255)
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    email_verified: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    password_reset_token: Mapped[str | None] = mapped_column(Str255)
    password_reset_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class RefreshToken(db.Model):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="refresh_token_hash_unique"),
        Index("refresh_expires_idx", "expires_at"),
        Index("refresh_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = fk("users.id", "refresh_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="password_reset_token_hash_unique"),
        Index("password_reset_expires_idx", "expires_at"),
        Index("password_reset_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = fk("users.id", "password_reset_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class EmailVerificationToken(db.Model):
    __tablename__ = "email_verification_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="email_verification_token_hash_unique"),
        Index("email_verification_expires_idx", "expires_at"),
        Index("email_verification_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = fk("users.id", "email_verification_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class LoginThrottle(db.Model):
    """Gateway-owned (not legacy): login attempts per account and per client address, and the
    addresses known to have logged into an account (services/login_throttle.py)."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("login_throttle_expires_idx", "expires_at"), TABLE_ARGS)

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of what it counts
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the window's end; a known address's


USERS = User.__table__
REFRESH_TOKENS = RefreshToken.__table__
LOGIN_THROTTLE = LoginThrottle.__table__
