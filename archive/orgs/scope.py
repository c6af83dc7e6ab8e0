"""Scope: which organisations a caller sees — those they are attached to and every one
below them (a national account sees all). Out of scope looks exactly like absent."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.accounts.principal import Principal
from archive.errors import NotFound
from archive.orgs.models import Organisation


def descendants(session: Session, root_ids: list[int]) -> set[int]:
    """``root_ids`` and every organisation below them."""
    if not root_ids:
        return set()
    tree = (sa.select(Organisation.id).where(Organisation.id.in_(root_ids))
            .cte("tree", recursive=True))
    tree = tree.union_all(sa.select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return set(session.scalars(sa.select(tree.c.id)))


def scope_ids(session: Session, principal: Principal) -> frozenset[int] | None:
    """Ids of the organisations in the principal's scope; ``None`` means every one."""
    if principal.is_system:
        return None
    if not principal._scope_loaded:
        if principal.org_ids and _covers_every_root(session, principal.org_ids):
            # A national account (DLA): every organisation, without walking a tree of
            # thousands on each request — and searches need no organisation filter.
            principal._scope = None
        else:
            principal._scope = frozenset(descendants(session, list(principal.org_ids)))
        principal._scope_loaded = True
    return principal._scope


def _covers_every_root(session: Session, org_ids: tuple[int, ...]) -> bool:
    outside = session.scalar(
        sa.select(sa.func.count()).select_from(Organisation)
        .where(Organisation.parent_id.is_(None), Organisation.id.not_in(org_ids)))
    return outside == 0


def limit_to_scope(session: Session, principal: Principal, query: Any, org_column: Any) -> Any:
    """``query`` restricted to rows whose ``org_column`` is in the principal's scope."""
    scope = scope_ids(session, principal)
    return query if scope is None else query.where(org_column.in_(scope))


def in_scope(session: Session, principal: Principal, org_id: int) -> bool:
    if org_id in principal.org_ids:  # the common case needs no query
        return True
    scope = scope_ids(session, principal)
    return scope is None or org_id in scope


def ensure_in_scope(session: Session, principal: Principal, org_id: int,
                    what: str = "record") -> None:
    """Out of scope looks exactly like absent (404): never reveal that something exists."""
    if not in_scope(session, principal, org_id):
        raise NotFound(f"no such {what}")
