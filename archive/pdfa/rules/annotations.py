"""Annotations and interactive forms (ISO 19005-1 6.5 and 6.9, -2/-3 6.3 and 6.4,
-4 6.3 and 6.4): allowed types, flags, appearance streams, form fields."""

from __future__ import annotations

from typing import Any

from archive.messages import message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

_TYPES_1 = {"Text", "Link", "FreeText", "Line", "Square", "Circle", "Highlight", "Underline",
            "Squiggly", "StrikeOut", "Stamp", "Ink", "Popup", "Widget", "PrinterMark",
            "TrapNet"}
_TYPES_2 = _TYPES_1 | {"Polygon", "PolyLine", "Caret", "FileAttachment", "Watermark",
                       "Redact"}
_TYPES_4 = (_TYPES_2 - {"FileAttachment"}) | {"Projection"}
_TYPES = {"1": _TYPES_1, "2": _TYPES_2, "3": _TYPES_2, "4": _TYPES_4,
          "4e": _TYPES_4 | {"3D", "RichMedia"}, "4f": _TYPES_4 | {"FileAttachment"}}

_PRINT, _HIDDEN, _INVISIBLE, _NOVIEW, _TOGGLE_NOVIEW = 4, 2, 1, 32, 256


def _subtype(a: Any) -> str:
    return (po.get_name(a, "/Subtype") or "/?")[1:]


@rule("1:6.5.2-1", "2,3:6.3.1-1", "4:6.3.1-1")
def annotation_types(ctx: DocContext) -> Issues:
    allowed = _TYPES.get(ctx.flavour) or _TYPES[str(ctx.part)]
    for a, page in ctx.annotations:
        st = _subtype(a)
        if st not in allowed:
            yield issue(message("pdfa.annot_types",
                                "The page has a {subtype} annotation, which PDF/A-{flavour} does "
                                "not permit; remove it.", subtype=st, flavour=ctx.flavour),
                        obj=a, page=page)


