"""Parse XML from strangers without letting it reach the network, the disk or our memory.

lxml is configured so that nothing outside the bytes is ever read: no network, no DTD
loading, no entity resolution, no "huge tree" mode. On top of that, documents that declare
entities or point at an external DTD are refused outright (that is how XXE and "billion
laughs" arrive; no e-invoice needs either), and size, nesting depth and element count are
capped before anything downstream (XSD validation, signature checks) sees the tree.

Every refusal is an :class:`XMLRejected` with a stable ``code`` and, when the parser knows
it, the line and column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from lxml import etree

MAX_XML_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 500_000


class XMLRejected(Exception):
    """The bytes are not XML we are willing to look at.

    ``code`` is one of ``too_large``, ``empty``, ``malformed``, ``entities``,
    ``external_dtd``, ``too_deep``, ``too_many_elements``.
    """

    def __init__(self, code: str, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "line": self.line,
                "column": self.column}


@dataclass(frozen=True)
class XMLLimits:
    max_bytes: int = MAX_XML_BYTES
    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS


DEFAULT_XML_LIMITS = XMLLimits()

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": False,
    "remove_pis": False,
}


def safe_parser() -> etree.XMLParser:
    """A parser with the same hardening, for trusted-but-careful uses (our own schemas)."""
    return etree.XMLParser(**_PARSER_OPTIONS)


def starts_xml_document(head: bytes) -> bool:
    """Whether ``head`` — the first bytes of a file — reads as the start of an XML document:
    a parser with the hardening above reaches a start tag without an error in the bytes
    given (what follows the head is not needed). Used to sniff XML that has no
    ``<?xml …?>`` declaration, which libmagic calls text."""
    parser = etree.XMLPullParser(events=("start",), **_PARSER_OPTIONS)
    try:
        parser.feed(head)
        return bool(list(parser.read_events()))
    except etree.XMLSyntaxError:
        return False


def parse_untrusted(data: bytes, limits: XMLLimits = DEFAULT_XML_LIMITS) -> etree._ElementTree:
    """Parse ``data`` into a tree or raise :class:`XMLRejected`.

    The document-type declaration is examined on its own, before the body is parsed, so a
    hostile DTD is refused without its entities ever being used. (Examining it at the root's
    start event is not enough: libxml2 2.14 parses a whole chunk before lxml hands out
    events, and stops at its own amplification or depth limit first.)
    """
    if len(data) > limits.max_bytes:
        raise XMLRejected("too_large", f"XML is {len(data):,} bytes; the limit is "
                          f"{limits.max_bytes:,} bytes")
    if not data.strip():
        raise XMLRejected("empty", "XML is empty")

    _check_prolog(data)
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), **_PARSER_OPTIONS)
    depth = 0
    count = 0
    root: etree._Element | None = None
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            if root is None:
                root = element
                _check_doctype(element.getroottree().docinfo)
            depth += 1
            count += 1
            if depth > limits.max_depth:
                raise XMLRejected("too_deep", f"XML nests deeper than {limits.max_depth} "
                                  "elements", line=element.sourceline)
            if count > limits.max_elements:
                raise XMLRejected("too_many_elements", "XML has more than "
                                  f"{limits.max_elements:,} elements", line=element.sourceline)
    except etree.XMLSyntaxError as exc:
        raise _rejected(exc, limits) from None
    if root is None:
        raise XMLRejected("malformed", "not well-formed XML: no root element")
    return root.getroottree()


def _rejected(exc: etree.XMLSyntaxError, limits: XMLLimits) -> XMLRejected:
    """The refusal for a parser error: libxml2's own resource limits (nesting depth, entity
    amplification) get the same codes as ours, whichever of the two is reached first."""
    line, column = (exc.position if exc.position else (None, None))
    if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        message = exc.msg.lower()
        if "depth" in message:
            return XMLRejected("too_deep", f"XML nests deeper than {limits.max_depth} "
                               "elements", line=line, column=column)
        if "entity" in message:
            return XMLRejected("entities", "XML expands entities beyond the parser's limit; "
                               "entity declarations are refused", line=line, column=column)
    return XMLRejected("malformed", f"not well-formed XML: {exc.msg}", line=line,
                       column=column)


def _check_prolog(data: bytes) -> None:
    """Refuse a hostile document-type declaration before the body is parsed: the prolog
    (everything before the root element) is parsed with an empty stand-in root, so no
    entity it declares can be referenced. Encodings the byte scan cannot follow (UTF-16)
    fall through to the parse, whose limits still hold."""
    end = _prolog_end(data)
    if end is None or b"<!DOCTYPE" not in data[:end]:
        return
    try:
        stand_in = etree.fromstring(data[:end] + b"<_/>", parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise _rejected(exc, DEFAULT_XML_LIMITS) from None
    _check_doctype(stand_in.getroottree().docinfo)


def _prolog_end(data: bytes) -> int | None:
    """Offset of the root element's ``<`` in ASCII-compatible XML, or None when the prolog
    cannot be followed byte by byte. Skips the declaration, comments, processing
    instructions and a DOCTYPE (quoted strings, internal subset and its comments)."""
    at = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while at < len(data) and data[at] in b" \t\r\n":
            at += 1
        if data.startswith(b"<?", at):
            close = data.find(b"?>", at)
            at = -1 if close < 0 else close + 2
        elif data.startswith(b"<!--", at):
            close = data.find(b"-->", at + 4)
            at = -1 if close < 0 else close + 3
        elif data.startswith(b"<!DOCTYPE", at):
            at = _doctype_end(data, at)
        elif data.startswith(b"<", at):
            return at
        else:
            return None
        if at < 0:
            return None


def _doctype_end(data: bytes, at: int) -> int:
    """Offset just after the DOCTYPE starting at ``at``, or -1 when it does not end."""
    quote = 0
    brackets = 0
    while at < len(data):
        byte = data[at]
        if quote:
            quote = 0 if byte == quote else quote
        elif data.startswith(b"<!--", at):
            close = data.find(b"-->", at + 4)
            if close < 0:
                return -1
            at = close + 2
        elif byte in b"\"'":
            quote = byte
        elif byte == ord("["):
            brackets += 1
        elif byte == ord("]"):
            brackets -= 1
        elif byte == ord(">") and brackets <= 0:
            return at + 1
        at += 1
    return -1


def _check_doctype(docinfo: etree.DocInfo) -> None:
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        raise XMLRejected("entities", "XML declares entities in its DOCTYPE; entity "
                          "declarations are refused (XXE / entity-expansion protection)")
    if docinfo.system_url or docinfo.public_id:
        raise XMLRejected("external_dtd", "XML refers to an external DTD "
                          f"({docinfo.system_url or docinfo.public_id}); refused")
