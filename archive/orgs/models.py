from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, UTCDateTime

ORG_TYPES = ("dla-office", "province", "pao", "municipality", "sao", "pattaya")


class Organisation(Base):
    """A DLA office, a provincial office or a local administrative organisation (LAO).

    They form a tree (DLA → province → LAO); a user's scope covers the organisations they
    are attached to and all their descendants.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    type: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