@rule("1:6.5.3-1")
def annotation_opaque(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        ca = po.get_number(a, "/CA")
        if ca is not None and ca != 1.0:
            yield issue(message("pdfa.annot_opaque",
                                "An annotation has opacity CA {ca:g}; PDF/A-1 requires 1.0.",
                                ca=ca),
                        obj=a, page=page)


def _flags_ok(f: int, part: int) -> bool:
    bad = _HIDDEN | _INVISIBLE | _NOVIEW | (0 if part == 1 else _TOGGLE_NOVIEW)
    return bool(f & _PRINT) and not (f & bad)


@rule("1:6.5.3-2")
def annotation_flags_1(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        f = po.get_int(a, "/F")
        if f is None or not _flags_ok(f, 1):
            yield issue(message("pdfa.annot_flags_1",
                                "An annotation must have flags (/F) with Print set and Hidden, "
                                "Invisible and NoView clear."), obj=a, page=page)


@rule("2,3:6.3.2-1", "4:6.3.2-1")
def annotation_has_flags(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        if _subtype(a) != "Popup" and po.get(a, "/F") is None:
            yield issue(message("pdfa.annot_has_flags",
                                "A {subtype} annotation has no flags (/F); set at least the "
                                "Print flag.", subtype=_subtype(a)), obj=a, page=page)


@rule("2,3:6.3.2-2", "4:6.3.2-2")
def annotation_flags(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        f = po.get_int(a, "/F")
        if f is not None and not _flags_ok(f, ctx.part):
            yield issue(message("pdfa.annot_flags",
                                "An annotation's flags must have Print set and Hidden, "
                                "Invisible, ToggleNoView and NoView clear."), obj=a, page=page)


@rule("1:6.5.3-3")
def annotation_colours(ctx: DocContext) -> Issues:
    if ctx.output_intent_cs == "RGB ":
        return
    for a, page in ctx.annotations:
        if po.has(a, "/C") or po.has(a, "/IC"):
            yield issue(message("pdfa.annot_colours",
                                "An annotation sets colours (/C or /IC), which PDF/A-1 allows "
                                "only with an RGB output intent."), obj=a, page=page)


def _rect_empty(a: Any) -> bool:
    r = [po.number(v) for v in po.elements(po.get(a, "/Rect"))]
    if len(r) != 4 or None in r:
        return False
    return r[0] == r[2] and r[1] == r[3]


@rule("2,3:6.3.3-1", "4:6.3.3-1")
def annotation_has_appearance(ctx: DocContext) -> Issues:
    exempt = {"Popup", "Link"} | ({"Projection"} if ctx.part == 4 else set())
    for a, page in ctx.annotations:
        if _subtype(a) in exempt or _rect_empty(a) or po.get(a, "/AP") is not None:
            continue
        yield issue(message("pdfa.annot_has_appearance",
                            "A {subtype} annotation has no appearance stream (/AP); generate "
                            "appearances.", subtype=_subtype(a)), obj=a, page=page)


@rule("1:6.5.3-4", "2,3:6.3.3-2", "4:6.3.3-2")
def appearance_only_normal(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        ap = po.get(a, "/AP")
        if ap is not None and po.keys(ap) != ["/N"]:
            yield issue(message("pdfa.annot_appearance_only_normal",
                                "An annotation's appearance dictionary must hold only the normal "
                                "appearance (/N); remove /R and /D."), obj=a, page=page)


def _is_button_widget(ctx: DocContext, a: Any) -> bool:
    return _subtype(a) == "Widget" and ctx.field_type(a) == "/Btn"


def _normal_only(a: Any) -> Any:
    """The /N entry when the appearance dictionary holds exactly /N (veraPDF's ``AP ==
    "N"``), else None: with other keys present 6.5.3-4 / 6.3.3-2 already fail the file
    and the N rules do not apply."""
    ap = po.get(a, "/AP")
    return po.get(ap, "/N") if po.keys(ap) == ["/N"] else None


@rule("1:6.5.3-5", "2,3:6.3.3-3", "4:6.3.3-3")
def button_appearance_states(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        n = _normal_only(a)
        if n is None or not _is_button_widget(ctx, a):
            continue
        # An appearance subdictionary: a dictionary (not a stream) whose states map to
        # appearance streams; at least one state must be an appearance stream.
        if not po.is_plain_dict(n) or not any(po.is_stream(v) for _, v in po.items(n)):
            yield issue(message("pdfa.annot_button_appearance_states",
                                "A button widget's normal appearance (/N) must be a dictionary "
                                "of appearance states."), obj=a, page=page)


@rule("1:6.5.3-6", "2,3:6.3.3-4", "4:6.3.3-4")
def appearance_is_stream(ctx: DocContext) -> Issues:
    for a, page in ctx.annotations:
        n = _normal_only(a)
        if n is None or _is_button_widget(ctx, a):
            continue
        if not po.is_stream(n):
            yield issue(message("pdfa.annot_appearance_is_stream",
                                "The annotation's normal appearance (/N) must be an appearance "
                                "stream."),
                        obj=a, page=page)


# -- interactive forms ------------------------------------------------------------------------


def _widgets(ctx: DocContext) -> list[tuple[Any, int]]:
    return [(a, p) for a, p in ctx.annotations if _subtype(a) == "Widget"]


@rule("1:6.6.1-3")
def widget_no_action_1(ctx: DocContext) -> Issues:
    for a, page in _widgets(ctx):
        if po.has(a, "/A"):
            yield issue(message("pdfa.annot_widget_no_action_1",
                                "A form field widget performs an action (/A); PDF/A-1 forbids "
                                "actions on form fields."), obj=a, page=page)


@rule("1:6.6.2-1")
def widget_no_additional_actions(ctx: DocContext) -> Issues:
    for a, page in _widgets(ctx):
        if po.has(a, "/AA"):
            yield issue(message("pdfa.annot_widget_no_additional_actions",
                                "A widget annotation has additional actions (/AA); remove them."),
                        obj=a, page=page)


@rule("2,3:6.4.1-1")
def widget_no_actions(ctx: DocContext) -> Issues:
    for a, page in _widgets(ctx):
        if po.has(a, "/A") or po.has(a, "/AA"):
            yield issue(message("pdfa.annot_widget_no_actions",
                                "A widget annotation has an action (/A or /AA); remove it."),
                        obj=a, page=page)


@rule("4:6.4.1-1")
def widget_no_action_4(ctx: DocContext) -> Issues:
    for a, page in _widgets(ctx):
        if po.has(a, "/A"):
            yield issue(message("pdfa.annot_widget_no_action_4",
                                "A widget annotation has an action (/A); remove it."),
                        obj=a, page=page)


@rule("1:6.6.2-2", "2,3:6.4.1-2")
def field_no_additional_actions(ctx: DocContext) -> Issues:
    for f in ctx.form_fields:
        if po.has(f, "/AA"):
            yield issue(message("pdfa.annot_field_no_additional_actions",
                                "A form field has additional actions (/AA); remove them."), obj=f)


@rule("1:6.9-1", "2,3:6.4.1-3", "4:6.4.1-2")
def no_need_appearances(ctx: DocContext) -> Issues:
    form = po.get(ctx.catalog, "/AcroForm")
    if po.get(form, "/NeedAppearances") is True:
        yield issue(message("pdfa.annot_no_need_appearances",
                            "The form sets NeedAppearances true; generate the field appearances "
                            "and remove the flag."), obj=form)


@rule("1:6.9-2")
def widget_has_appearance(ctx: DocContext) -> Issues:
    for a, page in _widgets(ctx):
        if po.get(a, "/AP") is None:
            yield issue(message("pdfa.annot_widget_has_appearance",
                                "A form field widget has no appearance dictionary (/AP)."), obj=a,
                        page=page)


@rule("2,3:6.4.2-1", "4:6.4.2-1")
def no_xfa(ctx: DocContext) -> Issues:
    form = po.get(ctx.catalog, "/AcroForm")
    if po.has(form, "/XFA"):
        yield issue(message("pdfa.annot_no_xfa",
                            "The form contains XFA (/XFA); PDF/A allows only AcroForm fields."),
                    obj=form)


@rule("2,3:6.4.2-2", "4:6.4.2-2")
def no_needs_rendering(ctx: DocContext) -> Issues:
    if po.get(ctx.catalog, "/NeedsRendering") is True:
        yield issue(message("pdfa.annot_no_needs_rendering",
                            "The catalog has NeedsRendering (a dynamic XFA form); remove it."))
