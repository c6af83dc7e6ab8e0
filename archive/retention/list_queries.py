"""Queries over disposition lists: which lists a caller sees, item counts, the approvals
recorded, votes by item and certificates — for the read models and the certificate."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.accounts.models import User
from archive.accounts.principal import Principal, require
from archive.evidence.models import Evidence
from archive.orgs import scope
from archive.orgs.models import Organisation
from archive.retention import disposition
from archive.retention.models import (
    DispositionCertificate,
    DispositionItem,
    DispositionList,
    DispositionVote,
)


def list_lists(session: Session, principal: Principal, *, status: str | None = None,
               org_code: str | None = None) -> list[tuple[DispositionList, Organisation]]:
    require(principal, "retention.read")
    q = sa.select(DispositionList, Organisation).join(
        Organisation, Organisation.id == DispositionList.org_id)
    q = scope.limit_to_scope(session, principal, q, DispositionList.org_id)
    if status:
        q = q.where(DispositionList.status == status)
    if org_code:
        q = q.where(Organisation.code == org_code)
    return [(d, o) for d, o in session.execute(q.order_by(DispositionList.created_at.desc()))]


# What the counts of a list say, in the order they are shown: what is still to happen
# (open items by their action), then what happened (closed items by their outcome).
OUTCOMES = ("to_destroy", "to_transfer", "to_keep", "on_hold", "destroyed", "transferred",
            "kept", "held", "blocked", "removed")


def counts(session: Session, list_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Per list: ``items`` and the non-zero :data:`OUTCOMES` — ``to_destroy``,
    ``to_transfer``, ``to_keep`` (open items by action; ``on_hold`` of them are held now),
    then ``destroyed``, ``transferred``, ``kept``, ``removed``, and items the execution
    could not destroy: ``held`` (under legal hold) or ``blocked`` (another reason)."""
    out: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: {"items": 0})
    if not list_ids:
        return {}
    for list_id, status, action, n in session.execute(
            sa.select(DispositionItem.list_id, DispositionItem.status, DispositionItem.action,
                      sa.func.count())
            .where(DispositionItem.list_id.in_(list_ids))
            .group_by(DispositionItem.list_id, DispositionItem.status, DispositionItem.action)):
        key = f"to_{action}" if status == "listed" else status
        if key == "to_remove":                      # not possible; counted as removed
            key = "removed"
        row = out[list_id]
        row["items"] += n
        row[key] = row.get(key, 0) + n
    for list_id, note in session.execute(
            sa.select(DispositionItem.list_id, DispositionItem.note)
            .where(DispositionItem.list_id.in_(list_ids),
                   DispositionItem.status == "blocked")):
        if disposition.BLOCKED_BY_HOLD in (note or ""):
            row = out[list_id]
            row["blocked"] -= 1
            row["held"] = row.get("held", 0) + 1
    for list_id, n in session.execute(
            sa.select(DispositionItem.list_id, sa.func.count())
            .join(Evidence, Evidence.id == DispositionItem.evidence_id)
            .where(DispositionItem.list_id.in_(list_ids), DispositionItem.status == "listed",
                   DispositionItem.action == "destroy", Evidence.on_hold.is_(True))
            .group_by(DispositionItem.list_id)):
        out[list_id]["on_hold"] = n
    return {lid: {"items": row["items"],
                  **{k: row[k] for k in OUTCOMES if row.get(k)}} for lid, row in out.items()}


def approvals(session: Session, dl: DispositionList) -> dict[str, Any]:
    """Who approved what and when: the committee, the head, the archives, the request."""
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(
        [i for i in (dl.head_user_id, dl.committee_approved_by) if i])))}

    def person(u: User | None) -> dict[str, Any] | None:
        return {"user": u.name, "name": u.display_name or u.name} if u else None

    members = disposition.committee(session, dl.id)
    return {
        "committee": {
            "order_ref": dl.committee_order_ref,
            "order_date": dl.committee_order_date,
            "appointed_by": dl.committee_appointed_by,
            "appointed_at": dl.committee_appointed_at,
            "chair": next((person(u) for m, u in members if m.function == "chair"), None),
            "members": [person(u) for m, u in members if m.function == "member"],
            "review_closed_by": person(users.get(dl.committee_approved_by or -1)),
            "review_closed_at": dl.committee_approved_at,
            # The committee's joint record of the destruction: each member's confirmation.
            "destruction_record": [{**(person(u) or {}), "function": m.function,
                                    "confirmed_at": m.destruction_confirmed_at,
                                    "note": m.destruction_note} for m, u in members],
        },
        "head_of_agency": {"head": person(users.get(dl.head_user_id or -1)),
                           "decision": dl.head_decision, "decided_at": dl.head_decided_at,
                           "comment": dl.head_comment},
        "national_archives": {"sent_on": dl.archives_sent_on,
                              "reference": dl.archives_reference,
                              "review_days": dl.archives_review_days,
                              "review_basis": dl.archives_review_basis,
                              "result": dl.archives_result or (
                                  "no objection within the review period"
                                  if disposition.is_executable(dl) else None),
                              "responded_on": dl.archives_responded_on,
                              "comment": dl.archives_comment,
                              "executable_on": disposition.executable_on(dl)},
        "execution": {"requested_by": dl.execute_requested_by,
                      "requested_at": dl.execute_requested_at,
                      "executed_at": dl.executed_at, "purge_pending": dl.purge_pending},
    }


def votes_by_item(session: Session, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v, name in session.execute(
            sa.select(DispositionVote, User.name).join(User, User.id == DispositionVote.user_id)
            .where(DispositionVote.item_id.in_(item_ids)).order_by(DispositionVote.at)):
        out[v.item_id].append({"user": name, "vote": v.vote, "action": v.action,
                               "keep_until": v.keep_until, "comment": v.comment, "at": v.at})
    return out


def certificates(session: Session, list_id: uuid.UUID) -> list[DispositionCertificate]:
    return list(session.scalars(sa.select(DispositionCertificate).where(
        DispositionCertificate.list_id == list_id).order_by(DispositionCertificate.seq)))
