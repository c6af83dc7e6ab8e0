"""The human-readable rendering of a destruction certificate (HTML, printable).

The JSON document is the certificate; this rendering shows the same facts for people and
is stored beside it (both locked, both hashed into the audit trail).
"""

from __future__ import annotations

from html import escape
from typing import Any

STATEMENT_TH = (
    "ขอรับรองว่าเอกสารอิเล็กทรอนิกส์ที่มีสถานะ \"ทำลายแล้ว\" ในบัญชีนี้ ได้ถูกทำลายตามระเบียบ"
    "สำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ โดยลบข้อมูลทุกรุ่น (version) ออกจากที่เก็บข้อมูล และลบข้อมูล"
    "ที่ได้จากเอกสาร (ข้อความที่สกัด รายงานผลการตรวจสอบ) จนไม่อาจอ่านหรือกู้คืนเป็นเรื่องได้อีก "
    "คงเหลือเพียงบันทึกนี้ รายการ tombstone (เมทาดาทาและค่า SHA-256) และร่องรอยการตรวจสอบ")
STATEMENT_EN = (
    "The electronic records marked \"destroyed\" on this list were destroyed under the "
    "Regulation on Correspondence: every stored version of their bytes was deleted from the "
    "object store and the data derived from them (extracted text, inspection reports) was "
    "purged, so that their content cannot be read or reconstructed. What remains is this "
    "certificate, the tombstones (metadata and SHA-256) and the audit trail. Where an item "
    "says the bytes were kept, the same bytes still belong to another live record and are "
    "deleted with the last of them; where it says deferred, the store's write-once lock had "
    "not yet ended and a supplementary certificate records their deletion.")

_CSS = """body{font-family:'Sarabun','Noto Sans Thai',sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #999;
padding:.3em;vertical-align:top}th{background:#eee}code{font-size:.85em;word-break:break-all}
.statement{border:2px solid #333;padding:1em;margin:1em 0}"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _person(p: dict[str, Any] | None) -> str:
    return _e(f"{p['name']} ({p['user']})") if p else "—"


def render_html(doc: dict[str, Any]) -> str:
    ap = doc["approvals"]
    com, head, arch, exe = (ap["committee"], ap["head_of_agency"], ap["national_archives"],
                            ap["execution"])
    rows = []
    for it in doc["items"]:
        obj = it.get("object") or {}
        versions = "<br>".join(
            f"<code>{_e(v.get('version_id') or '(single version)')}</code>: {_e(v.get('answer'))}"
            + (f" — {_e(v.get('detail'))}" if v.get("detail") else "")
            for v in obj.get("versions", []))
        rows.append(
            f"<tr><td>{_e(it['item'])}</td><td>{_e(it['file_code'])}</td>"
            f"<td>{_e(it['doc_reference'])}</td><td>{_e(it['doc_date'])}</td>"
            f"<td>{_e(it['subject'])}</td><td>{_e(it['retention_period'])}</td>"
            f"<td>{_e(it['status'])} ({_e(it['action'])})<br>{_e(it.get('note'))}</td>"
            f"<td><code>{_e(it['evidence_id'])}</code><br><code>{_e(it['sha256'])}</code></td>"
            f"<td>{_e(obj.get('bytes'))}<br>{versions}</td></tr>")
    bases = "".join(f"<li><b>{_e(b['code'])} v{_e(b['version'])}</b> — {_e(b['title_th'])} / "
                    f"{_e(b['title_en'])}<br>{_e(b['legal_basis_th'])}<br>"
                    f"<i>{_e(b['legal_basis_en'])}</i></li>" for b in doc["legal_basis"])
    members = ", ".join(_person(m) for m in com["members"])
    s = doc["summary"]
    return f"""<!doctype html>
<html lang="th"><head><meta charset="utf-8"><title>{_e(doc['certificate_no'])}</title>
<style>{_CSS}</style></head><body>
<h1>{_e(doc['title_th'])}<br><small>{_e(doc['title_en'])}</small></h1>
<p>เลขที่ / No. <b>{_e(doc['certificate_no'])}</b> ({_e(doc['kind'])}) —
{_e(doc['organisation']['name'])} ({_e(doc['organisation']['code'])})<br>
บัญชีหนังสือขอทำลาย (แบบที่ 25) / Disposition list <b>{_e(doc['list']['number'])}</b>,
ประจำปี พ.ศ. {_e(doc['list']['year_be'])}; survey as of {_e(doc['list']['survey_as_of'])}</p>
<h2>การอนุมัติ / Approvals</h2>
<ul>
<li>คณะกรรมการทำลายหนังสือ / Destruction committee (order {_e(com['order_ref'])}):
ประธาน / chair {_person(com['chair'])}; กรรมการ / members {members};
review closed {_e(com['review_closed_at'])} by {_person(com['review_closed_by'])}</li>
<li>หัวหน้าส่วนราชการ / Head of agency: {_person(head['head'])}, {_e(head['decision'])}
on {_e(head['decided_at'])} {_e(head['comment'])}</li>
<li>กรมศิลปากร / National Archives: sent {_e(arch['sent_on'])} ({_e(arch['reference'])}),
review {_e(arch['review_days'])} days; answer: {_e(arch['result'])}
{_e(arch['responded_on'])}; executable on {_e(arch['executable_on'])}</li>
<li>Execution requested by {_e(exe['requested_by'])} at {_e(exe['requested_at'])}</li>
</ul>
<h2>ฐานทางกฎหมาย / Schedules and legal basis</h2><ul>{bases}</ul>
<h2>รายการ / Items</h2>
<p>destroyed {s['destroyed']} (bytes deleted {s['bytes_deleted']}, deferred
{s['bytes_deferred']}, kept for live records {s['bytes_kept_shared']}); transferred
{s['transferred']}; kept {s['kept']}; removed {s['removed']}; blocked {s['blocked']}</p>
<table><tr><th>ลำดับที่<br>item</th><th>รหัสแฟ้ม<br>file code</th><th>ที่<br>reference</th>
<th>ลงวันที่<br>date</th><th>เรื่อง<br>subject</th><th>อายุการเก็บ<br>retention</th>
<th>การพิจารณา<br>decision</th><th>record / SHA-256</th><th>store's answers</th></tr>
{''.join(rows)}</table>
<div class="statement"><p>{_e(doc['statement_th'])}</p><p>{_e(doc['statement_en'])}</p></div>
<p>Generated {_e(doc['generated_at'])} by {_e(doc['generated_by'])}. The JSON certificate
is authoritative; its SHA-256 is recorded in the audit trail.</p>
</body></html>
"""
