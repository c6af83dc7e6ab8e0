from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, UTCDateTime

ROLES = ("officer", "auditor", "records_manager", "admin")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    # argon2 hash, set by ``archive users passwd`` for the web pages; NULL = token-only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    expires_on: Mapped[dt.date | None] = mapped_column(sa.Date())
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class UserOrganisation(Base):
    """The organisations a user acts for (their descendants are in scope too)."""

    __tablename__ = "user_organisations"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept (tokens are random, 256 bits)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser (the web pages). Only the SHA-256 of the cookie value is kept,
    so a copy of the database does not let anyone take over a session."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)    # sha256(cookie)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    csrf_secret: Mapped[str] = mapped_column(sa.String(64))
    client: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class LoginFailure(Base):
    """A failed sign-in, kept for a day to slow down password guessing (per name + address
    and per address)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_name_client_at", "user_name", "client", "at"),
                      sa.Index("ix_login_failures_client_at", "client", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(sa.String(100))
    client: Mapped[str] = mapped_column(sa.String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
