"""PDF/A extension schemas declared in an XMP packet (ISO 19005-1 6.7.8, -2/-3 6.6.2.3.3):
what they define (namespaces, properties, value types) and what is wrong with them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.messages import Message, message
from archive.pdfa.xmp import (
    PDFA_EXTENSION,
    PDFA_FIELD,
    PDFA_PROPERTY,
    PDFA_SCHEMA,
    PDFA_TYPE,
    Node,
    Prop,
    Xmp,
)
from archive.pdfa.xmp_schemas import is_known_type

_SCHEMA_FIELDS = {"schema", "namespaceURI", "prefix", "property", "valueType"}
_PROPERTY_FIELDS = {"name", "valueType", "category", "description"}
_TYPE_FIELDS = {"type", "namespaceURI", "prefix", "description", "field"}
_FIELD_FIELDS = {"name", "valueType", "description"}
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*\Z")


@dataclass
class Extensions:
    """PDF/A extension schemas declared in the XMP, and what they break."""

    # (part-1 test number) -> messages; part 2 numbers are one lower for 6.6.2.3.3.
    problems: dict[int, list[str]] = field(default_factory=dict)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)  # ns -> name -> type
    types: dict[str, tuple[str | None, dict[str, str]]] = field(default_factory=dict)
    well_formed: bool = True

    def add(self, test: int, message: str) -> None:
        self.problems.setdefault(test, []).append(message)


def _fields(node: Node) -> dict[str, Prop]:
    return {f.name: f for f in node.fields}


def _check_simple(ext: Extensions, f: Prop | None, test: int, what: str, prefix: str,
                  uri: bool = False) -> str | None:
    if f is None or f.node.kind != "simple" or not f.node.text.strip():
        ext.add(test, message("pdfa.xmp_ext_missing", "{field} is missing or not a text value",
                              field=what))
        return None
    if f.prefix != prefix:
        ext.add(test, message("pdfa.xmp_ext_prefix", "{field} uses the prefix {prefix!r} "
                              "instead of {want!r}", field=what, prefix=f.prefix, want=prefix))
    if uri and _URI.match(f.node.text.strip()) is None:
        ext.add(test, message("pdfa.xmp_ext_not_uri", "{field} {value!r} is not a URI",
                              field=what, value=f.node.text.strip()))
    return f.node.text.strip()


def _check_seq(ext: Extensions, f: Prop | None, test: int, what: str, prefix: str
               ) -> list[Node]:
    if f is None:
        return []
    if f.node.kind != "array" or f.node.array != "Seq" or any(
            i.kind != "struct" for i in f.node.items):
        ext.add(test, message("pdfa.xmp_ext_not_seq", "{field} must be an rdf:Seq of "
                              "descriptions", field=what))
        return [i for i in f.node.items if i.kind == "struct"]
    if f.prefix != prefix:
        ext.add(test, message("pdfa.xmp_ext_prefix", "{field} uses the prefix {prefix!r} "
                              "instead of {want!r}", field=what, prefix=f.prefix, want=prefix))
    return f.node.items


def _undefined(ext: Extensions, node: Node, ns: str, allowed: set[str], what: Message
               ) -> None:
    for f in node.fields:
        if f.ns != ns or f.name not in allowed:
            ext.add(1, message("pdfa.xmp_ext_undefined_field", "{what} has an undefined field "
                               "{field}", what=what, field=f.qname))


def read_extensions(x: Xmp, inherited: Extensions | None = None) -> Extensions:
    """``inherited``: the catalog packet's schemas, whose value types another object's
    packet may use (veraPDF extends that packet's definitions with the catalog's)."""
    ext = Extensions()
    containers = x.find_all(PDFA_EXTENSION, "schemas") if x.ok else []
    for cont in containers:
        node = cont.node
        if node.kind != "array" or node.array != "Bag" or cont.prefix != "pdfaExtension":
            ext.add(2, message("pdfa.xmp_ext_schemas_bag", "pdfaExtension:schemas must be an "
                               "rdf:Bag with the prefix 'pdfaExtension'"))
        for schema in node.items if node.kind == "array" else []:
            if schema.kind != "struct":
                ext.add(1, message("pdfa.xmp_ext_schema_entry", "an extension schema entry is "
                                   "not a description"))
                continue
            _undefined(ext, schema, PDFA_SCHEMA, _SCHEMA_FIELDS, message("pdfa.xmp_ext_what_schema",
                                                                    "an extension schema"))
            fs = _fields(schema)
            _check_simple(ext, fs.get("schema"), 3, "pdfaSchema:schema", "pdfaSchema")
            ns = _check_simple(ext, fs.get("namespaceURI"), 4, "pdfaSchema:namespaceURI",
                               "pdfaSchema", uri=True)
            _check_simple(ext, fs.get("prefix"), 5, "pdfaSchema:prefix", "pdfaSchema")
            props = _check_seq(ext, fs.get("property"), 6, "pdfaSchema:property",
                               "pdfaSchema")
            vtypes = _check_seq(ext, fs.get("valueType"), 7, "pdfaSchema:valueType",
                                "pdfaSchema")
            for vt in vtypes:
                _undefined(ext, vt, PDFA_TYPE, _TYPE_FIELDS, message(
                    "pdfa.xmp_ext_what_value_type", "an extension value type"))
                vf = _fields(vt)
                tname = _check_simple(ext, vf.get("type"), 12, "pdfaType:type", "pdfaType")
                tns = _check_simple(ext, vf.get("namespaceURI"), 13, "pdfaType:namespaceURI",
                                    "pdfaType", uri=True)
                _check_simple(ext, vf.get("prefix"), 14, "pdfaType:prefix", "pdfaType")
                _check_simple(ext, vf.get("description"), 15, "pdfaType:description",
                              "pdfaType")
                fields: dict[str, str] = {}
                for fl in _check_seq(ext, vf.get("field"), 16, "pdfaType:field", "pdfaType"):
                    _undefined(ext, fl, PDFA_FIELD, _FIELD_FIELDS, message(
                        "pdfa.xmp_ext_what_field", "an extension field"))
                    ff = _fields(fl)
                    fname = _check_simple(ext, ff.get("name"), 17, "pdfaField:name",
                                          "pdfaField")
                    ftype = _check_simple(ext, ff.get("valueType"), 18, "pdfaField:valueType",
                                          "pdfaField")
                    _check_simple(ext, ff.get("description"), 19, "pdfaField:description",
                                  "pdfaField")
                    if fname and ftype:
                        fields[fname] = ftype
                if tname:
                    ext.types[tname] = (tns, fields)
            for p in props:
                _undefined(ext, p, PDFA_PROPERTY, _PROPERTY_FIELDS, message(
                    "pdfa.xmp_ext_what_property", "an extension property"))
                pf = _fields(p)
                pname = _check_simple(ext, pf.get("name"), 8, "pdfaProperty:name",
                                      "pdfaProperty")
                ptype = _check_simple(ext, pf.get("valueType"), 9, "pdfaProperty:valueType",
                                      "pdfaProperty")
                cat = _check_simple(ext, pf.get("category"), 10, "pdfaProperty:category",
                                    "pdfaProperty")
                if cat is not None and cat not in ("external", "internal"):
                    ext.add(10, message("pdfa.xmp_ext_category", "pdfaProperty:category is "
                                        "{value!r}, not internal or external", value=cat))
                _check_simple(ext, pf.get("description"), 11, "pdfaProperty:description",
                              "pdfaProperty")
                # As veraPDF registers it: a property is declared once its schema has a
                # namespace URI and the property both a name and a value type.
                if ns and pname and ptype:
                    ext.properties.setdefault(ns, {})[pname] = ptype
    # value types named by properties and fields must be defined somewhere
    known = {**inherited.types, **ext.types} if inherited is not None else ext.types
    for ns_props in ext.properties.values():
        for t in ns_props.values():
            if not is_known_type(t, known):
                ext.add(9, message("pdfa.xmp_ext_unknown_type", "the value type {type!r} is "
                                   "neither an XMP type nor defined by an extension schema",
                                   type=t))
    for _, fields in ext.types.values():
        for t in fields.values():
            if not is_known_type(t, known):
                ext.add(18, message("pdfa.xmp_ext_unknown_type", "the value type {type!r} is "
                                    "neither an XMP type nor defined by an extension schema",
                                    type=t))
    return ext
