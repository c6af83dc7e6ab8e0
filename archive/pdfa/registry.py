"""The rule table: every PDF/A check is one small function registered here.

The report, the docs and the coverage table (``archive pdfa rules``) all come from this
one registry, the way veraPDF validation profiles list one rule per clause and test.

How to add a rule
-----------------

1. Pick the module for its family under ``archive/pdfa/rules/`` (``fonts.py`` for
   clause 6.3.x of part 1 and 6.2.11.x / 6.2.10.x of parts 2-4, ``colour.py`` for
   colour spaces and ICC profiles, ``graphics.py`` for images and transparency, ...).
   Every module in ``archive/pdfa/rules/`` is imported automatically, so a new module
   needs no registration elsewhere.
2. Write a function that takes the shared :class:`~archive.pdfa.context.DocContext` and
   yields one :func:`issue` per problem found (nothing when the file passes)::

       @rule("1:6.1.3-2", "2,3:6.1.3-2", "4:6.1.3-2")
       def no_encryption(ctx: DocContext) -> Issues:
           if "/Encrypt" in ctx.trailer:
               yield issue(message("pdfa.file_no_encryption", "The file is encrypted "
                                   "(/Encrypt in the trailer); PDF/A forbids encryption. "
                                   "Save an unencrypted copy."),
                           obj=ctx.trailer.get("/Encrypt"))

   The text is a :func:`archive.messages.message`: a code (``pdfa.<family>_<what>``), the
   English template and its parameters by name (lists as ``Items``, PDF names and numbers
   as parameters, never pieces of the template; one message per variant of a sentence).
   Add its Thai to ``archive/locale/th/LC_MESSAGES/archive.po`` (``tests/web/test_i18n.py``
   fails until every message has it); the record page shows it in Thai.

   Each id is ``<flavours>:<clause>-<test>`` exactly as in the veraPDF profile, where
   ``<flavours>`` is a comma-separated list of parts (``2`` = 2a, 2b and 2u) and/or single
   flavours (``2a``; ``=4`` is plain PDF/A-4 alone, as ``4`` means the whole part). One
   function may carry the ids of several parts when the meaning is the same; read
   ``ctx.part`` / ``ctx.flavour`` for what differs between them.
3. Take everything from ``ctx`` (pages, used resources, parsed content streams, the XMP,
   fonts and where they are used): it is computed once per file and shared by all rules,
   so a rule never re-walks the document. Rules must not modify the document.
4. Messages say what is wrong and what to do, in plain words. ``obj`` (a pikepdf object
   or an object number) and ``page`` (0-based index; the report shows it 1-based) say
   where.
5. Add a fixture test in ``tests/archive/pdfa/`` that makes the rule fire and one that
   does not.

A rule that raises is reported as a failure of its clause ("could not be checked"), so a
broken file never passes by accident; guard against malformed objects inside the rule
when a clean pass is the right answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from archive.pdfa.flavours import FLAVOURS, PART_FLAVOURS, part_of
from archive.pdfa.profiles import description as profile_description
from archive.pdfa.profiles import profile

if TYPE_CHECKING:  # pragma: no cover
    from archive.pdfa.context import DocContext


class Issue(NamedTuple):
    """One problem found by a rule: a message and where (object number, 0-based page)."""

    message: str
    obj: int | None = None
    page: int | None = None


Issues = Iterator[Issue]
CheckFn = Callable[["DocContext"], Iterable[Issue]]


def objnum(obj: Any) -> int | None:
    """Object number of a pikepdf object (None for direct objects) or an int as given."""
    if obj is None:
        return None
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    try:
        num = obj.objgen[0]
    except Exception:  # noqa: BLE001 - scalars and foreign types have no object number
        return None
    return num or None


def issue(message: str, obj: Any = None, page: int | None = None) -> Issue:
    return Issue(message, objnum(obj), page)


@dataclass(frozen=True)
class Rule:
    """A registered check for one flavour-set, clause and test number."""

    flavours: frozenset[str]
    part: int
    clause: str
    test: int
    check: CheckFn
    family: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.clause}-{self.test}"

    @property
    def name(self) -> str:
        return getattr(self.check, "__name__", "?")


# (flavour, part, clause, test) -> Rule
_RULES: dict[tuple[str, int, str, int], Rule] = {}


def _parse_id(spec: str) -> tuple[frozenset[str], int, str, int]:
    try:
        who, ident = spec.split(":", 1)
        clause, test = ident.rsplit("-", 1)
        flavours: set[str] = set()
        for token in who.split(","):
            token = token.strip().lower()
            if token.startswith("=") and token[1:] in FLAVOURS:
                flavours.add(token[1:])
            elif token.isdigit():
                flavours.update(PART_FLAVOURS[int(token)])
            elif token in FLAVOURS:
                flavours.add(token)
            else:
                raise ValueError(token)
        parts = {part_of(f) for f in flavours}
    except (ValueError, KeyError) as exc:
        raise ValueError(f"bad rule id {spec!r}: expected '<parts or flavours>:<clause>-<test>'"
                         ) from exc
    # Parts 2 and 3 share clause numbering, so "2,3:6.1.3-2" is one id for both; the
    # reported part is each flavour's own part.
    return frozenset(flavours), min(parts), clause, int(test)


def rule(*ids: str, description: str | None = None) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function under each ``<flavours>:<clause>-<test>`` id."""

    def register(fn: CheckFn) -> CheckFn:
        family = fn.__module__.rsplit(".", 1)[-1]
        for spec in ids:
            flavours, _, clause, test = _parse_id(spec)
            for flavour in flavours:
                part = part_of(flavour)
                key = (flavour, part, clause, test)
                if key in _RULES:
                    other = _RULES[key]
                    raise ValueError(f"{flavour} {clause}-{test} registered twice: "
                                     f"{other.family}.{other.name} and {family}.{fn.__name__}")
                desc = (description or profile_description(part, clause, test)
                        or (fn.__doc__ or "").strip().split("\n")[0])
                _RULES[key] = Rule(frozenset({flavour}), part, clause, test, fn, family, desc)
        return fn

    return register


