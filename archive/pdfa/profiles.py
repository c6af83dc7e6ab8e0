"""The checklist: which rules each flavour's veraPDF validation profile contains.

``data/verapdf_profiles.json`` lists, per flavour, every rule of the veraPDF validation
profile (ISO 19005 part, clause, test number, the object type it applies to and its
description). It is derived from veraPDF's validation profiles, (c) veraPDF consortium,
CC BY 4.0 (https://github.com/veraPDF/veraPDF-validation-profiles); only the rule
identities and descriptions are kept, not the conditions. Regenerate it with
``python -m archive.pdfa.profiles <profiles folder>``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from archive.pdfa.flavours import FLAVOURS

_DATA = "verapdf_profiles.json"
_NS = "{http://www.verapdf.org/ValidationProfile}"


@dataclass(frozen=True)
class ProfileRule:
    part: int
    clause: str
    test: int
    object: str
    description: str

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.part, self.clause, self.test)

    @property
    def label(self) -> str:
        return f"{self.clause}-{self.test}"


@cache
def _load() -> dict[str, object]:
    text = resources.files("archive.pdfa").joinpath("data", _DATA).read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def profile(flavour: str) -> tuple[ProfileRule, ...]:
    """Rules of the veraPDF profile for ``flavour``, in profile order."""
    data = _load()
    rules: dict[str, dict[str, str]] = data["rules"]  # type: ignore[assignment]
    keys: list[str] = data["flavours"][flavour]  # type: ignore[index]
    out = []
    for key in keys:
        part, rest = key.split(":", 1)
        clause, test = rest.rsplit("-", 1)
        info = rules[key]
        out.append(ProfileRule(int(part), clause, int(test), info["object"], info["description"]))
    return tuple(out)


def description(part: int, clause: str, test: int) -> str | None:
    info = _load()["rules"].get(f"{part}:{clause}-{test}")  # type: ignore[attr-defined]
    return info["description"] if info else None


def build(folder: Path) -> dict[str, object]:
    """Read veraPDF ``PDFA-*.xml`` profiles into the compact JSON form."""
    from lxml import etree  # only needed when regenerating

    rules: dict[str, dict[str, str]] = {}
    flavours: dict[str, list[str]] = {}
    for flavour in FLAVOURS:
        tree = etree.parse(str(folder / f"PDFA-{flavour.upper()}.xml"))
        keys = []
        for node in tree.iter(f"{_NS}rule"):
            ident = node.find(f"{_NS}id")
            part = ident.get("specification").rsplit("_", 1)[1]
            key = f"{part}:{ident.get('clause')}-{ident.get('testNumber')}"
            desc = " ".join((node.findtext(f"{_NS}description") or "").split())
            rules.setdefault(key, {"object": node.get("object"), "description": desc})
            keys.append(key)
        flavours[flavour] = keys
    commit = (folder / "COMMIT").read_text().strip() if (folder / "COMMIT").exists() else ""
    return {
        "source": "https://github.com/veraPDF/veraPDF-validation-profiles",
        "commit": commit,
        "licence": "CC BY 4.0, (c) veraPDF consortium",
        "flavours": flavours,
        "rules": rules,
    }


if __name__ == "__main__":  # pragma: no cover - maintenance helper
    target = Path(__file__).with_name("data") / _DATA
    target.write_text(json.dumps(build(Path(sys.argv[1])), indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    print(f"wrote {target}")
