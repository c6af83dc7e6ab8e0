"""Issue 20 item 12: the organisation tree's rules, the LAO code format, and the bulk
import of the organisation register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa

from archive.config import Settings
from archive.orgs.models import Organisation
from tests import clirun
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

DLA_DEFAULT = r"[0-9]{7}"       # the DLA's organisation code (รหัส อปท.): seven digits


def _orgs(env: Env) -> dict[str, tuple[str, str | None, str]]:
    """code → (type, parent code, name)."""
    with env.session() as s:
        rows = list(s.scalars(sa.select(Organisation)))
        codes = {o.id: o.code for o in rows}
        return {o.code: (o.type, codes.get(o.parent_id or -1), o.name) for o in rows}


def test_the_tree_is_dla_office_then_provincial_office_then_laos(env: Env):
    """GIVEN the DLA → Chiang Mai → SAO tree
    WHEN an administrator adds a municipality under an SAO, a provincial office under a
    municipality, an SAO without a parent or a DLA office with one
    THEN each is refused with the rule, and nothing is added; an LAO of every type under a
    provincial office is accepted."""
    tokens = world(env)
    admin = env.client(tokens["admin"])
    before = _orgs(env)
    for body, why in (
            ({"code": "m-1", "name": "เทศบาลตำบลผิดที่", "type": "municipality",
              "parent_code": "sao-1"}, "belongs under a province"),
            ({"code": "p-x", "name": "สถ.จ.ผิดที่", "type": "province",
              "parent_code": "m-1"}, "no organisation"),
            ({"code": "p-y", "name": "สถ.จ.ผิดที่", "type": "province",
              "parent_code": "sao-1"}, "belongs under a dla-office"),
            ({"code": "sao-x", "name": "อบต.ลอย", "type": "sao"}, "none given"),
            ({"code": "dla-2", "name": "สถ.ซ้อน", "type": "dla-office",
              "parent_code": "dla"}, "top of the tree")):
        r = admin.post("/api/v1/orgs", json=body)
        assert r.status_code in (404, 422), (body, r.text)
        assert why in r.json()["detail"], (body, r.text)
    assert _orgs(env) == before
    for code, type_ in (("pao-1", "pao"), ("mun-1", "municipality"), ("pattaya", "pattaya")):
        r = admin.post("/api/v1/orgs", json={"code": code, "name": f"ท้องถิ่น {code}",
                                             "type": type_, "parent_code": "p-cm"})
        assert r.status_code == 201, r.text


def test_lao_codes_follow_the_configured_format_by_default_the_dla_code(env: Env):
    tokens = world(env)
    assert Settings().lao_code_pattern == DLA_DEFAULT
    admin = env.client(tokens["admin"], lao_code_pattern=DLA_DEFAULT)
    r = admin.post("/api/v1/orgs", json={"code": "sao-77", "name": "อบต.รหัสผิด",
                                         "parent_code": "p-cm"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_org_code"
    r = admin.post("/api/v1/orgs", json={"code": "5012345", "name": "อบต.รหัส สถ.",
                                         "parent_code": "p-cm"})
    assert r.status_code == 201, r.text
    # Offices keep general codes; another format can be configured.
    r = admin.post("/api/v1/orgs", json={"code": "p-lp", "name": "สถ.จ.ลำพูน",
                                         "type": "province", "parent_code": "dla"})
    assert r.status_code == 201, r.text
    other = env.client(tokens["admin"], lao_code_pattern=r"LAO-[0-9]{4}")
    assert other.post("/api/v1/orgs", json={"code": "LAO-0001", "name": "อบต.รูปแบบอื่น",
                                            "parent_code": "p-lp"}).status_code == 201
    with pytest.raises(pydantic.ValidationError):
        Settings(lao_code_pattern="([0-9")


# -- the register ---------------------------------------------------------------------

# The DLA register's layout: one line per sub-district an LAO covers.
DLA_HEADER = "จังหวัด,อำเภอ,ตำบล,รหัส อปท.,ประเภท อปท.,อปท.,ที่ตั้งสำนักงานเลขที่,LAT,LONG\n"
DLA_ROWS = (
    "เชียงใหม่,เมืองเชียงใหม่,สุเทพ,5010101,อบต.,อบต.สุเทพ,1,,\n"
    "เชียงใหม่,เมืองเชียงใหม่,ดอยสุเทพ,5010101,อบต.,อบต.สุเทพ,1,,\n"      # same LAO again
    "เชียงใหม่,เมืองเชียงใหม่,ศรีภูมิ,5099901,เทศบาลนคร,เทศบาลนครเชียงใหม่,\"1, ถนน\",,\n"
    "เชียงใหม่,-,-,5000001,อบจ.,องค์การบริหารส่วนจังหวัดเชียงใหม่,,,\n"
    "เชียงราย,เมืองเชียงราย,รอบเวียง,๕๗๑๐๑๐๑,เทศบาลตำบล,เทศบาลตำบลรอบเวียง,,,\n"  # Thai digits
    "ลำปาง,เมืองลำปาง,พระบาท,5210101,อบต.,อบต.พระบาท,,,\n"               # no such office
    "เชียงใหม่,สันทราย,หนองจ๊อม,50-1,อบต.,อบต.หนองจ๊อม,,,\n"              # not a DLA code
    "เชียงใหม่,สันทราย,แม่แฝก,5010202,ปราสาท,อบต.แม่แฝก,,,\n"              # unknown type
)


def run(env: Env, *args: str, process: bool = False) -> Any:
    """``archive ARGS`` with the default (DLA) organisation code format; in this process
    unless ``process`` (tests/clirun.py)."""
    return clirun.run(env, *args, extra_env={"ARCHIVE_LAO_CODE_PATTERN": DLA_DEFAULT},
                      process=process)


def test_the_dla_register_is_imported_idempotently_with_a_report_per_row(
        env: Env, tmp_path: Path):
    """GIVEN the provincial offices of Chiang Mai and Chiang Rai, and a CP874 file in the
    DLA register's layout (an LAO on several lines, Thai digits, an unknown province, a
    code not in the DLA format, an unknown type)
    WHEN it is imported with --dry-run, then for real, then again
    THEN the dry run changes nothing; the import creates each LAO once under its
    provincial office and reports every line by number; the second run changes nothing."""
    world(env)
    file = tmp_path / "register.csv"
    file.write_bytes((DLA_HEADER + DLA_ROWS).encode("cp874"))
    before = _orgs(env)

    dry = run(env, "orgs", "import", str(file), "--dry-run", "--json", process=True)
    assert dry.returncode == 1, dry.stderr            # some lines are refused
    report = json.loads(dry.stdout)
    assert report["encoding"] == "cp874" and report["layout"] == "dla" and report["dry_run"]
    outcomes = [(r["row"], r["code"], r["outcome"]) for r in report["rows"]]
    assert outcomes == [
        (2, "5010101", "created"), (3, "5010101", "duplicate"), (4, "5099901", "created"),
        (5, "5000001", "created"), (6, "5710101", "created"), (7, "5210101", "error"),
        (8, "50-1", "error"), (9, "5010202", "error")]
    details = {r["row"]: r["detail"] for r in report["rows"]}
    assert "ลำปาง" in details[7] and "format" in details[8] and "ปราสาท" in details[9]
    assert _orgs(env) == before                       # a dry run changes nothing

    done = run(env, "orgs", "import", str(file), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["counts"] == {"created": 4, "duplicate": 1, "error": 3}
    after = _orgs(env)
    assert after["5010101"] == ("sao", "p-cm", "อบต.สุเทพ")
    assert after["5099901"] == ("municipality", "p-cm", "เทศบาลนครเชียงใหม่")
    assert after["5000001"] == ("pao", "p-cm", "องค์การบริหารส่วนจังหวัดเชียงใหม่")
    assert after["5710101"] == ("municipality", "p-cr", "เทศบาลตำบลรอบเวียง")
    assert len(after) == len(before) + 4

    again = run(env, "orgs", "import", str(file), "--json")
    counts = json.loads(again.stdout)["counts"]
    assert counts == {"unchanged": 4, "duplicate": 1, "error": 3}
    assert _orgs(env) == after
    text = run(env, "orgs", "import", str(file))
    assert "unchanged 4" in text.stdout and "line" in text.stdout


def test_the_archives_layout_in_utf8_with_bom_over_the_admin_api(env: Env):
    """Parents may come after their children in the file; a changed name is updated; an
    organisation is never moved by an import; only administrators import."""
    tokens = world(env)
    admin = env.client(tokens["admin"], lao_code_pattern=DLA_DEFAULT)
    body = ("\ufeffcode,name,type,parent_code\n"
            "5100101,อบต.ในลำพูน,อบต.,p-lp\n"
            "p-lp,สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดลำพูน,province,dla\n"
            "sao-1,อบต.แม่เหียะ (ชื่อใหม่),sao,p-cm\n"
            "sao-2,อบต.สุเทพ,sao,p-cr\n").encode("utf-8")
    csv = {"Content-Type": "text/csv"}
    assert env.client(tokens["rm1"]).post("/api/v1/orgs/import", content=body,
                                          headers=csv).status_code == 403
    r = admin.post("/api/v1/orgs/import", content=body, headers=csv)
    assert r.status_code == 200, r.text
    rows = {x["code"]: (x["outcome"], x["detail"]) for x in r.json()["rows"]}
    assert r.json()["encoding"] == "utf-8-sig" and r.json()["layout"] == "archive"
    assert rows["5100101"][0] == "created" and rows["p-lp"][0] == "created"
    assert rows["sao-1"] == ("updated", "name changed")
    assert rows["sao-2"][0] == "error" and "does not move" in rows["sao-2"][1]
    orgs = _orgs(env)
    assert orgs["5100101"] == ("sao", "p-lp", "อบต.ในลำพูน")
    assert orgs["sao-1"][2] == "อบต.แม่เหียะ (ชื่อใหม่)" and orgs["sao-2"][1] == "p-cm"
    again = admin.post("/api/v1/orgs/import", content=body, headers=csv).json()["counts"]
    assert again == {"unchanged": 3, "error": 1}
    bad = admin.post("/api/v1/orgs/import", content=b"\x00\xff\xfe nonsense", headers=csv)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_register"


def test_register_files_are_read_in_either_encoding():
    from archive.orgs.register import read_register

    text = DLA_HEADER + DLA_ROWS
    for data, encoding in ((text.encode("cp874"), "cp874"), (text.encode(), "utf-8"),
                           (b"\xef\xbb\xbf" + text.encode(), "utf-8-sig")):
        got, layout, rows = read_register(data)
        assert (got, layout) == (encoding, "dla")
        assert rows[0].name == "อบต.สุเทพ" and rows[4].code == "5710101"
        assert rows[2].type == "municipality" and rows[6].code == "50-1"


def test_scope_follows_the_users_organisations_and_the_tree_at_the_next_request(env: Env):
    """The scope queries are statements built once per process (archive/orgs/scope.py);
    the scope itself is read per request and must follow every change at once.

    GIVEN an auditor of sao-2 and a record of sao-1, one application serving every request
    WHEN an administrator attaches the auditor to the province, a new LAO with a record is
    added under it, and the auditor is put back on sao-2
    THEN each next request sees the change: the record is absent (404), present, present
    with the new LAO's in a search, absent again."""
    from archive.accounts import service as accounts
    from archive.accounts.principal import system_principal

    tokens = world(env)
    officer = env.client(tokens["off1"])
    first = upload(officer, make_pdf("scope-change-1")).json()["id"]
    auditor = env.client(env.user("aud9", "auditor", ["sao-2"]))

    def attach(codes: list[str]) -> None:
        with env.session() as s:
            accounts.update_user(s, system_principal("test"), user_name="aud9",
                                 org_codes=codes)

    assert auditor.get(f"/api/v1/evidence/{first}").status_code == 404
    attach(["p-cm"])
    assert auditor.get(f"/api/v1/evidence/{first}").status_code == 200
    env.org("sao-4", parent="p-cm")
    with env.session() as s:
        accounts.update_user(s, system_principal("test"), user_name="off1",
                             org_codes=["sao-1", "sao-4"])
    second = upload(officer, make_pdf("scope-change-2"), org_code="sao-4").json()["id"]
    found = {i["id"] for i in auditor.get("/api/v1/evidence").json()["items"]}
    assert {first, second} <= found
    assert auditor.get("/api/v1/evidence", params={"org_code": "sao-4"}).json()["total"] == 1
    attach(["sao-2"])
    assert auditor.get(f"/api/v1/evidence/{first}").status_code == 404
    assert auditor.get(f"/api/v1/evidence/{second}").status_code == 404
    assert auditor.get("/api/v1/evidence").json()["total"] == 0
