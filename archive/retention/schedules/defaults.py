"""The default retention schedule (DESIGN.md), seeded into ``retention_schedules``.

The legal-basis texts summarise the Regulation of the Prime Minister's Office on
Correspondence (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ) B.E. 2526 as amended up to
No. 4 B.E. 2564, as DESIGN.md states it. They are data: records managers edit them (every
edit is versioned and audited) when the agency's legal officer words them differently.
"""

from __future__ import annotations

from typing import Any

REGULATION_TH = ("ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 และที่แก้ไขเพิ่มเติมถึง "
                 "(ฉบับที่ 4) พ.ศ. 2564")
REGULATION_EN = ("Regulation of the Prime Minister's Office on Correspondence B.E. 2526 (1983), "
                 "as amended up to No. 4 B.E. 2564 (2021)")

DEFAULT_SCHEDULES: list[dict[str, Any]] = [
    {
        "code": "voucher-evidence",
        "title_th": "หลักฐานประกอบฎีกาเบิกจ่าย: ใบเสร็จรับเงิน ใบกำกับภาษี "
                    "รายงานการจ่ายเงินทางอิเล็กทรอนิกส์",
        "title_en": "Voucher (ฎีกา) evidence: receipts, tax invoices, e-payment reports",
        "trigger": "audit_closure", "keep_years": 10, "audited_keep_years": 5,
        "action": "review",
        "legal_basis_th": (
            f"{REGULATION_TH}: หนังสือ เอกสาร และหลักฐานเกี่ยวกับการเงินที่สำนักงานการตรวจเงิน"
            "แผ่นดินตรวจสอบแล้วไม่มีข้อทักท้วง เก็บไว้ไม่น้อยกว่า 5 ปี นับแต่วันที่ตรวจสอบ"
            "เสร็จ; ที่ยังไม่ได้ตรวจสอบ เก็บไว้ไม่น้อยกว่า 10 ปี นับแต่วันสิ้นปีงบประมาณที่จ่าย "
            "แล้วจึงพิจารณาทำลาย (ตรวจสอบสถานะการตรวจสอบของ สตง. ก่อน)"),
        "legal_basis_en": (
            f"{REGULATION_EN}: financial documents audited by the State Audit Office with no "
            "objection are kept at least 5 years from the closure of the audit; not yet "
            "audited, at least 10 years from the end of the fiscal year of payment; then "
            "reviewed for disposition (re-check the audit status first)."),
    },
    {
        "code": "financial-reports",
        "title_th": "รายงานการเงินและทะเบียนบัญชี",
        "title_en": "Financial reports and ledgers",
        "trigger": "audit_closure", "keep_years": 10, "audited_keep_years": 5,
        "action": "destroy_or_transfer",
        "legal_basis_th": (
            f"{REGULATION_TH}: อายุการเก็บเช่นเดียวกับหลักฐานการเงิน (5 ปีหลัง สตง. ตรวจสอบ"
            "ไม่มีข้อทักท้วง หรือ 10 ปีนับแต่วันสิ้นปีงบประมาณหากยังไม่ได้ตรวจสอบ) แล้วทำลาย"
            "หรือส่งมอบให้กรมศิลปากร (หอจดหมายเหตุแห่งชาติ) ตามประเภท"),
        "legal_basis_en": (
            f"{REGULATION_EN}: kept as financial evidence (5 years after a State Audit Office "
            "audit closed with no objection, or 10 years from the end of the fiscal year when "
            "not audited), then destroyed or transferred to the National Archives (Fine Arts "
            "Department) by type."),
    },
    {
        "code": "correspondence",
        "title_th": "หนังสือโต้ตอบทางอิเล็กทรอนิกส์ที่ไม่มีคุณค่าทางจดหมายเหตุ",
        "title_en": "Non-archival electronic correspondence",
        "trigger": "fiscal_year_end", "keep_years": 10, "audited_keep_years": None,
        "action": "destroy",
        "legal_basis_th": (
            f"{REGULATION_TH}: หนังสือทั่วไปเก็บไว้ไม่น้อยกว่า 10 ปี เมื่อพ้นกำหนดแล้วทำลายได้"
            "ตามคำสั่งหัวหน้าส่วนราชการ โดยลบออกจากระบบและข้อมูลสำรอง"),
        "legal_basis_en": (
            f"{REGULATION_EN}: ordinary documents are kept at least 10 years; after that "
            "they may be destroyed on the order of the head of agency, deleted from the "
            "system and from backups."),
    },
    {
        "code": "with-parent",
        "title_th": "ร่องรอยการตรวจสอบ รายงานผลการตรวจสอบไฟล์ หลักฐานลายมือชื่อและการประทับ"
                    "เวลา",
        "title_en": "Audit trail, validation reports, signature and time-stamp evidence",
        "trigger": "with_parent", "keep_years": None, "audited_keep_years": None,
        "action": "with_parent",
        "legal_basis_th": (
            f"{REGULATION_TH}: เก็บไว้ตลอดอายุของเอกสารหลักที่เกี่ยวข้อง และทำลายพร้อมกับ"
            "เอกสารหลัก (tombstone และเหตุการณ์ในร่องรอยการตรวจสอบยังคงอยู่)"),
        "legal_basis_en": (
            f"{REGULATION_EN}: kept for the life of the parent record and disposed of with "
            "it (the tombstone and the audit events remain)."),
    },
]

# Document type → schedule code. "other" gets the schedule that never shortens on audit.
DEFAULT_DOC_TYPES: dict[str, str] = {
    "receipt": "voucher-evidence",
    "tax_invoice": "voucher-evidence",
    "invoice": "voucher-evidence",
    "e_payment_report": "voucher-evidence",
    "payment_voucher": "voucher-evidence",
    "contract": "voucher-evidence",
    "inspection_report": "voucher-evidence",
    "scan": "voucher-evidence",
    "other": "correspondence",
}
# A document type added later without a mapping gets this schedule (10 years at least).
FALLBACK_SCHEDULE = "correspondence"
