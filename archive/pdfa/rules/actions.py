"""Actions (ISO 19005-1 6.6, -2/-3 6.5, -4 6.6): permitted action types, named actions and
additional-actions dictionaries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archive.messages import Items, Message, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

_ALLOWED_1 = {"GoTo", "GoToR", "Thread", "URI", "Named", "SubmitForm"}
_ALLOWED_2 = _ALLOWED_1 | {"GoToE"}
_ALLOWED_4 = _ALLOWED_2 | {"JavaScript", "RichMediaExecute", "GoToDp"}
_ALLOWED = {"1": _ALLOWED_1, "2": _ALLOWED_2, "3": _ALLOWED_2, "4": _ALLOWED_4,
            "4e": _ALLOWED_4 | {"SetOCGState", "GoTo3DView"}, "4f": _ALLOWED_4}
_NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}


def _outline_items(ctx: DocContext) -> Iterator[Any]:
    first = po.get(po.get(ctx.catalog, "/Outlines"), "/First")
    stack = [first] if first is not None else []
    seen: set[Any] = set()
    while stack and len(seen) < 100000:
        item = stack.pop()
        if not po.is_dict(item):
            continue
        key = po.key_of(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        yield item
        for k in ("/First", "/Next"):
            nxt = po.get(item, k)
            if nxt is not None:
                stack.append(nxt)


def all_actions(ctx: DocContext) -> list[tuple[Any, int | None]]:
    """Every action dictionary reachable from the usual places, following /Next chains."""
    cached = ctx.__dict__.get("_pdfa_actions")
    if cached is not None:
        return cached
    roots: list[tuple[Any, int | None]] = []
    open_action = po.get(ctx.catalog, "/OpenAction")
    if po.is_plain_dict(open_action):
        roots.append((open_action, None))
    for _, act in po.items(po.get(ctx.catalog, "/AA")):
        roots.append((act, None))
    for i, page in enumerate(ctx.pages):
        for _, act in po.items(po.get(page, "/AA")):
            roots.append((act, i))
    for a, page in ctx.annotations:
        roots.append((po.get(a, "/A"), page))
        for _, act in po.items(po.get(a, "/AA")):
            roots.append((act, page))
    for f in ctx.form_fields:
        for _, act in po.items(po.get(f, "/AA")):
            roots.append((act, None))
    for item in _outline_items(ctx):
        roots.append((po.get(item, "/A"), None))
    out: list[tuple[Any, int | None]] = []
    seen: set[Any] = set()
    stack = [r for r in roots if r[0] is not None]
    while stack and len(out) < 100000:
        act, page = stack.pop()
        if not po.is_plain_dict(act):
            continue
        key = po.key_of(act)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        out.append((act, page))
        for nxt in po.as_list(po.get(act, "/Next")):
            stack.append((nxt, page))
    ctx.__dict__["_pdfa_actions"] = out
    return out


@rule("1:6.6.1-1", "2,3:6.5.1-1", "4:6.6.1-1")
def permitted_actions(ctx: DocContext) -> Issues:
    allowed = _ALLOWED.get(ctx.flavour) or _ALLOWED[str(ctx.part)]
    for act, page in all_actions(ctx):
        s = (po.get_name(act, "/S") or "/?")[1:]
        if s not in allowed:
            yield issue(message("pdfa.action_forbidden",
                                "The file uses a {action} action, which PDF/A-{flavour} forbids; "
                                "remove it.", action=s, flavour=ctx.flavour), obj=act, page=page)


@rule("1:6.6.1-2", "2,3:6.5.1-2", "4:6.6.1-2")
def named_actions(ctx: DocContext) -> Issues:
    for act, page in all_actions(ctx):
        if po.get_name(act, "/S") != "/Named":
            continue
        n = po.get_name(act, "/N")
        if n not in _NAMED:
            yield issue(message("pdfa.action_named",
                                "The named action {action} is not allowed; only NextPage, "
                                "PrevPage, FirstPage and LastPage are.", action=n),
                        obj=act, page=page)


@rule("1:6.6.2-3", "2,3:6.5.2-1")
def catalog_no_additional_actions(ctx: DocContext) -> Issues:
    if po.has(ctx.catalog, "/AA"):
        yield issue(message("pdfa.action_catalog_aa",
                            "The document catalog has additional actions (/AA); remove them."),
                    obj=po.get(ctx.catalog, "/AA"))


@rule("2,3:6.5.2-2")
def page_no_additional_actions(ctx: DocContext) -> Issues:
    for i, page in enumerate(ctx.pages):
        if po.has(page, "/AA"):
            yield issue(message("pdfa.action_page_aa",
                                "The page has additional actions (/AA); remove them."),
                        obj=page, page=i)


_AA_KEYS_4 = {"/E", "/X", "/D", "/U", "/Fo", "/Bl"}


@rule("4:6.6.3-1")
def additional_action_keys(ctx: DocContext) -> Issues:
    holders: list[tuple[Any, int | None, str]] = [(ctx.catalog, None, "catalog")]
    holders += [(p, i, "page") for i, p in enumerate(ctx.pages)]
    holders += [(a, p, "annotation") for a, p in ctx.annotations
                if po.get_name(a, "/Subtype") != "/Widget"]
    for holder, page, what in holders:
        extra = [k for k in po.keys(po.get(holder, "/AA")) if k not in _AA_KEYS_4]
        if extra:
            yield issue(_aa_triggers(what, Items(extra)), obj=holder, page=page)


def _aa_triggers(what: str, triggers: Items) -> Message:
    if what == "catalog":
        return message("pdfa.action_catalog_aa_triggers",
                       "The catalog's additional actions use the trigger(s) {triggers}; "
                       "PDF/A-4 allows only E, X, D, U, Fo and Bl.", triggers=triggers)
    if what == "page":
        return message("pdfa.action_page_aa_triggers",
                       "The page's additional actions use the trigger(s) {triggers}; "
                       "PDF/A-4 allows only E, X, D, U, Fo and Bl.", triggers=triggers)
    return message("pdfa.action_annot_aa_triggers",
                   "The annotation's additional actions use the trigger(s) {triggers}; "
                   "PDF/A-4 allows only E, X, D, U, Fo and Bl.", triggers=triggers)
