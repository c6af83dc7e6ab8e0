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
    return set(session.scalars(_DESCENDANTS, {"root_ids": list(root_ids)}))


def _descendants_statement() -> sa.Select[int]:
    tree = (sa.select(Organisation.id)
            .where(Organisation.id.in_(sa.bindparam("root_ids", expanding=True)))
            .cte("tree", recursive=True))
    tree = tree.union_all(sa.select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return sa.select(tree.c.id)


_DESCENDANTS = _descendants_statement()   # built once, like _SCOPE below


def scope_ids(session: Session, principal: Principal) -> frozenset[int] | None:
    """Ids of the organisations in the principal's scope; ``None`` means every one."""
    if principal.is_system:
        return None
    if not principal._scope_loaded:
        principal._scope = _load_scope(session, principal.org_ids)
        principal._scope_loaded = True
    return principal._scope


def _load_scope(session: Session, org_ids: tuple[int, ...]) -> frozenset[int] | None:
    """One query (every API request asks): ``None`` when ``org_ids`` cover every root
    organisation — a national account (DLA) sees everything, without walking a tree of
    thousands on each request, and its searches need no organisation filter — else
    ``org_ids`` and every organisation below them."""
    if not org_ids:
        return frozenset()
    rows = session.execute(_SCOPE, {"org_ids": list(org_ids)}).all()
    if rows[0][0] == 0:
        return None
    return frozenset(org_id for _, org_id in rows if org_id is not None)


def _scope_statement() -> sa.Select[int, int]:
    """The query of :func:`_load_scope`, built once: the organisations travel as one
    expanding parameter, so each request neither builds the statement nor works out its
    cache key again (that was about a tenth of a search's CPU in the API)."""
    org_ids: sa.BindParameter[list[int]] = sa.bindparam("org_ids", expanding=True)
    outside = (sa.select(sa.func.count().label("roots")).select_from(Organisation)
               .where(Organisation.parent_id.is_(None), Organisation.id.not_in(org_ids))
               .cte("outside"))
    # the tree is walked only when some root lies outside (not for a national account)
    tree = (sa.select(Organisation.id)
            .where(Organisation.id.in_(org_ids),
                   sa.select(outside.c.roots).scalar_subquery() > 0)
            .cte("tree", recursive=True))
    tree = tree.union_all(sa.select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return (sa.select(outside.c.roots, tree.c.id)
            .select_from(outside.outerjoin(tree, sa.true())))


_SCOPE = _scope_statement()


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
                    what: str = "evidence record") -> None:
    """Out of scope looks exactly like absent (404): never reveal that something exists.
    The message is the one the absent case gives (``no such evidence record``)."""
    if not in_scope(session, principal, org_id):
        raise NotFound(f"no such {what}")


_BY_CODE = sa.select(Organisation).where(Organisation.code == sa.bindparam("code"))


def org_in_scope(session: Session, principal: Principal, code: str) -> Organisation:
    """The organisation ``code`` if the principal may act on it. An unknown code and a
    code outside the scope give one answer, byte for byte: a caller learns nothing about
    which organisations exist beyond their own."""
    org = session.scalar(_BY_CODE, {"code": code})
    if org is None or not in_scope(session, principal, org.id):
        raise NotFound("no organisation with this code in your scope", code="org_not_found")
    return org
