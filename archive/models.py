"""Every table of the archive, imported in one place for migrations and metadata."""

from archive.accounts.models import ApiToken, LoginFailure, User, UserOrganisation, WebSession
from archive.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from archive.db import Base
from archive.disbursements.models import (
    Disbursement,
    DisbursementEvidence,
    DisbursementFinding,
    DisbursementHistory,
    DisbursementProfile,
    DisbursementProfileVersion,
    DisbursementReview,
)
from archive.evidence.models import Blob, Evidence, EvidenceHistory, Inspection, Rendition
from archive.orgs.models import Organisation
from archive.queue.models import Job, SystemCheck, WorkerBeat
from archive.retention.schedules.models import (
    DocTypeSchedule,
    RetentionSchedule,
    RetentionScheduleVersion,
    Tombstone,
)
from archive.search.models import BlobText, Export

__all__ = ["ApiToken", "AuditCheckpoint", "AuditEvent", "AuditHead", "Base", "Blob", "BlobText",
           "Disbursement", "DisbursementEvidence", "DisbursementFinding",
           "DisbursementHistory", "DisbursementProfile", "DisbursementProfileVersion",
           "DisbursementReview", "DocTypeSchedule", "Evidence", "EvidenceHistory", "Export",
           "Inspection", "Job", "Rendition",
           "LoginFailure", "Organisation", "RetentionSchedule", "RetentionScheduleVersion",
           "SystemCheck", "Tombstone", "User", "UserOrganisation", "WebSession", "WorkerBeat"]
