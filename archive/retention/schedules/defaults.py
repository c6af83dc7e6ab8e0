"""The default retention schedule (DESIGN.md), seeded into ``retention_schedules``.

Each legal-basis text says which clause of the Regulation of the Prime Minister's Office
on Correspondence (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ) B.E. 2526, as amended up to
No. 4 B.E. 2564, it rests on, and nothing more than that clause says. Where the archive
adds a rule of its own — from when a period is counted, re-checking the audit status,
keeping the audit trail with its record, deleting backups — the text labels it as the
archive's policy (นโยบายของระบบ), so that nobody quotes it as the regulation.

What the texts rely on:

* ข้อ 57: records are kept at least 10 years, except as the clause lists; one exception
  is financial documents that are not documents of title (เอกสารสิทธิ), originals
  audited by the State Audit Office: at least 5 years. The clause does not say from
  which day the years count.
* ข้อ 66–70: the destruction procedure (survey and list, committee, head of agency,
  National Archives).

A contract is a document of title (it evidences the creation of rights), so it is not in
the 5-year exception; an acceptance (inspection) report, a purchase order and a request
for approval are procurement records rather than financial documents: they follow the
general 10-year rule (``general-records``), as do travel orders.

They are data: records managers edit them (every edit is versioned and audited) when the
agency's legal officer words them differently.
"""

from __future__ import annotations

from typing import Any

REGULATION_TH = ("ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 และที่แก้ไขเพิ่มเติมถึง "
                 "(ฉบับที่ 4) พ.ศ. 2564")
REGULATION_EN = ("Regulation of the Prime Minister's Office on Correspondence B.E. 2526 (1983), "
                 "as amended up to No. 4 B.E. 2564 (2021)")
# How the texts mark what is the archive's own rule, not the regulation's.
POLICY_TH = "นโยบายของระบบ (ไม่ใช่ข้อความของระเบียบ)"
POLICY_EN = "Archive policy (not the regulation's words)"
DESTRUCTION_TH = "การทำลายเป็นไปตามข้อ 66–70 (สำรวจ บัญชีขอทำลาย คณะกรรมการ หัวหน้าส่วนราชการ กรมศิลปากร)"
DESTRUCTION_EN = ("Destruction follows clauses 66–70 (survey and list, committee, head of agency, "
                  "National Archives).")

