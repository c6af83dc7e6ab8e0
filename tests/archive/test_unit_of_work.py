"""The unit of work: commit on success, roll back on error, refusals audited apart, and
the audit chain appended by the listener the session factory registers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from archive import audit
from archive.accounts.principal import system_principal
from archive.audit.models import AuditEvent
from archive.errors import Conflict
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.unit_of_work import make_session_factory, session_scope
from tests.conftest import Env


def _codes(env: Env) -> list[str]:
    with env.session() as s:
        return sorted(s.scalars(sa.select(Organisation.code)))


def _actions(env: Env) -> list[tuple[str, str]]:
    with env.session() as s:
        return [(e.action, e.outcome) for e in s.scalars(
            sa.select(AuditEvent).order_by(AuditEvent.seq))]


def test_commit_on_success_with_its_audit_events(env: Env):
    with session_scope(env.sessions) as s:
        orgs.create(s, system_principal("test"), code="uow-1", name="หนึ่ง", type="dla-office")
    assert _codes(env) == ["uow-1"]
    assert _actions(env) == [("org.create", "ok")]


def test_an_error_rolls_back_everything_and_a_refusal_is_audited_apart(env: Env):
    principal = system_principal("test")
    with pytest.raises(Conflict), session_scope(env.sessions) as s, \
            audit.audited_refusal(principal, "test.refused", target_type="organisation",
                                  target_id="uow-2"):
        orgs.create(s, principal, code="uow-2", name="สอง", type="dla-office")
        raise Conflict("no")
    assert _codes(env) == []
    assert _actions(env) == [("test.refused", "refused")]


def test_sessions_from_elsewhere_write_no_audit_events(env: Env):
    """The chain is appended by the factory's listener, not by a global hook on Session."""
    from sqlalchemy.orm import sessionmaker

    bare = sessionmaker(env.engine)
    with bare() as s:
        audit.record(s, actor=system_principal("test"), action="test.bare")
        s.commit()
    assert _actions(env) == []
    with session_scope(make_session_factory(env.engine)) as s:
        audit.record(s, actor=system_principal("test"), action="test.made_here")
    assert _actions(env) == [("test.made_here", "ok")]
