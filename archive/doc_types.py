"""The document types of evidence: one vocabulary for records, schedules and searches.

Below every package that uses it (evidence, retention schedules, the field checks), so
that none of them needs another to know which types exist."""

# What a file is, aligned with the evidence roles of DISBURSEMENT.md (a role is what a file
# proves in one voucher; its type is what it is). ``scan`` is scanned paper of any kind.
DOC_TYPES = (
    "receipt", "tax_invoice", "invoice", "e_payment_report", "payment_acknowledgement",
    "payment_certificate", "withholding_certificate", "request_report", "purchase_order",
    "contract", "inspection_report", "travel_order", "travel_report", "payroll", "scan",
    "other",
)
# Types that were renamed: old value → new value (migration 0081 moved existing records).
# ``payment_voucher`` was labelled ใบสำคัญรับเงิน, which is the payee's acknowledgement.
RENAMED_DOC_TYPES = {"payment_voucher": "payment_acknowledgement"}
# Names in Thai and English (the Thai names of DISBURSEMENT.md's evidence roles).
DOC_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "receipt": ("ใบเสร็จรับเงิน", "receipt"),
    "tax_invoice": ("ใบกำกับภาษี", "tax invoice"),
    "invoice": ("ใบแจ้งหนี้ / ใบส่งของ", "invoice or delivery note"),
    "e_payment_report": ("รายงานการโอนเงิน / หลักฐานการโอนเงิน", "e-payment (transfer) report"),
    "payment_acknowledgement": ("ใบสำคัญรับเงิน", "payee's acknowledgement of payment"),
    "payment_certificate": ("ใบรับรองการจ่ายเงิน", "payment certificate"),
    "withholding_certificate": ("หนังสือรับรองการหักภาษี ณ ที่จ่าย (50 ทวิ)",
                                "withholding tax certificate (50 bis)"),
    "request_report": ("รายงานขอซื้อขอจ้าง / บันทึกขออนุมัติ",
                       "purchase request / approval memo"),
    "purchase_order": ("ใบสั่งซื้อ / ใบสั่งจ้าง", "purchase or work order"),
    "contract": ("สัญญา / ข้อตกลง", "contract or agreement"),
    "inspection_report": ("ใบตรวจรับพัสดุ", "inspection (acceptance) report"),
    "travel_order": ("คำสั่ง / อนุมัติเดินทางไปราชการ", "travel order"),
    "travel_report": ("รายงานการเดินทางไปราชการ (แบบ 8708)",
                      "travel expense report (form 8708)"),
    "payroll": ("หลักฐานการจ่ายเงินเดือน ค่าจ้าง", "payroll list"),
    "scan": ("เอกสารสแกน", "scanned document"),
    "other": ("เอกสารอื่น", "other"),
}
