"""Who is acting, and what their role lets them do.

The API builds a :class:`Principal` from a bearer token (``api/deps.py``); the CLI and
jobs act as the ``system`` principal. Services check capabilities with :func:`require`
and organisation scope with ``archive.accounts.service.ensure_in_scope`` — the rules live
here and in the services, never in routers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.errors import PermissionDenied

# capability → roles that hold it. "system" (CLI and jobs on the server itself) holds all.
CAPABILITIES: dict[str, frozenset[str]] = {
    "evidence.create": frozenset({"officer"}),
    "evidence.read": frozenset({"officer", "auditor", "records_manager"}),
    "evidence.update": frozenset({"officer"}),
    "evidence.search": frozenset({"officer", "auditor", "records_manager"}),
    "evidence.export": frozenset({"auditor", "records_manager"}),
    "audit.read": frozenset({"auditor", "records_manager"}),
    "audit.verify": frozenset({"auditor", "records_manager", "admin"}),
    "orgs.read": frozenset({"officer", "auditor", "records_manager", "admin"}),
    "orgs.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "jobs.read": frozenset({"admin"}),
    "jobs.manage": frozenset({"admin"}),
    "system.health": frozenset({"admin"}),
    "retention.read": frozenset({"records_manager", "auditor"}),
    "retention.manage": frozenset({"records_manager"}),
    "holds.manage": frozenset({"records_manager"}),
    "disposition.manage": frozenset({"records_manager"}),
    # Disbursement vouchers (issue 13): as for evidence — officers register and assemble
    # their organisation's vouchers, auditors review, everyone reading reads in scope.
    "disbursements.create": frozenset({"officer"}),
    "disbursements.read": frozenset({"officer", "auditor", "records_manager"}),
    "disbursements.update": frozenset({"officer"}),
    "disbursements.review": frozenset({"auditor"}),
    "disbursements.profile.read": frozenset({"officer", "auditor", "records_manager"}),
    "disbursements.profile.manage": frozenset({"records_manager"}),
}


@dataclass
class Principal:
    name: str
    role: str
    user_id: int | None = None
    org_ids: tuple[int, ...] = ()
    client: str | None = None
    # Resolved on first use: the ids of every organisation in scope (None = all).
    _scope: frozenset[int] | None = field(default=None, repr=False)
    _scope_loaded: bool = field(default=False, repr=False)

    @property
    def is_system(self) -> bool:
        return self.role == "system"

    def can(self, capability: str) -> bool:
        if self.is_system:
            return True
        return self.role in CAPABILITIES.get(capability, frozenset())


def require(principal: Principal, capability: str) -> None:
    if not principal.can(capability):
        raise PermissionDenied(f"the role {principal.role!r} may not do {capability!r}")


def system_principal(name: str = "system") -> Principal:
    return Principal(name=name, role="system")