DEFAULT_SCHEDULES: list[dict[str, Any]] = [
    {
        "code": "voucher-evidence",
        "title_th": "หลักฐานการเงินประกอบฎีกาเบิกจ่าย: ใบเสร็จรับเงิน ใบกำกับภาษี ใบสำคัญรับเงิน "
                    "รายงานการโอนเงิน",
        "title_en": "Financial evidence of vouchers (ฎีกา): receipts, tax invoices, "
                    "acknowledgements, e-payment reports",
        "trigger": "audit_closure", "keep_years": 10, "audited_keep_years": 5,
        "action": "review",
        "legal_basis_th": (
            f"{REGULATION_TH} ข้อ 57: หนังสือเก็บไว้ไม่น้อยกว่า 10 ปี; ข้อยกเว้นในข้อเดียวกัน: "
            "หนังสือ เอกสาร และหลักฐานเกี่ยวกับการเงินที่ไม่ใช่เอกสารสิทธิ ซึ่งเป็นต้นฉบับที่"
            "สำนักงานการตรวจเงินแผ่นดินตรวจสอบแล้ว เก็บไว้ไม่น้อยกว่า 5 ปี. "
            f"{DESTRUCTION_TH}. "
            f"{POLICY_TH}: นับ 5 ปีจากวันที่ สตง. แจ้งปิดการตรวจสอบโดยไม่มีข้อทักท้วง และนับ "
            "10 ปีจากวันสิ้นปีงบประมาณที่จ่ายเงินเมื่อยังไม่ได้ตรวจสอบ; ตรวจสอบสถานะการตรวจสอบ"
            "ของ สตง. ก่อนเสนอทำลาย"),
        "legal_basis_en": (
            f"{REGULATION_EN}, clause 57: records are kept at least 10 years; an exception "
            "in the same clause: financial documents that are not documents of title, "
            "originals audited by the State Audit Office, at least 5 years. "
            f"{DESTRUCTION_EN} "
            f"{POLICY_EN}: the 5 years count from the State Audit Office's closure with no "
            "objection, the 10 years from the end of the fiscal year of payment while not "
            "audited; the audit status is re-checked before destruction is proposed."),
    },
    {
        "code": "financial-reports",
        "title_th": "รายงานการเงินและทะเบียนบัญชี",
        "title_en": "Financial reports and ledgers",
        "trigger": "audit_closure", "keep_years": 10, "audited_keep_years": 5,
        "action": "destroy_or_transfer",
        "legal_basis_th": (
            f"{REGULATION_TH} ข้อ 57: หนังสือเก็บไว้ไม่น้อยกว่า 10 ปี; ข้อยกเว้นในข้อเดียวกัน "
            "สำหรับหลักฐานเกี่ยวกับการเงินที่ไม่ใช่เอกสารสิทธิซึ่ง สตง. ตรวจสอบแล้ว: ไม่น้อยกว่า "
            f"5 ปี. {DESTRUCTION_TH}; รายการที่กรมศิลปากรต้องการให้ส่งมอบตามที่กรมศิลปากรแจ้ง. "
            f"{POLICY_TH}: นับ 5 ปีจากวันที่ สตง. แจ้งปิดการตรวจสอบโดยไม่มีข้อทักท้วง และนับ "
            "10 ปีจากวันสิ้นปีงบประมาณเมื่อยังไม่ได้ตรวจสอบ"),
        "legal_basis_en": (
            f"{REGULATION_EN}, clause 57: at least 10 years; the same clause's exception for "
            "financial documents that are not documents of title, audited by the State Audit "
            f"Office: at least 5 years. {DESTRUCTION_EN} Items the National Archives ask for "
            f"are transferred to them. {POLICY_EN}: the 5 years count from the State Audit "
            "Office's closure with no objection, the 10 years from the end of the fiscal year "
            "while not audited."),
    },
    {
        "code": "general-records",
        "title_th": "สัญญา ใบสั่งซื้อสั่งจ้าง ใบตรวจรับพัสดุ บันทึกขออนุมัติ และคำสั่งเดินทาง"
                    "ไปราชการ",
        "title_en": "Contracts, purchase orders, acceptance (inspection) reports, approval "
                    "requests and travel orders",
        "trigger": "fiscal_year_end", "keep_years": 10, "audited_keep_years": None,
        "action": "review",
        "legal_basis_th": (
            f"{REGULATION_TH} ข้อ 57: หนังสือเก็บไว้ไม่น้อยกว่า 10 ปี. ข้อยกเว้น 5 ปีของข้อ 57 ใช้"
            "กับหลักฐานเกี่ยวกับการเงินที่ไม่ใช่เอกสารสิทธิเท่านั้น: สัญญาเป็นเอกสารสิทธิ และ"
            "เอกสารการจัดซื้อจัดจ้างไม่ใช่หลักฐานการเงิน จึงใช้หลักทั่วไป 10 ปี. "
            f"{DESTRUCTION_TH}. {POLICY_TH}: นับ 10 ปีจากวันสิ้นปีงบประมาณของเอกสาร"),
        "legal_basis_en": (
            f"{REGULATION_EN}, clause 57: records are kept at least 10 years. The clause's "
            "5-year exception covers only financial documents that are not documents of "
            "title: a contract is a document of title and procurement records are not "
            f"financial documents, so the general 10 years apply. {DESTRUCTION_EN} "
            f"{POLICY_EN}: the 10 years count from the end of the record's fiscal year."),
    },
    {
        "code": "correspondence",
        "title_th": "หนังสือโต้ตอบทางอิเล็กทรอนิกส์ที่ไม่มีคุณค่าทางจดหมายเหตุ",
        "title_en": "Non-archival electronic correspondence",
        "trigger": "fiscal_year_end", "keep_years": 10, "audited_keep_years": None,
        "action": "destroy",
        "legal_basis_th": (
            f"{REGULATION_TH} ข้อ 57: หนังสือเก็บไว้ไม่น้อยกว่า 10 ปี. {DESTRUCTION_TH}. "
            f"{POLICY_TH}: นับ 10 ปีจากวันสิ้นปีงบประมาณของเอกสาร; เมื่อทำลายแล้วลบออกจาก"
            "ระบบและจากข้อมูลสำรอง"),
        "legal_basis_en": (
            f"{REGULATION_EN}, clause 57: records are kept at least 10 years. "
            f"{DESTRUCTION_EN} {POLICY_EN}: the 10 years count from the end of the record's "
            "fiscal year; destroyed records are deleted from the system and from backups."),
    },
    {
        "code": "with-parent",
        "title_th": "ร่องรอยการตรวจสอบ รายงานผลการตรวจสอบไฟล์ หลักฐานลายมือชื่อและการประทับ"
                    "เวลา",
        "title_en": "Audit trail, validation reports, signature and time-stamp evidence",
        "trigger": "with_parent", "keep_years": None, "audited_keep_years": None,
        "action": "with_parent",
        "legal_basis_th": (
            f"{POLICY_TH}: เก็บไว้ตลอดอายุของเอกสารหลักที่เกี่ยวข้อง และทำลายพร้อมกับเอกสารหลัก "
            "(tombstone และเหตุการณ์ในร่องรอยการตรวจสอบยังคงอยู่); ระเบียบงานสารบรรณไม่ได้"
            "กำหนดเรื่องนี้ไว้โดยเฉพาะ"),
        "legal_basis_en": (
            f"{POLICY_EN}: kept for the life of the parent record and disposed of with it "
            "(the tombstone and the audit events remain); the Regulation on Correspondence "
            "has no specific rule on this."),
    },
]

# Document type → schedule code. "other" gets the schedule that never shortens on audit.
DEFAULT_DOC_TYPES: dict[str, str] = {
    "receipt": "voucher-evidence",
    "tax_invoice": "voucher-evidence",
    "invoice": "voucher-evidence",
    "e_payment_report": "voucher-evidence",
    "payment_acknowledgement": "voucher-evidence",
    "payment_certificate": "voucher-evidence",
    "withholding_certificate": "voucher-evidence",
    "travel_report": "voucher-evidence",
    "payroll": "voucher-evidence",
    "scan": "voucher-evidence",
    "request_report": "general-records",
    "purchase_order": "general-records",
    "contract": "general-records",
    "inspection_report": "general-records",
    "travel_order": "general-records",
    "other": "correspondence",
}
# A document type added later without a mapping gets this schedule (10 years at least).
FALLBACK_SCHEDULE = "correspondence"
