"""Organisations in the store (see :mod:`archive.catalogue`): each organisation's state,
written when it is created or renamed, under ``catalogue/orgs/<id>/<time>-<sha256>.json``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from archive import clock
from archive.catalogue import objects
from archive.catalogue.objects import Catalogue, Entry
from archive.orgs.models import Organisation

FORMAT = "evidence-archive.organisation/1"
_STAGED = "catalogue_orgs"


def document(org: Organisation, parent_code: str | None) -> dict[str, Any]:
    return {"format": FORMAT, "id": org.id, "code": org.code, "name": org.name,
            "type": org.type,
            "parent": {"id": org.parent_id, "code": parent_code} if org.parent_id else None,
            "created_at": org.created_at, "at": clock.now()}


def entries(session: Session, catalogue: Catalogue, ids: set[int]) -> list[Entry]:
    parent = aliased(Organisation)
    found = []
    # The latest snapshot of each: at least the watermark's lock (asked once for all).
    lock = catalogue.latest_snapshot_lock() if ids else catalogue.snapshot_lock()
    for org, parent_code in session.execute(
            sa.select(Organisation, parent.code)
            .outerjoin(parent, parent.id == Organisation.parent_id)
            .where(Organisation.id.in_(ids)).order_by(Organisation.id)):
        doc = document(org, parent_code)
        key = (f"{objects.ORGS}{org.id:09d}/{objects.stamp(doc['at'])}-"
               f"{objects.digest(doc)}.json")
        found.append(Entry(key, doc, lock))
    return found


def stage(session: Session, org_id: int) -> None:
    """Have the organisation's state written before the transaction commits."""
    ids: set[int] = session.info.setdefault(_STAGED, set())
    ids.add(org_id)

    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        return entries(session, catalogue, set(session.info.pop(_STAGED, set())))

    objects.stage(session, "orgs", build)
