"""Embedded files (ISO 19005-1 6.1.11, -2 6.8, -3 6.8, -4 6.9): forbidden in part 1,
PDF/A-only in parts 2 and 4, any file with a MIME type and AFRelationship in part 3 and 4f.
"""

from __future__ import annotations

import re
from typing import Any

from archive.messages import Items, Message, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

_MIME = re.compile(r"[-\w+.]+/[-\w+.]+\Z")


def file_specs(ctx: DocContext) -> list[Any]:
    cached = ctx.__dict__.get("_pdfa_filespecs")
    if cached is None:
        cached = [d for d in ctx.cos.dicts
                  if po.get_name(d, "/Type") == "/Filespec" or po.has(d, "/EF")]
        ctx.__dict__["_pdfa_filespecs"] = cached
    return cached


def _embedded(spec: Any) -> list[Any]:
    ef = po.get(spec, "/EF")
    return [s for k, s in po.items(ef) if k in ("/F", "/UF") and po.is_stream(s)][:1]


@rule("1:6.1.11-1")
def no_embedded_file_specs(ctx: DocContext) -> Issues:
    for spec in file_specs(ctx):
        if po.has(spec, "/EF"):
            yield issue(message("pdfa.embedded_no_embedded_file_specs",
                                "A file specification embeds a file (/EF); PDF/A-1 forbids "
                                "embedded files."), obj=spec)


@rule("1:6.1.11-2")
def no_embedded_files_tree(ctx: DocContext) -> Issues:
    names = po.get(ctx.catalog, "/Names")
    if po.has(names, "/EmbeddedFiles"):
        yield issue(message("pdfa.embedded_no_embedded_files_tree",
                            "The name dictionary has an EmbeddedFiles tree; PDF/A-1 forbids "
                            "embedded files."), obj=names)


@rule("2,3:6.8-2", "4:6.9-2")
def embedded_file_names(ctx: DocContext) -> Issues:
    for spec in file_specs(ctx):
        if po.has(spec, "/EF") and not (po.has(spec, "/F") and po.has(spec, "/UF")):
            yield issue(message("pdfa.embedded_file_names",
                                "The file specification of an embedded file must have both /F "
                                "and /UF (the file name)."), obj=spec)


@rule("3:6.8-1", "4:6.9-1")
def embedded_file_mime(ctx: DocContext) -> Issues:
    for spec in file_specs(ctx):
        for stream in _embedded(spec):
            sub = po.get_name(stream, "/Subtype")
            mime = sub[1:].replace("#2F", "/").replace("#2f", "/") if sub else None
            if mime is None or _MIME.match(mime) is None:
                yield issue(message("pdfa.embedded_file_mime",
                                    "The embedded file has no valid MIME type in /Subtype; use "
                                    "e.g. application/xml, or application/octet-stream when "
                                    "unknown."),
                            obj=stream)


@rule("3:6.8-3")
def af_relationship_3(ctx: DocContext) -> Issues:
    for spec in file_specs(ctx):
        if po.has(spec, "/EF") and po.get(spec, "/AFRelationship") is None:
            yield issue(message("pdfa.embedded_af_relationship",
                                "The file specification of an embedded file has no "
                                "/AFRelationship (Source, Data, Alternative, Supplement or "
                                "Unspecified)."), obj=spec)


@rule("4:6.9-4")
def af_relationship_4(ctx: DocContext) -> Issues:
    yield from af_relationship_3(ctx)


@rule("3:6.8-4")
def associated(ctx: DocContext) -> Issues:
    referenced: set[Any] = set()
    for d in ctx.cos.dicts + ctx.cos.streams:
        for f in po.as_list(po.get(d, "/AF")):
            key = po.key_of(f)
            if key is not None:
                referenced.add(key)
    for spec in file_specs(ctx):
        if not po.has(spec, "/EF"):
            continue
        key = po.key_of(spec)
        if key is None or key not in referenced:
            yield issue(message("pdfa.embedded_associated",
                                "The embedded file is not associated with the document or a part "
                                "of it: list its file specification in an /AF array."), obj=spec)


@rule("4f:6.9-5")
def has_embedded_files(ctx: DocContext) -> Issues:
    if not po.has(po.get(ctx.catalog, "/Names"), "/EmbeddedFiles"):
        yield issue(message("pdfa.embedded_has_embedded_files",
                            "A PDF/A-4f file must contain embedded files (an EmbeddedFiles name "
                            "tree)."))


def _embedded_is_pdfa(ctx: DocContext, data: bytes, parts: set[int]) -> Message | None:
    """None when ``data`` is a PDF/A file of an allowed part, else the reason it is not."""
    if data.lstrip()[:5] != b"%PDF-":
        return message("pdfa.embedded_why_not_pdf", "it is not a PDF file")
    if ctx.depth >= 1:
        return None  # one level of nesting is checked; deeper files are trusted to the parent
    from archive.pdfa.checker import check_pdfa

    report = check_pdfa(data, "auto", _depth=ctx.depth + 1)
    if report.claimed is None:
        return message("pdfa.embedded_why_no_claim", "it does not claim PDF/A conformance")
    if int(report.claimed[0]) not in parts:
        return message("pdfa.embedded_why_other_part",
                       "it claims PDF/A-{flavour}, which is not allowed here",
                       flavour=report.claimed)
    if not report.compliant:
        first = report.failures[0] if report.failures else None
        if first is None:
            return message("pdfa.embedded_why_invalid", "it is not a valid PDF/A-{flavour} "
                           "file", flavour=report.claimed)
        return message("pdfa.embedded_why_invalid_first", "it is not a valid PDF/A-{flavour} "
                       "file ({clause}-{test}: {first})", flavour=report.claimed,
                       clause=first.clause, test=first.test, first=first.message)
    return None


def _embedded_pdfa_rule(parts: set[int]) -> Any:
    def check(ctx: DocContext) -> Issues:
        for spec in file_specs(ctx):
            for stream in _embedded(spec):
                data = po.read_stream(stream)
                if data is None:
                    yield issue(message("pdfa.embedded_undecodable",
                                        "An embedded file cannot be decoded."), obj=stream)
                    continue
                why = _embedded_is_pdfa(ctx, data, parts)
                if why:
                    allowed = Items(f"PDF/A-{p}" for p in sorted(parts))
                    yield issue(message("pdfa.embedded_not_pdfa",
                                        "An embedded file must be {allowed}, but {why}.",
                                        allowed=allowed, why=why), obj=stream)

    return check


rule("2:6.8-5")(_embedded_pdfa_rule({1, 2}))
rule("=4:6.9-3")(_embedded_pdfa_rule({1, 2, 4}))
