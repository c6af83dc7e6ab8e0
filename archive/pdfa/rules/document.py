"""Document-level features (ISO 19005-1 6.1.13, -2/-3 6.4.3 and 6.9-6.11, -4 6.10-6.12):
optional content, digital signatures, alternate presentations, transitions and
requirements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archive.messages import message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

# -- optional content ------------------------------------------------------------------------


@rule("1:6.1.13-1")
def no_optional_content(ctx: DocContext) -> Issues:
    if po.has(ctx.catalog, "/OCProperties"):
        yield issue(message("pdfa.doc_no_optional_content",
                            "The catalog has optional content (/OCProperties, layers); PDF/A-1 "
                            "forbids it. Flatten the layers."))


def _oc_configs(ctx: DocContext) -> list[Any]:
    ocp = po.get(ctx.catalog, "/OCProperties")
    configs = []
    d = po.get(ocp, "/D")
    if po.is_dict(d):
        configs.append(d)
    configs.extend(c for c in po.elements(po.get(ocp, "/Configs")) if po.is_dict(c))
    return configs


@rule("2,3:6.9-1", "4:6.10-1")
def oc_config_named(ctx: DocContext) -> Issues:
    for cfg in _oc_configs(ctx):
        nm = po.get(cfg, "/Name")
        if nm is None or (ctx.part != 4 and not po.text(nm)):
            yield issue(message("pdfa.doc_oc_config_named",
                                "An optional content configuration has no /Name; give each one a "
                                "name."), obj=cfg)


@rule("2,3:6.9-2", "4:6.10-2")
def oc_config_names_unique(ctx: DocContext) -> Issues:
    seen: set[str] = set()
    for cfg in _oc_configs(ctx):
        nm = po.text(po.get(cfg, "/Name"))
        if nm is None:
            continue
        if nm in seen:
            yield issue(message("pdfa.doc_oc_config_names_unique",
                                "Two optional content configurations are both named {name!r}; "
                                "names must be unique.", name=nm), obj=cfg)
        seen.add(nm)


def _flatten(arr: Any, depth: int = 0) -> Iterator[Any]:
    for v in po.elements(arr):
        if po.is_array(v) and depth < 50:
            yield from _flatten(v, depth + 1)
        else:
            yield v


@rule("2,3:6.9-3", "4:6.10-3")
def oc_order_complete(ctx: DocContext) -> Issues:
    ocgs = {po.key_of(g) for g in po.elements(po.get(po.get(ctx.catalog, "/OCProperties"),
                                                     "/OCGs"))}
    ocgs.discard(None)
    for cfg in _oc_configs(ctx):
        order = po.get(cfg, "/Order")
        if order is None:
            continue
        listed = {po.key_of(v) for v in _flatten(order)}
        if ocgs - listed:
            yield issue(message("pdfa.doc_oc_order_complete",
                                "An optional content configuration's /Order does not list every "
                                "optional content group."), obj=cfg)


@rule("2,3:6.9-4")
def oc_no_auto_state(ctx: DocContext) -> Issues:
    for cfg in _oc_configs(ctx):
        if po.has(cfg, "/AS"):
            yield issue(message("pdfa.doc_oc_no_auto_state",
                                "An optional content configuration has /AS (automatic state "
                                "changes); remove it."), obj=cfg)


# -- alternate presentations, transitions, requirements ----------------------------------------


@rule("2,3:6.10-1", "4:6.11-1")
def no_alternate_presentations(ctx: DocContext) -> Issues:
    names = po.get(ctx.catalog, "/Names")
    if po.has(names, "/AlternatePresentations"):
        yield issue(message("pdfa.doc_no_alternate_presentations",
                            "The document has AlternatePresentations (slide shows); remove them."),
                    obj=names)


@rule("2,3:6.10-2", "4:6.11-2")
def no_presentation_steps(ctx: DocContext) -> Issues:
    for i, page in enumerate(ctx.pages):
        if po.has(page, "/PresSteps"):
            yield issue(message("pdfa.doc_no_presentation_steps",
                                "The page has presentation steps (/PresSteps); remove them."),
                        obj=page, page=i)


@rule("2,3:6.11-1", "4:6.12-1")
def no_requirements(ctx: DocContext) -> Issues:
    if po.has(ctx.catalog, "/Requirements"):
        yield issue(message("pdfa.doc_no_requirements",
                            "The catalog has /Requirements; remove them."))


# -- digital signatures ----------------------------------------------------------------------


def _signatures(ctx: DocContext) -> list[Any]:
    return [s for s in ctx.signature_dicts if po.has(s, "/Contents")]


@rule("2,3:6.4.3-1")
def signature_covers_file(ctx: DocContext) -> Issues:
    size = len(ctx.raw)
    for sig in _signatures(ctx):
        values = [po.integer(v) for v in po.elements(po.get(sig, "/ByteRange"))]
        br = [v for v in values if v is not None]
        ok = (len(br) == 4 == len(values) and br[0] == 0 and br[2] + br[3] == size
              and 0 < br[1] < br[2] <= size
              and ctx.raw[br[1]:br[1] + 1] == b"<" and ctx.raw[br[2] - 1:br[2]] == b">")
        if not ok:
            yield issue(message("pdfa.doc_signature_covers_file",
                                "The signature's /ByteRange does not cover the whole file except "
                                "the signature value; the file was changed after signing or "
                                "signed incorrectly."), obj=sig)


def _signer_info(sig: Any) -> tuple[int, bool] | None:
    data = po.raw_bytes(po.get(sig, "/Contents"))
    if not data:
        return None
    try:
        from asn1crypto import cms

        info = cms.ContentInfo.load(data.rstrip(b"\x00"))
        signed = info["content"]
        certs = signed["certificates"]
        return len(signed["signer_infos"]), bool(certs.native if certs else None)
    except Exception:  # noqa: BLE001 - malformed PKCS#7 is reported as such
        return None


def _pkcs7(ctx: DocContext) -> Iterator[tuple[Any, tuple[int, bool] | None]]:
    for sig in _signatures(ctx):
        sub = po.get_name(sig, "/SubFilter")
        if sub in ("/adbe.pkcs7.detached", "/adbe.pkcs7.sha1", "/ETSI.CAdES.detached"):
            yield sig, _signer_info(sig)


@rule("2,3:6.4.3-2")
def signature_has_certificate(ctx: DocContext) -> Issues:
    for sig, info in _pkcs7(ctx):
        if info is None or not info[1]:
            yield issue(message("pdfa.doc_signature_has_certificate",
                                "The PKCS#7 signature does not include the signer's certificate."),
                        obj=sig)


@rule("2,3:6.4.3-3")
def signature_single_signer(ctx: DocContext) -> Issues:
    for sig, info in _pkcs7(ctx):
        if info is not None and info[0] != 1:
            yield issue(message("pdfa.doc_signature_single_signer",
                                "The PKCS#7 signature has {signers} signers; PDF/A requires "
                                "exactly one.", signers=info[0]), obj=sig)
