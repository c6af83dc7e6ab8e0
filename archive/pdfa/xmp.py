"""XMP metadata: the packet, its RDF properties in a normalised form, and value-type checks.

RDF/XML can say the same thing several ways (attribute or element, ``parseType="Resource"``
or a nested ``rdf:Description``, ``rdf:value`` with qualifiers). :func:`parse_packet`
turns each property into a :class:`Node` that is either a simple value, a structure of
fields or an array (Bag, Seq, Alt) of nodes, so checks do not care about the spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from archive.messages import message
from archive.pdfa import pdfobj as po

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
PDFA_TYPE = "http://www.aiim.org/pdfa/ns/type#"
PDFA_FIELD = "http://www.aiim.org/pdfa/ns/field#"
DC = "http://purl.org/dc/elements/1.1/"
XMP_BASIC = "http://ns.adobe.com/xap/1.0/"
PDF_NS = "http://ns.adobe.com/pdf/1.3/"

_R = "{" + RDF + "}"
_XML = "{" + XML + "}"
_ARRAYS = {_R + "Bag": "Bag", _R + "Seq": "Seq", _R + "Alt": "Alt"}
_SKIP_ATTRS = {_R + "about", _R + "ID", _R + "nodeID", _R + "parseType", _R + "resource",
               _R + "datatype", _XML + "lang", _XML + "space", _XML + "base"}
_PACKET_HEADER = re.compile(rb"<\?xpacket\s+([^?]*\bbegin\s*=[^?]*)\?>")
_ATTR = re.compile(rb"""(\w+)\s*=\s*(['"])(.*?)\2""", re.S)


@dataclass
class Node:
    """A normalised RDF value."""

    kind: str  # "simple", "struct", "array" or "invalid"
    text: str = ""
    array: str | None = None  # Bag, Seq, Alt
    items: list[Node] = field(default_factory=list)
    fields: list[Prop] = field(default_factory=list)
    lang: str | None = None
    is_uri: bool = False


@dataclass
class Prop:
    """A property (or a structure field): namespace, the prefix used for it, name, value."""

    ns: str
    prefix: str | None
    name: str
    node: Node
    line: int | None = None

    @property
    def qname(self) -> str:
        return f"{self.prefix or '?'}:{self.name}"


@dataclass
class Xmp:
    """The catalog's XMP metadata stream, parsed."""

    stream: Any = None
    data: bytes = b""
    header: dict[str, str] = field(default_factory=dict)
    has_header: bool = False
    utf8: bool = True
    error: str | None = None
    props: list[Prop] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.stream is not None

    @property
    def ok(self) -> bool:
        return self.present and self.error is None

    def find(self, ns: str, name: str) -> Prop | None:
        for p in self.props:
            if p.ns == ns and p.name == name:
                return p
        return None

    def find_all(self, ns: str, name: str) -> list[Prop]:
        return [p for p in self.props if p.ns == ns and p.name == name]

    def simple(self, ns: str, name: str) -> str | None:
        p = self.find(ns, name)
        if p is None or p.node.kind != "simple":
            return None
        return p.node.text

    def lang_default(self, ns: str, name: str) -> str | None:
        """The ``x-default`` item of a Lang Alt (or its only/first item)."""
        p = self.find(ns, name)
        if p is None:
            return None
        node = p.node
        if node.kind == "simple":
            return node.text
        if node.kind != "array" or not node.items:
            return None
        for item in node.items:
            if item.lang == "x-default" and item.kind == "simple":
                return item.text
        first = node.items[0]
        return first.text if first.kind == "simple" else None

    def items(self, ns: str, name: str) -> list[str] | None:
        p = self.find(ns, name)
        if p is None:
            return None
        if p.node.kind == "simple":
            return [p.node.text]
        if p.node.kind != "array":
            return None
        return [i.text for i in p.node.items if i.kind == "simple"]


def _prefix_for(el: Any, ns: str) -> str | None:
    if el.prefix is not None and el.nsmap.get(el.prefix) == ns:
        return el.prefix
    for prefix, uri in el.nsmap.items():
        if uri == ns and prefix:
            return prefix
    return None


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _children(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _attr_props(el: Any) -> list[Prop]:
    out = []
    for key, value in el.attrib.items():
        if key in _SKIP_ATTRS or key.startswith(_R):
            continue
        ns, local = _split(key)
        out.append(Prop(ns, _prefix_for(el, ns), local, Node("simple", text=value),
                        el.sourceline))
    return out


def _elem_prop(el: Any) -> Prop:
    ns, local = _split(el.tag)
    return Prop(ns, el.prefix, local, parse_value(el), el.sourceline)


def parse_value(el: Any) -> Node:
    lang = el.get(_XML + "lang")
    kids = _children(el)
    if el.get(_R + "parseType") == "Resource":
        fields = [_elem_prop(k) for k in kids]
        return Node("struct", fields=fields, lang=lang)
    if kids:
        if len(kids) == 1 and kids[0].tag in _ARRAYS:
            arr = kids[0]
            items = []
            for li in _children(arr):
                if li.tag != _R + "li":
                    return Node("invalid", lang=lang)
                items.append(parse_value(li))
            return Node("array", array=_ARRAYS[arr.tag], items=items, lang=lang)
        if len(kids) == 1 and kids[0].tag == _R + "Description":
            desc = kids[0]
            value = desc.find(_R + "value")
            if value is not None:
                node = parse_value(value)
                node.lang = node.lang or lang
                return node
            if desc.get(_R + "value") is not None:
                return Node("simple", text=desc.get(_R + "value"), lang=lang)
            fields = _attr_props(desc) + [_elem_prop(k) for k in _children(desc)]
            return Node("struct", fields=fields, lang=lang)
        return Node("invalid", lang=lang)
    resource = el.get(_R + "resource")
    if resource is not None:
        return Node("simple", text=resource, lang=lang, is_uri=True)
    shorthand = _attr_props(el)
    if shorthand:
        if (el.text or "").strip():
            return Node("invalid", lang=lang)
        return Node("struct", fields=shorthand, lang=lang)
    return Node("simple", text=el.text or "", lang=lang)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_comments=True, remove_pis=False)


def parse_packet(data: bytes) -> Xmp:
    x = Xmp(data=data)
    m = _PACKET_HEADER.search(data[:1024])
    if m is not None:
        x.has_header = True
        x.header = {k.decode("latin-1"): v.decode("latin-1", "replace")
                    for k, _, v in _ATTR.findall(m.group(1))}
    if data[:2] in (b"\xfe\xff", b"\xff\xfe") or data[:4] in (b"\x00\x00\xfe\xff",
                                                              b"\xff\xfe\x00\x00"):
        x.utf8 = False
    else:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            x.utf8 = False
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        x.error = message("pdfa.xmp_error_not_xml", "the XMP metadata is not well-formed XML "
                          "({error})", error=str(exc))
        return x
    rdf = root if root.tag == _R + "RDF" else root.find(".//" + _R + "RDF")
    if rdf is None:
        x.error = message("pdfa.xmp_error_no_rdf", "the XMP metadata has no rdf:RDF element")
        return x
    for desc in _children(rdf):
        if desc.tag != _R + "Description":
            x.error = message("pdfa.xmp_error_unexpected", "unexpected element {element} "
                              "directly under rdf:RDF", element=str(desc.tag))
            continue
        x.props.extend(_attr_props(desc))
        for child in _children(desc):
            x.props.append(_elem_prop(child))
    return x


def parse_metadata_stream(stream: Any) -> Xmp:
    if not po.is_stream(stream):
        return Xmp()
    data = po.read_stream(stream)
    if data is None:
        x = Xmp(stream=stream)
        x.error = message("pdfa.xmp_error_undecodable", "the metadata stream cannot be decoded")
        return x
    x = parse_packet(data)
    x.stream = stream
    return x
