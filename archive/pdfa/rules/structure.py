"""Logical structure for level A (ISO 19005-1 6.8, -2/-3 6.7): marked content, the
structure tree, role mapping of non-standard types and natural-language identifiers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from archive.messages import message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

_STANDARD_TYPES_TEXT = """
Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private P H H1 H2 H3
H4 H5 H6 L LI Lbl LBody Table TR TH TD Span Quote Note Reference BibEntry Code Link Figure
Formula Form
"""
_STANDARD_14 = set(_STANDARD_TYPES_TEXT.split())
_STANDARD_17 = _STANDARD_14 | {"Annot", "Ruby", "RB", "RT", "RP", "Warichu", "WT", "WP",
                               "THead", "TBody", "TFoot"}


def _standard(ctx: DocContext) -> set[str]:
    return _STANDARD_14 if ctx.part == 1 else _STANDARD_17


@rule("1a:6.8.2.2-1", "2a,3a:6.7.2.2-1")
def marked(ctx: DocContext) -> Issues:
    if po.get(po.get(ctx.catalog, "/MarkInfo"), "/Marked") is not True:
        yield issue(message("pdfa.struct_marked",
                            "The catalog must have /MarkInfo << /Marked true >> (a tagged PDF)."))


@rule("1a:6.8.3.3-1", "2a,3a:6.7.3.3-1")
def has_structure_tree(ctx: DocContext) -> Issues:
    if not po.is_dict(po.get(ctx.catalog, "/StructTreeRoot")):
        yield issue(message("pdfa.struct_has_structure_tree",
                            "The document has no logical structure (StructTreeRoot); tag it."))


def _role_map(ctx: DocContext) -> dict[str, str]:
    rm = po.get(po.get(ctx.catalog, "/StructTreeRoot"), "/RoleMap")
    out = {}
    for k, v in po.items(rm):
        n = po.name(v)
        if n is not None:
            out[k[1:]] = n[1:]
    return out


def _resolve(ctx: DocContext, t: str) -> tuple[str | None, bool]:
    """(standard type it maps to or None, circular?)"""
    rm = _role_map(ctx)
    std = _standard(ctx)
    seen = {t}
    cur = t
    while cur not in std:
        nxt = rm.get(cur)
        if nxt is None:
            return None, False
        if nxt in seen:
            return None, True
        seen.add(nxt)
        cur = nxt
    return cur, False


def _types_used(ctx: DocContext) -> Iterator[tuple[str, Any]]:
    seen: set[str] = set()
    for elem in ctx.struct_elements:
        n = po.get_name(elem, "/S")
        if n and n[1:] not in seen:
            seen.add(n[1:])
            yield n[1:], elem


@rule("1a:6.8.3.4-1", "2a,3a:6.7.3.4-1")
def nonstandard_types_mapped(ctx: DocContext) -> Issues:
    std = _standard(ctx)
    for t, elem in _types_used(ctx):
        if t in std:
            continue
        target, circular = _resolve(ctx, t)
        if target is None and not circular:
            yield issue(message("pdfa.struct_nonstandard_types_mapped",
                                "The structure type {type} is not standard and the RoleMap does "
                                "not map it to a standard type.", type=t), obj=elem)


@rule("1a:6.8.3.4-2", "2a,3a:6.7.3.4-2")
def no_circular_mapping(ctx: DocContext) -> Issues:
    std = _standard(ctx)
    for t, elem in _types_used(ctx):
        if t in std:
            continue
        _, circular = _resolve(ctx, t)
        if circular:
            yield issue(message("pdfa.struct_no_circular_mapping",
                                "The RoleMap maps the structure type {type} in a circle.", type=t),
                        obj=elem)


@rule("2a,3a:6.7.3.4-3")
def standard_types_not_remapped(ctx: DocContext) -> Issues:
    std = _standard(ctx)
    for k, v in _role_map(ctx).items():
        if k in std and v != k:
            yield issue(message("pdfa.struct_standard_types_not_remapped",
                                "The RoleMap remaps the standard structure type {type} to {to}; "
                                "standard types must not be remapped.", type=k, to=v),
                        obj=po.get(ctx.catalog, "/StructTreeRoot"))


_LANG_1 = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z]{1,8})*\Z")
_LANG_2 = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*\Z")


def _langs(ctx: DocContext) -> Iterator[tuple[Any, Any, int | None]]:
    lang = po.get(ctx.catalog, "/Lang")
    if lang is not None:
        yield lang, ctx.catalog, None
    for elem in ctx.struct_elements:
        lang = po.get(elem, "/Lang")
        if lang is not None:
            yield lang, elem, None
    for props, page in ctx.usage.marked_props:
        lang = po.get(props, "/Lang")
        if lang is not None:
            yield lang, props, page


@rule("1a:6.8.4-1", "2a,3a:6.7.4-1")
def language_tags(ctx: DocContext) -> Issues:
    pattern = _LANG_1 if ctx.part == 1 else _LANG_2
    for lang, holder, page in _langs(ctx):
        text = po.text(lang)
        if text is None:
            yield issue(message("pdfa.struct_language_not_text",
                                "A /Lang entry is not a text string."), obj=holder, page=page)
        elif text and pattern.match(text) is None:
            yield issue(message("pdfa.struct_language_tag_invalid",
                                "The language identifier {text!r} is not a valid language tag "
                                "(e.g. en-US, th-TH).", text=text), obj=holder, page=page)


def _is_pua(ch: str) -> bool:
    o = ord(ch)
    return 0xE000 <= o <= 0xF8FF or 0xF0000 <= o <= 0xFFFFD or 0x100000 <= o <= 0x10FFFD


@rule("4:6.2.10.8-1")
def actual_text_no_pua(ctx: DocContext) -> Issues:
    found: list[tuple[Any, Any, int | None]] = [
        (po.get(e, "/ActualText"), e, None) for e in ctx.struct_elements]
    found += [(at, None, page) for at, page in ctx.usage.actual_texts]
    for value, holder, page in found:
        text = po.text(value)
        if text and any(_is_pua(c) for c in text):
            yield issue(message("pdfa.struct_actual_text_no_pua",
                                "An ActualText contains Private Use Area characters; give the "
                                "real Unicode text."), obj=holder, page=page)
