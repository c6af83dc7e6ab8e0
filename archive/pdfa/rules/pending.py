"""Why some profile rules have no implementation here: they are font rules, which live in
``archive/pdfa/rules/fonts.py`` (written separately, on the same registry). Once a rule is
registered there, its entry below is simply no longer shown by ``archive pdfa rules``."""

from __future__ import annotations

from archive.pdfa.profiles import profile
from archive.pdfa.registry import NOT_IMPLEMENTED

FONT_OBJECTS = {"PDFont", "PDSimpleFont", "PDType0Font", "PDCIDFont", "PDType1Font",
                "PDTrueTypeFont", "PDCMap", "PDReferencedCMap", "CMapFile", "Glyph",
                "TrueTypeFontProgram"}
FONT_REASON = "font rule, to come in archive/pdfa/rules/fonts.py (font program checks)"

for _flavour in ("1a", "1b", "2a", "2b", "2u", "3a", "3b", "3u", "4", "4e", "4f"):
    for _r in profile(_flavour):
        if _r.object in FONT_OBJECTS:
            NOT_IMPLEMENTED.setdefault(_r.key, FONT_REASON)
