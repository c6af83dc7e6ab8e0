"""The unit of work: where sessions are made and where transactions end.

Services take a ``Session`` and never commit. A transaction ends in one place,
:func:`session_scope`, opened only by entry points — the API request dependency
(``api/deps.py``), the worker's job context, the scheduler and each CLI command:

* the block returns → **commit**;
* the block raises → **roll back**, and nothing of the unit of work stays. If the error
  is a refused attempt (:func:`archive.audit.audited_refusal`), the refusal is then
  recorded in the audit trail in a transaction of its own — after the rollback, because
  on SQLite the failed transaction may still hold the write lock the record needs.

Work that must commit in steps (a disposition executed item by item, fixity re-hashed
object by object, an export marked running before it is built) takes :data:`UnitsOfWork`
from its entry point — the job context's ``session``, or :func:`units_of` a factory — and
opens one unit of work per step; domain code never opens one on its own.

**The audit chain is appended at commit.** :func:`make_session_factory` registers
:func:`archive.audit.service.append_pending` as the factory's ``before_commit``
listener: :func:`archive.audit.record` only queues an event on the session, and the
queued events are chained and written just before that session commits, in the same
transaction as the change they record. A session that does not come from this factory
writes no audit events — make sessions here.

**The catalogue is written at commit too**, just before the audit chain: objects staged
with :func:`archive.catalogue.objects.stage` (record manifests, inspection reports,
snapshots of organisations and schedules, tombstones) go into the store given to
:func:`make_session_factory` before the rows they describe are committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from archive.audit import service as audit
from archive.catalogue import objects as catalogue
from archive.storage import ObjectStore


def make_session_factory(engine: Engine, store: ObjectStore | None = None, *,
                         snapshot_years: int = 10) -> sessionmaker[Session]:
    """Sessions of the archive, with the audit chain's commit hooks (see above) and the
    catalogue's: objects staged with :func:`archive.catalogue.objects.stage` are written
    into ``store`` before the commit (``snapshot_years``: DEFAULT_RETENTION_YEARS, the
    lock of snapshots not tied to a record's bytes). Without a store, a session that
    staged catalogue objects refuses to commit."""
    # Objects stay readable after commit: responses are built from them after the
    # unit of work has committed.
    info = {catalogue.INFO_KEY: catalogue.Catalogue(store, snapshot_years)} if store else {}
    factory = sessionmaker(engine, expire_on_commit=False, info=info)
    # The store first, then the rows (and the audit events recording them).
    event.listen(factory, "before_commit", catalogue.write_pending)
    event.listen(factory, "before_commit", audit.append_pending)
    event.listen(factory, "after_soft_rollback", catalogue.drop_pending)
    event.listen(factory, "after_soft_rollback", audit.drop_pending)
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success; on error roll back (and audit a refusal)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        session.close()
        attempt = audit.refused_attempt(exc)
        if attempt is not None:
            with factory() as log:
                audit.record(log, **attempt)
                log.commit()
        raise
    finally:
        session.close()


UnitsOfWork = Callable[[], AbstractContextManager[Session]]
"""Opens one unit of work per call: what work that commits in steps takes."""


def units_of(factory: sessionmaker[Session]) -> UnitsOfWork:
    """Units of work of ``factory`` (for entry points that hold a session factory)."""
    return lambda: session_scope(factory)
