"""Retention schedules: the seed, the lookup at ingest, edits (versioned and audited),
the document-type mapping, and tombstones of destroyed records.

Schedules are national data — one set for every organisation — so only records managers
attached to a top-level organisation (e.g. DLA) may change them; a records manager of one
LAO may read them but must not shorten everyone's retention.

Changing a schedule never shortens a record's retention: the records of that schedule are
recomputed by the ``retention_recompute`` job, and a record's ``retain_until`` only ever
moves later (``archive.retention.rules``). Changing the mapping affects records ingested from then
on; every record keeps the schedule it got at ingest.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

from archive import audit, clock, messages
from archive.accounts.principal import Principal, require
from archive.catalogue import objects
from archive.catalogue.objects import Catalogue, Entry
from archive.db import upsert_ignore
from archive.doc_types import DOC_TYPES
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.retention.schedules.defaults import (
    DEFAULT_DOC_TYPES,
    DEFAULT_SCHEDULES,
    FALLBACK_SCHEDULE,
)
from archive.retention.schedules.models import (
    DocTypeSchedule,
    RetentionSchedule,
    RetentionScheduleVersion,
    Tombstone,
)
from archive.retention.schedules.schemas import ScheduleCreate, ScheduleUpdate, check_complete

VALUE_FIELDS = ("title_th", "title_en", "trigger", "keep_years", "audited_keep_years",
                "action", "legal_basis_th", "legal_basis_en")

_SCHEDULE_FOR = sa.select(DocTypeSchedule.schedule_id).where(
    DocTypeSchedule.doc_type == sa.bindparam("doc_type"))


# -- seed and lookup -------------------------------------------------------------------

def ensure_defaults(session: Session) -> None:
    """Insert the default schedules and mapping where missing (idempotent, race-safe)."""
    codes = [s["code"] for s in DEFAULT_SCHEDULES]
    have = session.execute(sa.select(
        sa.select(sa.func.count()).select_from(RetentionSchedule)
        .where(RetentionSchedule.code.in_(codes)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(DocTypeSchedule)
        .where(DocTypeSchedule.doc_type.in_(DOC_TYPES)).scalar_subquery())).one()
    if have[0] == len(codes) and have[1] == len(DOC_TYPES):
        return  # the common case: read only (no write lock on SQLite)
    now = clock.now()
    rows = [{**s, "version": 1, "updated_by": "system", "updated_at": now}
            for s in DEFAULT_SCHEDULES]
    created = upsert_ignore(session, RetentionSchedule, rows, ["code"],
                            returning=RetentionSchedule)
    for schedule in created:
        session.add(RetentionScheduleVersion(
            schedule_id=schedule.id, version=1, values=_values(schedule), changed_by="system",
            changed_at=now, reason="default schedule (DESIGN.md)"))
    ids = dict(session.execute(sa.select(RetentionSchedule.code, RetentionSchedule.id)).all())
    mapping = dict(DEFAULT_DOC_TYPES)
    for doc_type in DOC_TYPES:
        mapping.setdefault(doc_type, FALLBACK_SCHEDULE)
    upsert_ignore(session, DocTypeSchedule,
                  [{"doc_type": d, "schedule_id": ids[c], "updated_by": "system",
                    "updated_at": now} for d, c in mapping.items() if c in ids],
                  ["doc_type"])
    session.flush()
    stage_snapshot(session)


def schedule_for(session: Session, doc_type: str) -> int:
    """The schedule a new record of ``doc_type`` gets (seeding the defaults on first use)."""
    schedule_id = session.scalar(_SCHEDULE_FOR, {"doc_type": doc_type})
    if schedule_id is None:
        ensure_defaults(session)
        schedule_id = session.scalar(_SCHEDULE_FOR, {"doc_type": doc_type})
    if schedule_id is None:  # a document type nobody mapped yet
        fallback = session.scalar(sa.select(RetentionSchedule.id).where(
            RetentionSchedule.code == FALLBACK_SCHEDULE))
        if fallback is None:
            raise Conflict(f"no retention schedule for document type {doc_type!r}",
                           code="no_schedule")
        upsert_ignore(session, DocTypeSchedule, {
            "doc_type": doc_type, "schedule_id": fallback, "updated_by": "system",
            "updated_at": clock.now()}, ["doc_type"])
        stage_snapshot(session)
        schedule_id = session.scalar(_SCHEDULE_FOR, {"doc_type": doc_type})
    assert schedule_id is not None
    return int(schedule_id)


# -- reading ---------------------------------------------------------------------------

def list_schedules(session: Session, principal: Principal) -> list[RetentionSchedule]:
    require(principal, "retention.read")
    ensure_defaults(session)
    return list(session.scalars(sa.select(RetentionSchedule).order_by(RetentionSchedule.code)))


def get_schedule(session: Session, principal: Principal, code: str) -> RetentionSchedule:
    require(principal, "retention.read")
    ensure_defaults(session)
    return _by_code(session, code)


def _by_code(session: Session, code: str) -> RetentionSchedule:
    schedule = session.scalar(sa.select(RetentionSchedule).where(RetentionSchedule.code == code))
    if schedule is None:
        raise NotFound(f"no retention schedule {code!r}", code="schedule_not_found")
    return schedule


def versions(session: Session, schedule_id: int) -> list[RetentionScheduleVersion]:
    return list(session.scalars(
        sa.select(RetentionScheduleVersion)
        .where(RetentionScheduleVersion.schedule_id == schedule_id)
        .order_by(RetentionScheduleVersion.version)))


def doc_types_by_schedule(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for doc_type, schedule_id in session.execute(
            sa.select(DocTypeSchedule.doc_type, DocTypeSchedule.schedule_id)
            .order_by(DocTypeSchedule.doc_type)):
        out.setdefault(schedule_id, []).append(doc_type)
    return out


def list_doc_types(session: Session,
                   principal: Principal) -> list[tuple[DocTypeSchedule, str]]:
    require(principal, "retention.read")
    ensure_defaults(session)
    return [(m, code) for m, code in session.execute(
        sa.select(DocTypeSchedule, RetentionSchedule.code)
        .join(RetentionSchedule, RetentionSchedule.id == DocTypeSchedule.schedule_id)
        .order_by(DocTypeSchedule.doc_type)).all()]


# -- changing --------------------------------------------------------------------------

def require_national(session: Session, principal: Principal, capability: str) -> None:
    """``capability`` and a scope at the top of the organisation tree (or the system)."""
    require(principal, capability)
    if principal.is_system:
        return
    roots = session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
        Organisation.id.in_(principal.org_ids or (-1,)), Organisation.parent_id.is_(None)))
    if not roots:
        raise PermissionDenied("retention schedules apply to every organisation: only a "
                               "records manager attached to a top-level organisation (e.g. "
                               "DLA) may change them", code="national_scope_required")


def create_schedule(session: Session, principal: Principal,
                    data: ScheduleCreate) -> RetentionSchedule:
    require_national(session, principal, "retention.manage")
    ensure_defaults(session)
    values = data.model_dump(include=set(VALUE_FIELDS))
    problems = check_complete(values)
    if problems:
        raise InvalidInput(problems, code="invalid_schedule")
    if session.scalar(sa.select(RetentionSchedule.id).where(RetentionSchedule.code == data.code)):
        raise Conflict(f"retention schedule {data.code!r} already exists")
    now = clock.now()
    schedule = RetentionSchedule(code=data.code, version=1, updated_by=principal.name,
                                 updated_at=now, **values)
    session.add(schedule)
    session.flush()
    session.add(RetentionScheduleVersion(schedule_id=schedule.id, version=1,
                                         values=_values(schedule), changed_by=principal.name,
                                         changed_at=now, reason=data.reason))
    stage_snapshot(session)
    audit.record(session, actor=principal, action="retention.schedule_create",
                 target_type="retention_schedule", target_id=schedule.code,
                 details={"values": _values(schedule), "reason": data.reason})
    return schedule


def update_schedule(session: Session, principal: Principal, code: str,
                    changes: ScheduleUpdate) -> RetentionSchedule:
    """Save a new version of the schedule and recompute its records (never shortening)."""
    require_national(session, principal, "retention.manage")
    ensure_defaults(session)
    schedule = _by_code(session, code)
    given = changes.model_dump(exclude_unset=True, exclude={"reason"})
    before = _values(schedule)
    after = {**before, **given}
    problems = check_complete(after)
    if problems:
        raise InvalidInput(problems, code="invalid_schedule")
    diff = {k: [before[k], v] for k, v in given.items() if before[k] != v}
    if not diff:
        return schedule
    now = clock.now()
    # Conditional on the version read: two simultaneous edits cannot both win.
    updated = cast("CursorResult[Any]", session.execute(
        sa.update(RetentionSchedule)
        .where(RetentionSchedule.id == schedule.id, RetentionSchedule.version == schedule.version)
        .values(version=RetentionSchedule.version + 1, updated_by=principal.name,
                updated_at=now, **{k: after[k] for k in diff})
        .execution_options(synchronize_session=False))).rowcount
    if updated != 1:
        raise Conflict("the schedule was changed by someone else meanwhile; reload and retry",
                       code="version_conflict")
    session.refresh(schedule)
    session.add(RetentionScheduleVersion(schedule_id=schedule.id, version=schedule.version,
                                         values=_values(schedule), changed_by=principal.name,
                                         changed_at=now, reason=changes.reason))
    stage_snapshot(session)
    enqueue(session, "retention_recompute", {"schedule_id": schedule.id},
            dedup_key=f"retention_recompute:schedule:{schedule.id}:v{schedule.version}")
    audit.record(session, actor=principal, action="retention.schedule_update",
                 target_type="retention_schedule", target_id=schedule.code,
                 details={"version": schedule.version, "changes": diff,
                          "reason": changes.reason})
    return schedule


def set_doc_type(session: Session, principal: Principal, doc_type: str, *,
                 schedule_code: str, reason: str) -> DocTypeSchedule:
    require_national(session, principal, "retention.manage")
    if doc_type not in DOC_TYPES:
        raise InvalidInput(f"unknown document type; use one of {', '.join(DOC_TYPES)}",
                           code="invalid_doc_type")
    ensure_defaults(session)
    schedule = _by_code(session, schedule_code)
    mapping = session.get(DocTypeSchedule, doc_type)
    assert mapping is not None
    previous = session.scalar(sa.select(RetentionSchedule.code).where(
        RetentionSchedule.id == mapping.schedule_id))
    if mapping.schedule_id == schedule.id:
        return mapping
    mapping.schedule_id = schedule.id
    mapping.updated_by = principal.name
    mapping.updated_at = clock.now()
    stage_snapshot(session)
    audit.record(session, actor=principal, action="retention.doc_type_update",
                 target_type="retention_doc_type", target_id=doc_type,
                 details={"from": previous, "to": schedule.code, "reason": reason})
    return mapping


def _values(schedule: RetentionSchedule) -> dict[str, Any]:
    return {f: getattr(schedule, f) for f in VALUE_FIELDS}


def schedule_values(schedule: RetentionSchedule) -> dict[str, Any]:
    """The schedule as a plain dict (code, version and every value field)."""
    return {"code": schedule.code, "version": schedule.version, **_values(schedule)}


# -- in the store -----------------------------------------------------------------------

SNAPSHOT_FORMAT = "evidence-archive.schedules/1"


def snapshot(session: Session) -> dict[str, Any]:
    """Every schedule with all its versions, and the document types' mapping."""
    history: dict[int, list[dict[str, Any]]] = {}
    for v in session.scalars(sa.select(RetentionScheduleVersion)
                             .order_by(RetentionScheduleVersion.schedule_id,
                                       RetentionScheduleVersion.version)):
        history.setdefault(v.schedule_id, []).append(
            {"version": v.version, "values": v.values, "changed_by": v.changed_by,
             "changed_at": v.changed_at, "reason": v.reason})
    codes: dict[int, str] = {}
    schedules = []
    for s in session.scalars(sa.select(RetentionSchedule).order_by(RetentionSchedule.id)):
        codes[s.id] = s.code
        schedules.append({"id": s.id, **schedule_values(s), "updated_by": s.updated_by,
                          "updated_at": s.updated_at, "versions": history.get(s.id, [])})
    doc_types = [{"doc_type": d.doc_type, "schedule_id": d.schedule_id,
                  "schedule_code": codes.get(d.schedule_id), "updated_by": d.updated_by,
                  "updated_at": d.updated_at}
                 for d in session.scalars(sa.select(DocTypeSchedule)
                                          .order_by(DocTypeSchedule.doc_type))]
    return {"format": SNAPSHOT_FORMAT, "at": clock.now(), "schedules": schedules,
            "doc_types": doc_types}


