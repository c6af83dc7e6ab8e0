"""Small PDF/A files made with pikepdf, valid by default, broken on request.

``create_pdfa(part=2, conformance="B", **overrides)`` returns the bytes of a one-page file
with an sRGB output intent, XMP metadata with the PDF/A identification and a filled
rectangle in DeviceRGB. ``mutate`` edits the pikepdf document before saving; ``patch``
edits the saved bytes (same length, so the xref stays right).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pikepdf

XMP_TEMPLATE = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    {ident}>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Receipt 2568/001</rdf:li></rdf:Alt></dc:title>
   <xmp:CreateDate>2025-01-02T10:00:00+07:00</xmp:CreateDate>
   {extra}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def icc_profile(colour_space: bytes = b"RGB ", version: int = 0x02100000,
                device_class: bytes = b"mntr") -> bytes:
    """A minimal ICC profile: a valid 128-byte header and an empty tag table."""
    header = bytearray(128)
    struct.pack_into(">I", header, 0, 132)
    struct.pack_into(">I", header, 8, version)
    header[12:16] = device_class
    header[16:20] = colour_space
    header[20:24] = b"XYZ "
    header[36:40] = b"acsp"
    return bytes(header) + b"\x00\x00\x00\x00"


def xmp(part: int, conformance: str | None, extra: str = "", rev: bool = True) -> bytes:
    ident = f'pdfaid:part="{part}"'
    if conformance:
        ident += f' pdfaid:conformance="{conformance}"'
    if part == 4 and rev:
        ident += ' pdfaid:rev="2020"'
    return XMP_TEMPLATE.format(ident=ident, extra=extra).encode("utf-8")


def create_pdfa(part: int = 2, conformance: str | None = "B", *,
                content: bytes = b"0 0 1 rg 10 10 50 50 re f",
                output_intent: bytes | None = b"RGB ",
                xmp_extra: str = "",
                mutate: Callable[[pikepdf.Pdf], None] | None = None,
                patch: Callable[[bytes], bytes] | None = None,
                encryption: pikepdf.Encryption | None = None) -> bytes:
    if part == 4 and conformance == "B":
        conformance = None
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0].obj
    page.Contents = pdf.make_stream(content)
    page.Resources = pikepdf.Dictionary()
    if output_intent is not None:
        n = {b"RGB ": 3, b"CMYK": 4, b"GRAY": 1}[output_intent]
        profile = pdf.make_stream(icc_profile(output_intent), N=n)
        pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
            DestOutputProfile=profile)])
    pdf.Root.Metadata = pdf.make_stream(xmp(part, conformance, xmp_extra),
                                        Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    if mutate is not None:
        mutate(pdf)
    buf = io.BytesIO()
    version = {1: "1.4", 2: "1.7", 3: "1.7", 4: "2.0"}[part]
    pdf.save(buf, fix_metadata_version=False, force_version=version,
             object_stream_mode=pikepdf.ObjectStreamMode.disable,
             encryption=encryption or False)
    data = buf.getvalue()
    return patch(data) if patch is not None else data


def same_length(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """A ``patch`` that swaps ``old`` for ``new`` (padded with spaces) once."""
    assert len(new) <= len(old)

    def apply(data: bytes) -> bytes:
        assert old in data, old
        return data.replace(old, new.ljust(len(old)), 1)

    return apply
