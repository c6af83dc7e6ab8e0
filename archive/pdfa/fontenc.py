"""The simple-font encodings of ISO 32000-1 Annex D (code -> glyph name) and glyph-name to
Unicode lookups through the Adobe Glyph List (via fontTools)."""

from __future__ import annotations

from functools import cache

from fontTools import agl
from fontTools.encodings.MacRoman import MacRoman
from fontTools.encodings.StandardEncoding import StandardEncoding

ENCODING_NAMES = ("/StandardEncoding", "/WinAnsiEncoding", "/MacRomanEncoding",
                  "/MacExpertEncoding")


@cache
def _standard() -> dict[int, str]:
    return {c: n for c, n in enumerate(StandardEncoding) if n != ".notdef"}


@cache
def _mac_roman() -> dict[int, str]:
    table = {c: n for c, n in enumerate(MacRoman) if n != ".notdef" and c >= 32}
    table.pop(127, None)
    # PDF's MacRomanEncoding adds the space at 0xCA, like Mac OS Roman.
    table[0xCA] = "space"
    return table


@cache
def _win_ansi() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(32, 256):
        if code == 127:
            continue
        try:
            ch = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        nm = agl.UV2AGL.get(ord(ch))
        if nm:
            table[code] = nm
    table[0xA0] = "space"
    table[0xAD] = "hyphen"
    # Annex D: unused codes above 040 map to the bullet in WinAnsiEncoding.
    for code in (0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D):
        table[code] = "bullet"
    return table


# ISO 32000-1 Annex D.4, MacExpertEncoding (code, glyph name), in code order.
_MAC_EXPERT = """
20 space 21 exclamsmall 22 Hungarumlautsmall 23 centoldstyle 24 dollaroldstyle
25 dollarsuperior 26 ampersandsmall 27 Acutesmall 28 parenleftsuperior
29 parenrightsuperior 2A twodotenleader 2B onedotenleader 2C comma 2D hyphen 2E period
2F fraction 30 zerooldstyle 31 oneoldstyle 32 twooldstyle 33 threeoldstyle 34 fouroldstyle
35 fiveoldstyle 36 sixoldstyle 37 sevenoldstyle 38 eightoldstyle 39 nineoldstyle 3A colon
3B semicolon 3D threequartersemdash 3F questionsmall 44 Ethsmall 47 onequarter 48 onehalf
49 threequarters 4A oneeighth 4B threeeighths 4C fiveeighths 4D seveneighths 4E onethird
4F twothirds 56 ff 57 fi 58 fl 59 ffi 5A ffl 5B parenleftinferior 5D parenrightinferior
5E Circumflexsmall 5F hypheninferior 60 Gravesmall 61 Asmall 62 Bsmall 63 Csmall 64 Dsmall
65 Esmall 66 Fsmall 67 Gsmall 68 Hsmall 69 Ismall 6A Jsmall 6B Ksmall 6C Lsmall 6D Msmall
6E Nsmall 6F Osmall 70 Psmall 71 Qsmall 72 Rsmall 73 Ssmall 74 Tsmall 75 Usmall 76 Vsmall
77 Wsmall 78 Xsmall 79 Ysmall 7A Zsmall 7B colonmonetary 7C onefitted 7D rupiah
7E Tildesmall 81 asuperior 82 centsuperior 87 Aacutesmall 88 Agravesmall
89 Acircumflexsmall 8A Adieresissmall 8B Atildesmall 8C Aringsmall 8D Ccedillasmall
8E Eacutesmall 8F Egravesmall 90 Ecircumflexsmall 91 Edieresissmall 92 Iacutesmall
93 Igravesmall 94 Icircumflexsmall 95 Idieresissmall 96 Ntildesmall 97 Oacutesmall
98 Ogravesmall 99 Ocircumflexsmall 9A Odieresissmall 9B Otildesmall 9C Uacutesmall
9D Ugravesmall 9E Ucircumflexsmall 9F Udieresissmall A1 eightsuperior A2 fourinferior
A3 threeinferior A4 sixinferior A5 eightinferior A6 seveninferior A7 Scaronsmall
A9 centinferior AA twoinferior AC Dieresissmall AE Caronsmall AF osuperior B0 fiveinferior
B2 commainferior B3 periodinferior B4 Yacutesmall B6 dollarinferior B9 Thornsmall
BB nineinferior BC zeroinferior BD Zcaronsmall BE AEsmall BF Oslashsmall
C0 questiondownsmall C1 oneinferior C2 Lslashsmall C9 Cedillasmall CF OEsmall D0 figuredash
D1 hyphensuperior D6 exclamdownsmall D8 Ydieresissmall DA onesuperior DB twosuperior
DC threesuperior DD foursuperior DE fivesuperior DF sixsuperior E0 sevensuperior
E1 ninesuperior E2 zerosuperior E4 esuperior E5 rsuperior E6 tsuperior E9 isuperior
EA ssuperior EB dsuperior F1 lsuperior F2 Ogoneksmall F3 Brevesmall F4 Macronsmall
F5 bsuperior F6 nsuperior F7 msuperior F8 commasuperior F9 periodsuperior
FA Dotaccentsmall FB Ringsmall
"""


@cache
def _mac_expert() -> dict[int, str]:
    words = _MAC_EXPERT.split()
    return {int(words[i], 16): words[i + 1] for i in range(0, len(words), 2)}


def base_encoding(name: str | None) -> dict[int, str] | None:
    """The code -> glyph name table of a predefined encoding (``/WinAnsiEncoding``...)."""
    if name == "/StandardEncoding":
        return _standard()
    if name == "/WinAnsiEncoding":
        return _win_ansi()
    if name == "/MacRomanEncoding":
        return _mac_roman()
    if name == "/MacExpertEncoding":
        return _mac_expert()
    return None


@cache
def mac_roman_code(glyph_name: str) -> int | None:
    """The Mac Roman code of a glyph name (for TrueType (1,0) cmap lookups)."""
    for code, nm in _mac_roman().items():
        if nm == glyph_name:
            return code
    return None


def in_agl(glyph_name: str) -> bool:
    """Whether a glyph name is listed in the Adobe Glyph List (or is a uniXXXX/uXXXX name)."""
    return glyph_name in agl.LEGACY_AGL2UV or glyph_name in agl.AGL2UV or bool(
        _uni_name(glyph_name))


def _uni_name(glyph_name: str) -> str:
    if glyph_name.startswith(("uni", "u")) and len(glyph_name) >= 5:
        return agl.toUnicode(glyph_name)
    return ""


def name_to_unicode(glyph_name: str | None) -> str | None:
    """Unicode text for a glyph name by the AGL rules, or None when it has none."""
    if not glyph_name or glyph_name == ".notdef":
        return None
    text = agl.toUnicode(glyph_name)
    return text or None
