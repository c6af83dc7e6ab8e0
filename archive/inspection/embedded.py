"""Files embedded in a PDF: the XML invoice of a ZUGFeRD / Factur-X / ETDA PDF/A-3 and others.

A file can be reachable from several places (the document's EmbeddedFiles name tree, the
catalog's /AF array of associated files, a page's /AF, a FileAttachment annotation); each
file specification is listed once with every place it was found in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from archive.inspection.report import EmbeddedFile
from archive.inspection.safexml import MAX_XML_BYTES

MAX_PAGES_SCANNED = 2000
MAX_FILES = 200


@dataclass
class ExtractedFile:
    """An embedded file with its bytes (only for files small enough to inspect)."""

    info: EmbeddedFile
    data: bytes | None


def list_embedded(path: str | Path, *, keep_data_up_to: int = MAX_XML_BYTES,
                  keep: str = "xml") -> list[ExtractedFile]:
    """Every embedded file of the PDF at ``path``; bytes kept for XML-looking files.

    ``keep`` is ``"xml"`` (keep bytes of files that look like XML, for invoice inspection),
    ``"all"`` or ``"none"``. Files larger than ``keep_data_up_to`` are listed without bytes.
    """
    out: list[ExtractedFile] = []
    with pikepdf.open(path) as pdf:
        for spec, places, key in _file_specs(pdf):
            if len(out) >= MAX_FILES:
                break
            info, data = _describe(spec, places, key)
            if keep == "none" or (keep == "xml" and not _looks_like_xml(info, data)):
                data = None
            elif data is not None and len(data) > keep_data_up_to:
                info.error = (f"{len(data):,} bytes: too large to inspect (limit "
                              f"{keep_data_up_to:,})")
                data = None
            out.append(ExtractedFile(info, data))
    return out


def extract_embedded(path: str | Path, name: str) -> bytes:
    """The bytes of the embedded file called ``name`` (first match); KeyError if none."""
    for item in list_embedded(path, keep="all", keep_data_up_to=1 << 62):
        if item.info.name == name and item.data is not None:
            return item.data
    raise KeyError(name)


def _file_specs(pdf: pikepdf.Pdf) -> Iterator[tuple[pikepdf.Dictionary, list[str], str | None]]:
    """Yield (file specification, places found, name-tree key) without duplicates."""
    found: dict[tuple[int, int] | int, tuple[pikepdf.Dictionary, list[str], str | None]] = {}
    order: list[tuple[int, int] | int] = []

    def add(spec: object, place: str, key: str | None = None) -> None:
        if not isinstance(spec, pikepdf.Dictionary):
            return
        ident: tuple[int, int] | int = spec.objgen if spec.is_indirect else id(spec)
        if ident not in found:
            found[ident] = (spec, [], key)
            order.append(ident)
        if place not in found[ident][1]:
            found[ident][1].append(place)

    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/EmbeddedFiles" in names:
        for key, spec in pikepdf.NameTree(names.EmbeddedFiles).items():
            add(spec, "EmbeddedFiles", str(key))
    for item in _array(root.get("/AF")):
        add(item, "AF")
    for number, page in enumerate(pdf.pages, start=1):
        if number > MAX_PAGES_SCANNED:
            break
        for item in _array(page.obj.get("/AF")):
            add(item, f"page {number} AF")
        for annot in _array(page.obj.get("/Annots")):
            if isinstance(annot, pikepdf.Dictionary) and annot.get("/Subtype") == \
                    pikepdf.Name.FileAttachment:
                add(annot.get("/FS"), f"page {number} annotation")
    for ident in order:
        yield found[ident]


def _array(value: object) -> list[object]:
    return list(value) if isinstance(value, pikepdf.Array) else []


def _describe(spec: pikepdf.Dictionary, places: list[str],
              key: str | None) -> tuple[EmbeddedFile, bytes | None]:
    name = _string(spec.get("/UF")) or _string(spec.get("/F")) or key or "(unnamed)"
    relationship = spec.get("/AFRelationship")
    info = EmbeddedFile(
        name=name,
        af_relationship=str(relationship)[1:] if isinstance(relationship, pikepdf.Name) else None,
        mime_subtype=None, size=None, sha256=None,
        description=_string(spec.get("/Desc")), found_in=places)
    ef = spec.get("/EF")
    stream = None
    if isinstance(ef, pikepdf.Dictionary):
        stream = ef.get("/UF") if isinstance(ef.get("/UF"), pikepdf.Stream) else ef.get("/F")
    if not isinstance(stream, pikepdf.Stream):
        info.error = "file specification has no embedded file stream (/EF)"
        return info, None
    subtype = stream.get("/Subtype")
    if isinstance(subtype, pikepdf.Name):
        info.mime_subtype = str(subtype)[1:]
    params = stream.get("/Params")
    expected_md5: bytes | None = None
    if isinstance(params, pikepdf.Dictionary):
        size = params.get("/Size")
        if isinstance(size, int):
            info.declared_size = int(size)
        checksum = params.get("/CheckSum")
        if isinstance(checksum, pikepdf.String):
            expected_md5 = bytes(checksum)
    try:
        data = stream.read_bytes()
    except pikepdf.PdfError as exc:
        info.error = f"embedded file stream cannot be decoded: {exc}"
        return info, None
    info.size = len(data)
    info.sha256 = hashlib.sha256(data).hexdigest()
    if expected_md5 is not None:
        info.checksum_ok = hashlib.md5(data, usedforsecurity=False).digest() == expected_md5
    return info, data


def _string(value: object) -> str | None:
    if isinstance(value, pikepdf.String):
        text = str(value).strip()
        return text or None
    return None


def _looks_like_xml(info: EmbeddedFile, data: bytes | None) -> bool:
    if data is None:
        return False
    if info.mime_subtype and "xml" in info.mime_subtype.lower():
        return True
    if info.name.lower().endswith(".xml"):
        return True
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<?xml") or head.startswith(b"<")
