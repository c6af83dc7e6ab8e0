"""What a destruction certificate says, in Thai with English beside it, and its printable
HTML rendering.

The JSON document is the certificate; the HTML shows the same facts for people and is
stored beside it (both locked, both hashed into the audit trail). The certificate says
exactly what happened to each item — its bytes deleted, or deferred until the store's
lock ends (and why), or kept because another live record uses them, or not destroyed at
all (kept longer, transferred, withdrawn, blocked) — and never more: the statement counts
the items per outcome instead of claiming that everything was deleted. Dates for people
are Thailand (Asia/Bangkok) dates in the Buddhist Era; the JSON keeps ISO instants too.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from archive import clock

MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",
             "พ.ย.", "ธ.ค.")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
REGULATION_TH = "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ ข้อ 66–70"
REGULATION_EN = "the Regulation on Correspondence, clauses 66–70"


# -- dates for people ------------------------------------------------------------------

def _parse(value: Any) -> dt.date | dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    text = str(value)
    try:
        return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    except ValueError:
        return None


def date_th(value: Any) -> str:
    """``3 ธ.ค. 2569`` (a date), or ``3 ธ.ค. 2569 08:46 น.`` (an instant, Thailand time)."""
    v = _parse(value)
    if v is None:
        return "—"
    if isinstance(v, dt.datetime):
        local = v.astimezone(clock.BANGKOK) if v.tzinfo else v
        return (f"{local.day} {MONTHS_TH[local.month - 1]} {local.year + 543} "
                f"{local:%H:%M} น.")
    return f"{v.day} {MONTHS_TH[v.month - 1]} {v.year + 543}"


def date_en(value: Any) -> str:
    """``3 Dec 2569 BE`` or ``3 Dec 2569 BE 08:46 (Bangkok)``."""
    v = _parse(value)
    if v is None:
        return "—"
    if isinstance(v, dt.datetime):
        local = v.astimezone(clock.BANGKOK) if v.tzinfo else v
        return (f"{local.day} {MONTHS_EN[local.month - 1]} {local.year + 543} BE "
                f"{local:%H:%M} (Bangkok)")
    return f"{v.day} {MONTHS_EN[v.month - 1]} {v.year + 543} BE"


# -- what happened to one item ---------------------------------------------------------

def outcome(entry: dict[str, Any]) -> tuple[str, str, str]:
    """(code, Thai, English) of what happened to one item of the list."""
    status, obj = entry.get("status"), entry.get("object") or {}
    note = (entry.get("note") or "").strip()
    why_th = f" เหตุผล: {note}" if note else ""
    why_en = f" Reason: {note}" if note else ""
    if status == "destroyed":
        fate = obj.get("bytes")
        if fate == "deleted":
            when = obj.get("deleted_at") or entry.get("destroyed_at")
            return ("deleted",
                    f"ทำลายแล้ว: ลบไฟล์ทุกรุ่นออกจากที่เก็บ และลบข้อมูลที่ได้จากไฟล์ (ข้อความที่สกัด "
                    f"รายงานผลการตรวจสอบ) เมื่อ {date_th(when)} อ่านหรือกู้คืนเนื้อหาไม่ได้อีก",
                    f"Destroyed: every stored version of the bytes and the data derived from "
                    f"them were deleted on {date_en(when)}; the content cannot be read or "
                    "reconstructed.")
        if fate == "deferred":
            until = obj.get("locked_until") or obj.get("retry_after")
            return ("deferred",
                    f"ทำลายในระบบแล้ว (อ่านผ่านระบบไม่ได้อีก) แต่ยังไม่ได้ลบไฟล์: ที่เก็บแบบเขียน"
                    f"ครั้งเดียวล็อกไฟล์ไว้ถึง {date_th(until)} จึงปฏิเสธการลบ ระบบจะลบเมื่อพ้น"
                    "กำหนด และออกบันทึกเพิ่มเติม",
                    f"Destroyed in the archive (no longer readable through it) but the bytes "
                    f"are NOT deleted yet: the write-once store locks them until "
                    f"{date_en(until)} and refused the delete; they are deleted when the lock "
                    "ends and a supplementary certificate records it.")
        if fate == "kept":
            n = len(obj.get("live_records") or [])
            return ("shared",
                    f"ทำลายรายการนี้ในระบบแล้ว แต่ไม่ได้ลบไฟล์: ไฟล์เดียวกันยังเป็นของเอกสารอื่นที่"
                    f"ยังไม่ถึงกำหนดทำลาย ({n} รายการ) จะลบพร้อมกับเอกสารสุดท้ายที่ใช้ไฟล์นี้",
                    f"Destroyed in the archive but the bytes are NOT deleted: the same bytes "
                    f"belong to {n} live record(s); they are deleted with the last of them.")
        return ("pending",
                "ทำลายในระบบแล้ว ยังไม่มีคำตอบจากที่เก็บเรื่องการลบไฟล์ (จะลองใหม่)",
                "Destroyed in the archive; the store has not yet confirmed deleting the "
                "bytes (retried).")
    if status == "transferred":
        return ("transferred", f"ไม่ได้ทำลาย: ส่งมอบให้กรมศิลปากร{why_th}",
                f"Not destroyed: transferred to the National Archives.{why_en}")
    if status == "kept":
        until = entry.get("keep_until")
        return ("kept", f"ไม่ได้ทำลาย: เก็บไว้ต่อถึง {date_th(until)}{why_th}",
                f"Not destroyed: kept until {date_en(until)}.{why_en}")
    if status == "removed":
        return ("removed", f"ไม่ได้ทำลาย: ถอนออกจากบัญชี{why_th}",
                f"Not destroyed: withdrawn from the list.{why_en}")
    if status == "blocked":
        reason = obj.get("blocked") or note
        return ("blocked", f"ไม่ได้ทำลาย: ระบบไม่ยอมทำลาย เหตุผล: {reason}",
                f"Not destroyed: the archive refused. Reason: {reason}")
    return (str(status), f"ยังไม่ได้ดำเนินการ ({status})", f"Not done yet ({status}).")


def statement(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """The certificate's statement: what was done, counted per outcome, nothing more."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    th_parts, en_parts = [], []
    for code, th, en in (
            ("deleted", "ทำลายและลบไฟล์ทุกรุ่นแล้ว จนอ่านหรือกู้คืนเนื้อหาไม่ได้อีก",
             "destroyed, every stored version of the bytes and the derived data deleted, so "
             "that their content cannot be read or reconstructed"),
            ("deferred", "ทำลายในระบบแล้ว แต่ไฟล์ยังถูกล็อกในที่เก็บ จะลบเมื่อพ้นกำหนดล็อก "
             "(ดูวันที่ในแต่ละรายการ)",
             "destroyed in the archive, bytes still locked in the store and deleted when the "
             "lock ends (dates per item)"),
            ("shared", "ทำลายในระบบแล้ว แต่ไฟล์ยังเป็นของเอกสารอื่นที่ยังมีผลอยู่",
             "destroyed in the archive, bytes kept for other live records"),
            ("pending", "ทำลายในระบบแล้ว รอคำตอบจากที่เก็บ",
             "destroyed in the archive, store's answer pending"),
            ("transferred", "ส่งมอบให้กรมศิลปากร", "transferred to the National Archives"),
            ("kept", "เก็บไว้ต่อ", "kept longer"),
            ("removed", "ถอนออกจากบัญชี", "withdrawn from the list"),
            ("blocked", "ไม่ได้ทำลายเพราะระบบไม่ยอม (เช่น ระงับการทำลาย)",
             "not destroyed, refused by the archive (e.g. a legal hold)")):
        if counts.get(code):
            th_parts.append(f"{th} {counts[code]} รายการ")
            en_parts.append(f"{counts[code]} {'item' if counts[code] == 1 else 'items'} "
                            f"{en}")
    th = (f"ขอรับรองว่าได้ดำเนินการตามบัญชีหนังสือขอทำลายนี้ ตาม{REGULATION_TH} ดังนี้: "
          + "; ".join(th_parts or ["ไม่มีรายการ"])
          + ". รายละเอียดของแต่ละรายการอยู่ในตาราง คงเหลือเพียงบันทึกนี้ รายการ tombstone "
          "(เมทาดาทาและค่า SHA-256) และร่องรอยการตรวจสอบ")
    en = (f"This certifies what was done with this disposition list under {REGULATION_EN}: "
          + "; ".join(en_parts or ["no items"])
          + ". Each item's outcome is in the table. What remains of destroyed records is this "
          "certificate, their tombstones (metadata and SHA-256) and the audit trail.")
    return th, en


