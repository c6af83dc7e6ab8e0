"""The pages' words in Thai (the default) and English, from gettext catalogs.

Templates and routes write English (``_("Upload")``); the Thai is in
``api/web/locale/th/LC_MESSAGES/messages.po`` (the "messages" domain; ``babel.cfg`` says
where ``pybabel extract`` finds the strings). Codes (document types, roles, statuses …)
have their English name in :data:`LABELS` and their Thai in the same catalog, with the
kind as ``msgctxt``. Messages of the services are :class:`archive.messages.Message`
objects (a code with parameters), rendered from the core's own catalog.

The catalogs are compiled in memory from the ``.po`` files when first used: there is no
build step and no generated ``.mo`` to keep in step. A test checks that every string the
templates and routes use, every label and every service message has its Thai.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.doc_types import DOC_TYPE_NAMES
from archive.messages import load_catalog

LANGS = ("th", "en")
DEFAULT = "th"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalog(lang: str) -> gettext.NullTranslations:
    return load_catalog(LOCALE_DIR, DOMAIN, lang)


def translator(lang: str) -> Callable[..., str]:
    """``_`` of the templates: ``_("{n} times", n=3)``."""
    gettext_ = catalog(lang).gettext

    def tr(text: str, **values: Any) -> str:
        said = gettext_(text)
        return said.format(**values) if values else said
    return tr


def label(kind: str, code: Any, lang: str) -> str | None:
    """The name of a code (``label("role", "officer", "th")``), or None if unknown."""
    if kind == "doc_type":
        names = DOC_TYPE_NAMES.get(str(code))    # one list, in the core
        return None if names is None else names[0 if lang == "th" else 1]
    english = LABELS.get(kind, {}).get(str(code))
    if english is None:
        return None
    return english if lang == "en" else catalog(lang).pgettext(kind, english)


# kind → code → English name; the Thai is in the catalog (msgctxt = kind).
LABELS: dict[str, dict[str, str]] = {
    "role": {
        "officer": "finance officer",
        "auditor": "auditor",
        "records_manager": "records manager",
        "admin": "administrator",
        "system": "system",
        "none": "anonymous",
    },
    "field": {
        "org_code": "Organisation",
        "doc_type": "Document type",
        "fiscal_year": "Fiscal year (BE)",
        "voucher_no": "Voucher no.",
        "doc_number": "Document no.",
        "issue_date": "Issue date",
        "issuer_name": "Issuer",
        "issuer_tax_id": "Issuer tax ID",
        "issuer_branch": "Branch",
        "amount": "Amount",
        "vat_amount": "VAT",
        "currency": "Currency",
        "description": "Description",
        "file": "File",
        "issue_date_from": "Issued from",
        "issue_date_to": "Issued until",
        "uploaded_from": "Uploaded from",
        "uploaded_to": "Uploaded until",
        "amount_min": "Amount from",
        "amount_max": "Amount up to",
        "pdfa": "PDF/A",
        "status": "Status",
        "on_hold": "On hold",
        "include_destroyed": "Show destroyed records",
        "sha256": "SHA-256",
        "q": "Text",
        "sort": "Order",
        "limit": "Per page",
        "cursor": "Page",
        "password": "Password",
        "again": "Password again",
        "current": "Current password",
        "reason": "Reason",
        "name": "Name",
        "code": "Code",
        "expires_on": "Expiry",
        "chair": "Chair",
        "members": "Members",
        "sent_on": "Sent on",
        "responded_on": "Answered on",
        "closed_on": "Closed on",
        "record_ids": "Record ids",
        "filter": "Filter",
        "votes": "Votes",
        "keep_until": "Keep until",
        "comment": "Comment",
        "action": "Action",
        "decision": "Decision",
        "result": "Result",
        "review_days": "Review period",
        "voucher_date": "Voucher date",
        "kind": "Kind",
        "payee_name": "Payee",
        "payee_tax_id": "Payee tax ID",
        "gross_amount": "Gross amount",
        "withholding_tax": "Withholding tax",
        "net_amount": "Net amount",
        "payment_method": "Payment method",
        "payment_date": "Payment date",
        "budget_code": "Budget code",
        "expenditure_category": "Expenditure category",
        "procurement_method": "Procurement method",
        "egp_project_no": "e-GP project no.",
        "contract_no": "Contract / PO no.",
        "outcome": "Outcome",
        "note": "Note",
        "finding": "Finding",
        "complete": "Evidence",
        "role": "Role",
        "disbursement_id": "Voucher",
    },
    "status": {
        "received": "received",
        "inspected": "inspected",
        "inspection_failed": "inspection failed",
        "destroyed": "destroyed",
    },
    "pdfa": {
        "compliant": "PDF/A",
        "not": "not PDF/A",
        "unchecked": "not checked",
    },
    "on_hold": {
        "true": "on hold",
        "false": "not on hold",
    },
    "include_destroyed": {
        "true": "show them too",
        "false": "leave them out",
    },
    "sort": {
        "-uploaded": "latest upload first",
        "uploaded": "oldest upload first",
        "-issue_date": "latest issue date first",
        "issue_date": "oldest issue date first",
        "-amount": "largest amount first",
        "amount": "smallest amount first",
    },
    "export_status": {
        "queued": "queued",
        "running": "running",
        "done": "done",
        "failed": "failed",
    },
    "job_status": {
        "queued": "queued",
        "running": "running",
        "done": "done",
        "failed": "failed",
    },
    "check": {
        "worm_probe": "WORM probe",
        "fixity": "fixity audit",
        "reconcile": "reconcile",
    },
    "alert": {
        "fixity_mismatch": "fixity mismatch",
        "worm_probe_failed": "WORM probe failed",
    },
    "chain_problem": {
        "edited": "an event was edited",
        "moved": "events were moved or removed",
        "deleted": "events were deleted",
        "rewritten": "the chain was rewritten",
        "truncated": "the end of the chain was cut off",
        "checkpoint": "a checkpoint is wrong",
    },
    "invoice_verdict": {
        "valid": "valid",
        "invalid": "invalid",
        "not_validated": "not validated",
    },
    "integrity": {
        "valid": "unchanged since signing",
        "failed": "FAILED",
        "unknown": "could not be checked",
    },
    "trust": {
        "trusted": "trusted",
        "untrusted": "not trusted",
        "not_checked": "not checked",
    },
    "coverage": {
        "entire_file": "the whole file",
        "entire_revision": "the signed revision",
        "partial": "part of the file",
        "unclear": "unclear",
    },
    "list_count": {
        "to_destroy": "to be destroyed",
        "to_transfer": "to be transferred",
        "to_keep": "to be kept longer",
        "on_hold": "of them on legal hold",
        "destroyed": "destroyed",
        "transferred": "transferred",
        "kept": "kept longer",
        "held": "not destroyed: on legal hold",
        "blocked": "not destroyed: blocked",
        "removed": "removed",
    },
    "dpi_status": {
        "ok": "meets 150 dpi",
        "low": "below 150 dpi",
        "unknown": "unknown",
    },
    "pdfa_family": {
        "actions": "actions and links",
        "annotations": "annotations and forms",
        "colour": "colour spaces and ICC profiles",
        "document": "document",
        "embedded": "embedded files",
        "file_structure": "file structure",
        "fonts": "fonts",
        "graphics": "colour, images, transparency",
        "metadata": "metadata",
        "structure": "logical structure",
    },
    "trigger": {
        "fiscal_year_end": "end of the fiscal year",
        "audit_closure": "State Audit Office closure",
        "permanent": "permanent",
        "with_parent": "with the parent record",
    },
    "disposal_action": {
        "review": "disposition review",
        "destroy": "destroy",
        "transfer": "transfer to the National Archives",
        "destroy_or_transfer": "destroy or transfer by type",
        "with_parent": "with the parent record",
    },
    "hold_status": {
        "active": "active",
        "released": "released",
    },
    "closure_result": {
        "no_objection": "no objection",
        "objection": "objection",
    },
    "list_status": {
        "draft": "draft",
        "committee_review": "committee review",
        "committee_approved": "committee approved",
        "head_approved": "head of agency approved",
        "archives_review": "National Archives review",
        "executing": "executing",
        "executed": "executed",
        "rejected": "rejected",
        "empty": "empty",
        "closed": "closed",
    },
    "item_status": {
        "listed": "listed",
        "destroyed": "destroyed",
        "kept": "kept",
        "transferred": "transferred",
        "removed": "removed",
        "blocked": "blocked",
    },
    "item_action": {
        "destroy": "destroy",
        "keep": "keep longer",
        "transfer": "transfer",
        "remove": "remove",
    },
    "vote": {
        "approve": "approve",
        "object": "object",
    },
    "decision": {
        "approve": "approve",
        "reject": "reject",
    },
    "archives_result": {
        "consent": "consent",
        "approve": "approve",
        "object": "objection to items",
        "objection": "objection",
        "no objection within the review period": "no objection within the review period",
    },
    "certificate_kind": {
        "execution": "destruction",
        "purge": "purge of remaining versions",
    },
    "org_type": {
        "dla-office": "DLA office",
        "province": "provincial office",
        "pao": "provincial administrative organisation",
        "municipality": "municipality",
        "sao": "subdistrict administrative organisation",
        "pattaya": "Pattaya City",
    },
    "outcome": {
        "ok": "ok",
        "denied": "denied",
        "refused": "refused by the store",
        "alert": "alert",
        "critical": "critical",
    },
    "action": {
        "evidence.create": "uploaded",
        "evidence.read": "opened",
        "evidence.download": "downloaded",
        "evidence.update": "metadata corrected",
        "evidence.inspect": "inspected",
        "evidence.search": "searched",
        "evidence.export": "exported",
        "evidence.lookup_hash": "looked up by hash",
        "evidence.integrity_failure": "stored bytes altered: not served",
        "evidence.seal": "legacy metadata sealed",
        "hold.create": "legal hold placed",
        "hold.release": "legal hold released",
        "retention.extend": "retention extended",
        "disposition.survey": "listed for disposition",
        "disposition.destroy": "destroyed",
        "disposition.transfer": "transferred",
        "disposition.delete_object": "bytes deleted",
        "disbursement.create": "voucher registered",
        "disbursement.read": "voucher opened",
        "disbursement.update": "voucher corrected",
        "disbursement.link": "evidence linked",
        "disbursement.unlink": "evidence unlinked",
        "disbursement.review": "voucher reviewed",
        "disbursement.import": "register imported",
    },
    "finding": {
        "missing_evidence": "missing evidence",
        "amount_mismatch": "amount mismatch",
        "payee_mismatch": "payee mismatch",
        "duplicate_invoice": "duplicate invoice",
        "split_purchase": "split purchase",
        "paid_before_acceptance": "paid before acceptance",
        "invalid_payee_tax_id": "invalid payee tax ID",
    },
    "evidence_role": {
        "request_report": "request report",
        "purchase_order": "purchase order",
        "contract": "contract",
        "inspection_report": "inspection report",
        "invoice": "invoice",
        "tax_invoice": "tax invoice",
        "receipt": "receipt",
        "payment_acknowledgement": "payment acknowledgement",
        "payment_certificate": "payment certificate",
        "e_payment_report": "e-payment report",
        "withholding_certificate": "withholding tax certificate",
        "travel_order": "travel order",
        "travel_report": "travel report",
        "payroll": "payroll list",
        "other": "other",
    },
    "kind": {
        "procurement": "procurement",
        "travel": "travel",
        "payroll": "payroll",
        "utilities": "utilities",
        "other": "other",
    },
    "payment_method": {
        "e_payment": "e-payment",
        "cheque": "cheque",
        "cash": "cash",
    },
    "review_outcome": {
        "no_observation": "no observation",
        "observation": "observation",
    },
    "import_status": {
        "created": "created",
        "updated": "updated",
        "unchanged": "unchanged",
        "error": "refused",
    },
    "job_kind": {
        "inspect": "inspect an upload",
        "extract_text": "extract text for search",
        "export": "make an evidence pack",
        "fixity": "fixity audit",
        "worm_probe": "WORM probe",
        "audit_checkpoint": "audit-trail checkpoint",
        "reconcile": "reconcile database and store",
        "retention_compute": "compute retention",
        "retention_recompute": "recompute retention",
        "retention_sync_locks": "sync store locks",
        "retention_survey": "disposition survey",
        "disposition_execute": "execute a disposition",
        "disposition_purge": "purge remaining versions",
        "disbursements_recompute": "recheck vouchers",
        "ocr": "OCR a scan",
    },
}

# error code → what to tell the reader (English; the Thai is in the catalog)
ERROR_CODES: dict[str, str] = {
    "duplicate_upload": "This file is already archived for the organisation.",
    "hold_exists": "An identical legal hold is already in force.",
    "committee_not_finished": "The committee has not finished its review yet.",
    "not_found": "Not found, or outside your scope.",
    "forbidden": "Your role may not do this.",
    "csrf_failed": "The form had expired. Reload the page and try again.",
    "invalid_metadata": "Some fields are not valid.",
    "invalid_request": "Some fields are not valid.",
    "unsupported_media_type": "This type of file is not accepted.",
    "media_type_mismatch": "The file name does not match what the file contains.",
    "payload_too_large": "The file is larger than the limit.",
    "empty_file": "The file is empty.",
    "blob_destroyed": "These bytes were destroyed by an approved disposition and cannot be "
                      "archived again.",
    "org_not_found": "No such organisation.",
    "version_conflict": "Someone else changed this record meanwhile. Reload and try again.",
    "wrong_step": "This step does not fit the list's current stage.",
    "not_executable": "The list cannot be executed yet.",
    "steps_missing": "Approvals are missing.",
    "record_on_hold": "A record is under legal hold.",
    "not_on_committee": "Only members of this list's committee take this step.",
    "not_chair": "Only the chair closes the committee's review.",
    "not_head_of_agency": "Only the head of agency takes this step.",
    "preparer_on_committee": "Whoever prepared the list cannot sit on its committee.",
    "review_period_too_short": "The review period cannot be shorter than the rule's.",
    "already_confirmed": "You already confirmed this destruction.",
    "invalid_parent": "The organisation does not fit there in the tree (DLA office, "
                      "provincial office, LAO).",
    "invalid_org_code": "The organisation code is not in the required format.",
    "invalid_register": "The register file cannot be read.",
    "votes_missing": "Every committee member must vote on every item first.",
    "already_voted": "You already voted on this item (votes are final).",
    "duplicate_person": "One person, one function: someone holds two functions.",
    "ineligible_user": "This user cannot hold that function.",
    "user_not_found": "No such user.",
    "own_tokens_only": "API tokens are created only by their owner.",
    "own_password_only": "Only the user or the operator sets a password.",
    "named_user_required": "This step is taken by a named user.",
    "gone": "The record was destroyed by an approved disposition.",
    "weak_password": "The password is too weak.",
    "wrong_password": "The current password is wrong.",
    "store_unavailable": "The file store cannot be reached. Try again shortly.",
    "database_unavailable": "The database cannot be reached. Try again shortly.",
    "duplicate_voucher": "This voucher number is already registered for the organisation.",
    "invalid_voucher": "Some fields are not valid.",
}
