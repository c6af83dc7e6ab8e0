"""Fold the old English→Thai dictionaries of ``api/web/i18n.py`` into the gettext catalog.

Until issue 16 the pages' Thai lived in Python: ``TH`` (English → Thai) and ``LABELS``
(kind → code → (Thai, English)). They now live in
``api/web/locale/th/LC_MESSAGES/messages.po``. This script moved them there once, and
folds in strings that other branches still add the old way:

    # a whole old-style i18n.py (e.g. another branch's version): every TH entry and label
    python scripts/i18n_dict_to_po.py --module path/to/old/i18n.py

    # a fragment: the lines a branch added to the TH dict ("English": "Thai",) …
    python scripts/i18n_dict_to_po.py --fragment added.txt
    # … or to LABELS["KIND"] ("code": ("Thai", "English"),)
    python scripts/i18n_dict_to_po.py --fragment added.txt --kind job_kind

Page strings become ``msgid`` English / ``msgstr`` Thai; a label becomes ``msgctxt`` KIND,
``msgid`` its English name, ``msgstr`` its Thai (and its English name is printed, to be
added to ``LABELS`` in ``api/web/i18n.py``, which keeps only the English). Existing entries
are overwritten with the new Thai; the script reports every change. It only reads Python
literals (``ast.literal_eval``), never runs the file.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "api" / "web" / "locale" / "th" / "LC_MESSAGES" / "messages.po"

Entry = tuple[str | None, str, str]           # (msgctxt, msgid, msgstr)


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _labels(kind: str, value: object, out: list[Entry], english: dict[str, dict[str, str]]
            ) -> None:
    if not isinstance(value, dict):
        return
    for code, names in value.items():
        if (isinstance(names, tuple) and len(names) == 2
                and all(isinstance(n, str) for n in names)):
            thai, eng = names
            out.append((kind, eng, thai))
            english.setdefault(kind, {})[str(code)] = eng


def from_module(path: Path) -> tuple[list[Entry], dict[str, dict[str, str]]]:
    """TH entries and labels of an old-style i18n.py, in file order."""
    entries: list[Entry] = []
    english: dict[str, dict[str, str]] = {}
    for stmt in ast.parse(path.read_text()).body:
        target, value = None, None
        if isinstance(stmt, ast.AnnAssign | ast.Assign):
            node = stmt.target if isinstance(stmt, ast.AnnAssign) else stmt.targets[0]
            target, value = ast.unparse(node), stmt.value
        elif (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
              and isinstance(stmt.value.func, ast.Attribute)
              and stmt.value.func.attr == "update" and stmt.value.args):
            target, value = ast.unparse(stmt.value.func.value), stmt.value.args[0]
        if target is None or not isinstance(value, ast.Dict):
            continue
        if target == "TH":
            for k, v in zip(value.keys, value.values, strict=True):
                key, text = (_literal(k) if k else None), _literal(v)
                if isinstance(key, str) and isinstance(text, str):
                    entries.append((None, key, text))
        elif target == "LABELS":
            for k, v in zip(value.keys, value.values, strict=True):
                kind = _literal(k) if k else None
                if isinstance(kind, str):
                    _labels(kind, _literal(v), entries, english)
        elif target.startswith("LABELS["):
            kind = _literal(ast.parse(target, mode="eval").body.slice)  # type: ignore[attr-defined]
            if isinstance(kind, str):
                _labels(kind, _literal(value), entries, english)
    return entries, english


def from_fragment(text: str, kind: str | None) -> tuple[list[Entry], dict[str, dict[str, str]]]:
    """Dict entries as a branch added them (lines of ``"English": "Thai",`` or, with
    ``kind``, ``"code": ("Thai", "English"),``)."""
    value = ast.literal_eval("{" + text + "\n}")
    if kind:
        entries: list[Entry] = []
        english: dict[str, dict[str, str]] = {}
        _labels(kind, value, entries, english)
        return entries, english
    return [(None, k, v) for k, v in value.items()], {}


def merge(entries: list[Entry], po: Path = PO) -> list[str]:
    """Add or update ``entries`` in the catalog; what changed, one line each."""
    if po.exists():
        with po.open("rb") as fh:
            cat = read_po(fh)
    else:
        cat = Catalog(locale="th", project="Evidence Archive", domain="messages",
                      copyright_holder="Evidence Archive", fuzzy=False)
    changes = []
    for ctx, msgid, msgstr in entries:
        old = cat.get(msgid, context=ctx)
        if old is not None and old.string == msgstr:
            continue
        changes.append(f"{'updated' if old is not None else 'added'}: "
                       f"{ctx + ' | ' if ctx else ''}{msgid!r} → {msgstr!r}")
        if old is not None:
            old.string = msgstr           # Catalog.add keeps an existing entry's string
        else:
            cat.add(msgid, msgstr, context=ctx)
    cat.fuzzy = False
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fh:
        write_po(fh, cat, width=100, omit_header=False)
    return changes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--module", type=Path, help="an old-style api/web/i18n.py")
    src.add_argument("--fragment", type=Path, help="dict entries a branch added")
    ap.add_argument("--kind", help="with --fragment: the LABELS kind the entries belong to")
    ap.add_argument("--po", type=Path, default=PO)
    args = ap.parse_args(argv)
    if args.module:
        entries, english = from_module(args.module)
    else:
        entries, english = from_fragment(args.fragment.read_text(), args.kind)
    for change in merge(entries, args.po):
        print(change)
    for kind, names in english.items():
        print(f"# English names for LABELS[{kind!r}] in api/web/i18n.py:", file=sys.stderr)
        for code, name in names.items():
            print(f"    {code!r}: {name!r},", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