# -- the HTML rendering ----------------------------------------------------------------

_CSS = """body{font-family:'Sarabun','Noto Sans Thai',sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #999;
padding:.3em;vertical-align:top}th{background:#eee}code{font-size:.85em;word-break:break-all}
.statement{border:2px solid #333;padding:1em;margin:1em 0}.en{color:#444;font-style:italic}"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _person(p: dict[str, Any] | None) -> str:
    return _e(f"{p['name']} ({p['user']})") if p else "—"


def _when(value: Any) -> str:
    return f"{_e(date_th(value))} <span class=\"en\">/ {_e(date_en(value))}</span>"


def _period(it: dict[str, Any]) -> str:
    th, en = it.get("retention_period_th"), it["retention_period"]
    if not th or th == en:
        return _e(en)
    return f"{_e(th)}<br><span class=\"en\">{_e(en)}</span>"


def render_html(doc: dict[str, Any]) -> str:
    ap = doc["approvals"]
    com, head, arch, exe = (ap["committee"], ap["head_of_agency"], ap["national_archives"],
                            ap["execution"])
    rows = []
    for it in doc["items"]:
        obj = it.get("object") or {}
        versions = "<br>".join(
            f"<code>{_e(v.get('version_id') or '(single version)')}</code>: {_e(v.get('answer'))}"
            + (f" — <code>{_e(v.get('detail'))}</code>" if v.get("detail") else "")
            for v in obj.get("versions", []))
        rows.append(
            f"<tr><td>{_e(it['item'])}</td><td>{_e(it['file_code'])}</td>"
            f"<td>{_e(it['doc_reference'])}</td><td>{_e(date_th(it['doc_date']))}</td>"
            f"<td>{_e(it['subject'])}</td><td>{_period(it)}</td>"
            f"<td><b>{_e(it['outcome_th'])}</b><br><span class=\"en\">{_e(it['outcome_en'])}"
            f"</span></td>"
            f"<td><code>{_e(it['evidence_id'])}</code><br><code>{_e(it['sha256'])}</code></td>"
            f"<td>{versions}</td></tr>")
    bases = "".join(f"<li><b>{_e(b['code'])} v{_e(b['version'])}</b> — {_e(b['title_th'])} / "
                    f"{_e(b['title_en'])}<br>{_e(b['legal_basis_th'])}<br>"
                    f"<i>{_e(b['legal_basis_en'])}</i></li>" for b in doc["legal_basis"])
    members = ", ".join(_person(m) for m in com["members"])
    chair, member, unconfirmed = ("ประธานกรรมการ / chair", "กรรมการ / member",
                                  "ยังไม่ยืนยัน / not confirmed")
    record = "".join(
        f"<tr><td>{chair if r.get('function') == 'chair' else member}</td>"
        f"<td>{_e(r.get('name'))} ({_e(r.get('user'))})</td>"
        f"<td>{_when(r['confirmed_at']) if r.get('confirmed_at') else unconfirmed}</td>"
        f"<td>{_e(r.get('note'))}</td></tr>"
        for r in com.get("destruction_record") or [])
    decision = {"approve": "อนุมัติ / approved", "reject": "ไม่อนุมัติ / rejected"}.get(
        head.get("decision") or "", _e(head.get("decision")))
    return f"""<!doctype html>
