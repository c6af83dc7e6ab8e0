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
from dataclasses import dataclass

import sqlalchemy as sa
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


# -- reads that a replica may serve -----------------------------------------------------

@dataclass(frozen=True)
class ReplicaState:
    """What a read replica says about itself (PostgreSQL; other databases are current)."""

    standby: bool                 # a physical standby in recovery
    caught_up: bool               # it has replayed all the WAL it has received
    lag_seconds: float | None     # since the last transaction it replayed (None: none yet)

    def fresh_within(self, max_lag: float) -> bool:
        """Fresh enough for a search: current, or behind by at most ``max_lag`` seconds."""
        if not self.standby or self.caught_up:
            return True
        return self.lag_seconds is not None and self.lag_seconds <= max_lag


_STATE_SQL = sa.text(
    "SELECT pg_is_in_recovery(), "
    "coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false), "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())")


def replica_state(session: Session) -> ReplicaState:
    if session.get_bind().dialect.name != "postgresql":
        return ReplicaState(standby=False, caught_up=True, lag_seconds=0.0)
    standby, caught_up, lag = session.execute(_STATE_SQL).one()
    return ReplicaState(bool(standby), bool(caught_up) if standby else True,
                        float(lag) if lag is not None else (None if standby else 0.0))


class ReadSessions:
    """Read-only units of work for search and exports: on the read replica
    (``ARCHIVE_DATABASE_REPLICA_URL``) when it is fresh enough, else on the primary.

    A read session never commits (it rolls back at the end) and has no audit hooks: what
    a read must record (the search, the export) is recorded in the caller's own unit of
    work on the primary. On PostgreSQL its transaction is ``READ ONLY``, so a write that
    strays here fails at once instead of landing on one database only.
    """

    def __init__(self, primary: Engine, replica: Engine | None = None, *,
                 max_lag_seconds: float = 30.0) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self._primary = sessionmaker(primary, expire_on_commit=False)
        self._replica = sessionmaker(replica, expire_on_commit=False) if replica else None

    @contextmanager
    def search(self, primary: Session | None = None) -> Iterator[Session]:
        """For a search or a listing: the replica if it is behind by at most the
        allowed lag (a record uploaded a moment ago may be missing), else the primary —
        the caller's own ``primary`` session when given (no second connection)."""
        with self._replica_if(
                lambda state, _: state.fresh_within(self.max_lag_seconds), primary) as s:
            yield s

    @contextmanager
    def as_of_now(self) -> Iterator[Session]:
        """For work that must see everything committed on the primary until now (an
        evidence pack of a request just made): the replica only once it has replayed
        the primary's current WAL position, else the primary."""
        if self._replica is None or self.primary.dialect.name != "postgresql":
            with self._read(self._replica or self._primary) as s:
                yield s
            return
        with self.primary.connect() as conn:
            position = conn.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()

        def replayed(state: ReplicaState, session: Session) -> bool:
            if not state.standby:
                return True
            return bool(session.execute(
                sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                {"lsn": position}).scalar())
        with self._replica_if(replayed) as s:
            yield s

    @contextmanager
    def _replica_if(self, fresh: Callable[[ReplicaState, Session], bool],
                    primary: Session | None = None) -> Iterator[Session]:
        if self._replica is not None:
            with self._read(self._replica) as session:
                if fresh(replica_state(session), session):
                    yield session
                    return
        if primary is not None:
            yield primary
            return
        with self._read(self._primary) as session:
            yield session

    @staticmethod
    @contextmanager
    def _read(factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(sa.text("SET TRANSACTION READ ONLY"))
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        if self.replica is not None:
            self.replica.dispose()


def read_sessions(primary: Engine, replica_url: str | None, *,
                  max_lag_seconds: float = 30.0) -> ReadSessions:
    """The read sessions of an entry point (API, worker): ``replica_url`` is the
    setting ``ARCHIVE_DATABASE_REPLICA_URL``."""
    from archive.db import make_engine

    replica = make_engine(replica_url) if replica_url else None
    return ReadSessions(primary, replica, max_lag_seconds=max_lag_seconds)
