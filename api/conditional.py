"""Conditional requests for corrections of shared records (evidence, vouchers, profiles).

A ``GET`` sends the record's version as a strong entity tag; a correction names the version
it was made against in ``If-Match``. Without it two people correcting the same record would
silently overwrite each other, so corrections require it (RFC 6585: 428) and a stale one is
refused (412, raised by the services); ``*`` overwrites on purpose.
"""

from __future__ import annotations

import re

from archive.errors import InvalidInput, PreconditionRequired

_VERSION = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


def version_etag(version: int) -> str:
    """A record's metadata version as the strong entity tag ``If-Match`` carries back."""
    return f'"{version}"'


def expected_version(if_match: str | None, *, required: bool = True,
                     what: str = "record") -> int | None:
    """The version an ``If-Match`` names; ``None`` for ``*`` (any version, on purpose) and,
    when not ``required``, for no header at all."""
    if if_match is None or not if_match.strip():
        if not required:
            return None
        raise PreconditionRequired(f"send If-Match with the ETag of the {what} you read "
                                   '(ETag: "3"), or * on purpose')
    if if_match.strip() == "*":
        return None
    digits = _VERSION.fullmatch(if_match)
    if not digits:
        raise InvalidInput(f'If-Match must carry the {what} version, e.g. "3"')
    return int(digits.group(1))