<html lang="th"><head><meta charset="utf-8"><title>{_e(doc['certificate_no'])}</title>
<style>{_CSS}</style></head><body>
<h1>{_e(doc['title_th'])}<br><small>{_e(doc['title_en'])}</small></h1>
<p>เลขที่ / No. <b>{_e(doc['certificate_no'])}</b> ({_e(doc['kind'])}) —
{_e(doc['organisation']['name'])} ({_e(doc['organisation']['code'])})<br>
บัญชีหนังสือขอทำลาย (แบบที่ 25) / Disposition list <b>{_e(doc['list']['number'])}</b>,
ประจำปี พ.ศ. {_e(doc['list']['year_be'])}; สำรวจ ณ / surveyed as of
{_when(doc['list']['survey_as_of'])}</p>
<h2>การอนุมัติ / Approvals</h2>
<ul>
<li>คณะกรรมการทำลายหนังสือ / Destruction committee — แต่งตั้งโดยคำสั่ง / appointed by
order {_e(com.get('order_ref'))} ลงวันที่ / dated {_when(com.get('order_date'))}:
ประธาน / chair {_person(com['chair'])}; กรรมการ / members {members};
ปิดการพิจารณา / review closed {_when(com['review_closed_at'])} โดย / by
{_person(com['review_closed_by'])}</li>
<li>หัวหน้าส่วนราชการ / Head of agency: {_person(head['head'])}, {decision}
{_when(head['decided_at'])} {_e(head['comment'])}</li>
<li>กรมศิลปากร / National Archives: ส่งเมื่อ / sent {_when(arch['sent_on'])}
({_e(arch['reference'])}), ระยะเวลาพิจารณา / review {_e(arch['review_days'])} วัน / days;
ผล / answer: {_e(arch['result'])} {_when(arch['responded_on']) if arch['responded_on'] else ''};
ทำลายได้ตั้งแต่ / executable on {_when(arch['executable_on'])}</li>
<li>ขอดำเนินการทำลายโดย / execution requested by {_e(exe['requested_by'])}
{_when(exe['requested_at'])}</li>
</ul>
<h2>บันทึกการทำลายของคณะกรรมการ (ลงนามร่วมกัน) / The committee's joint record of the
destruction</h2>
<table><tr><th>หน้าที่ / function</th><th>กรรมการ / member</th><th>ยืนยันเมื่อ / confirmed
</th><th>หมายเหตุ / note</th></tr>{record}</table>
<h2>ฐานทางกฎหมาย / Schedules and legal basis</h2><ul>{bases}</ul>
<h2>รายการ / Items</h2>
<table><tr><th>ลำดับที่<br>item</th><th>รหัสแฟ้ม<br>file code</th><th>ที่<br>reference</th>
<th>ลงวันที่<br>date</th><th>เรื่อง<br>subject</th><th>อายุการเก็บ<br>retention</th>
<th>ผลการดำเนินการ<br>what was done</th><th>record / SHA-256</th><th>คำตอบของที่เก็บ<br>
store's answers</th></tr>
{''.join(rows)}</table>
<div class="statement"><p>{_e(doc['statement_th'])}</p><p class="en">{_e(doc['statement_en'])}
</p></div>
<p>ออกเมื่อ / generated {_when(doc['generated_at'])} โดย / by {_e(doc['generated_by'])}.
ฉบับ JSON เป็นฉบับหลัก ค่า SHA-256 ของฉบับนั้นบันทึกในร่องรอยการตรวจสอบ / The JSON
certificate is authoritative; its SHA-256 is recorded in the audit trail.</p>
</body></html>
"""
