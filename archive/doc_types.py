"""The document types of evidence: one vocabulary for records, schedules and searches.

Below every package that uses it (evidence, retention schedules, the field checks), so
that none of them needs another to know which types exist."""

DOC_TYPES = (
    "receipt", "tax_invoice", "invoice", "e_payment_report", "payment_voucher",
    "contract", "inspection_report", "scan", "other",
)