_ORDERED: dict[str, tuple[int, list[Rule]]] = {}


def rules_for(flavour: str) -> list[Rule]:
    """Registered rules for ``flavour``, in the order of the veraPDF profile, extras last."""
    _ensure_loaded()
    cached = _ORDERED.get(flavour)
    if cached is not None and cached[0] == len(_RULES):
        return cached[1]
    mine = {(p, c, t): r for (f, p, c, t), r in _RULES.items() if f == flavour}
    ordered = []
    for prof in profile(flavour):
        found = mine.pop(prof.key, None)
        if found is not None:
            ordered.append(found)
    ordered.extend(sorted(mine.values(), key=lambda r: (r.clause, r.test)))
    _ORDERED[flavour] = (len(_RULES), ordered)
    return ordered


def all_rules() -> list[Rule]:
    _ensure_loaded()
    return list(_RULES.values())


@dataclass(frozen=True)
class Coverage:
    flavour: str
    total: int
    implemented: list[tuple[str, str]]  # (label, family)
    missing: list[tuple[str, str, str]]  # (label, description, reason)

    @property
    def ratio(self) -> float:
        return len(self.implemented) / self.total if self.total else 1.0


# Why a profile rule has no implementation (yet); keyed by (part, clause, test).
NOT_IMPLEMENTED: dict[tuple[int, str, int], str] = {}


def not_implemented(part_ids: Iterable[str], reason: str) -> None:
    """Record why profile rules are left out, so the coverage table can say so."""
    for spec in part_ids:
        flavours, _, clause, test = _parse_id(spec)
        for part in {part_of(f) for f in flavours}:
            NOT_IMPLEMENTED[(part, clause, test)] = reason


def coverage(flavour: str) -> Coverage:
    _ensure_loaded()
    implemented, missing = [], []
    for prof in profile(flavour):
        found = _RULES.get((flavour, prof.part, prof.clause, prof.test))
        if found is not None:
            implemented.append((prof.label, found.family))
        else:
            reason = NOT_IMPLEMENTED.get(prof.key, "not implemented yet")
            missing.append((prof.label, prof.description, reason))
    return Coverage(flavour, len(profile(flavour)), implemented, missing)


def _ensure_loaded() -> None:
    import archive.pdfa.rules  # noqa: F401 - importing registers every rule module