def stage_snapshot(session: Session) -> None:
    """Have the schedules' snapshot written before the transaction commits (once, as
    committed, however many changes the transaction made)."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        doc = snapshot(session)
        key = f"{objects.SCHEDULES}{objects.stamp(doc['at'])}-{objects.digest(doc)}.json"
        return [Entry(key, doc, catalogue.latest_snapshot_lock())]

    objects.stage(session, "schedules", build)


TOMBSTONE_FORMAT = "evidence-archive.tombstone/1"
TOMBSTONE_FIELDS = ("org_id", "blob_id", "sha256", "size", "media_type", "record", "schedule",
                    "retain_until", "retention_basis", "disposition_list_id",
                    "disposition_list_number", "approvals", "reason", "destroyed_by",
                    "destroyed_at")


def stage_tombstone(session: Session, tombstone: Tombstone) -> None:
    """Have the tombstone written before the transaction that makes it commits."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        doc = {"format": TOMBSTONE_FORMAT, "evidence_id": str(tombstone.evidence_id),
               **{f: getattr(tombstone, f) for f in TOMBSTONE_FIELDS}}
        # Proof of a lawful destruction: kept as long as the certificate that lists it.
        return [Entry(f"{objects.TOMBSTONES}{tombstone.evidence_id}.json", doc,
                      catalogue.proof_lock())]

    objects.stage(session, f"tombstone:{tombstone.evidence_id}", build)


# -- tombstones ------------------------------------------------------------------------

def tombstone_view(session: Session, evidence_id: uuid.UUID) -> dict[str, Any] | None:
    """The tombstone of a destroyed record as plain JSON data (``None`` if there is none)."""
    t = session.get(Tombstone, evidence_id)
    if t is None:
        return None
    return {
        "evidence_id": str(t.evidence_id), "sha256": t.sha256, "size": t.size,
        "media_type": t.media_type, "record": t.record, "schedule": t.schedule,
        "retain_until": t.retain_until.isoformat() if t.retain_until else None,
        "retention_basis": t.retention_basis,
        "disposition_list": {"id": str(t.disposition_list_id),
                             "number": t.disposition_list_number},
        "approvals": t.approvals, "reason": str(messages.loads(t.reason)),
        "reason_message": (said.as_dict() if isinstance(said := messages.loads(t.reason),
                                                        messages.Message) else None),
        "destroyed_by": t.destroyed_by,
        "destroyed_at": t.destroyed_at.isoformat(),
    }
