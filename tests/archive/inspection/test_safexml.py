"""Hostile XML ends in a clean, specific refusal, quickly and without touching disk or net."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.inspection.safexml import XMLLimits, XMLRejected, parse_untrusted

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
               for i in range(1, 10))
    + b"]><lolz>&lol9;</lolz>"
)


def rejected(data: bytes, limits: XMLLimits | None = None) -> XMLRejected:
    with pytest.raises(XMLRejected) as caught:
        parse_untrusted(data, limits) if limits else parse_untrusted(data)
    return caught.value


def test_plain_document_parses_with_line_numbers() -> None:
    tree = parse_untrusted(b"<?xml version='1.0'?>\n<a>\n  <b>x</b>\n</a>")
    assert tree.getroot().find("b").sourceline == 3


def test_external_entity_is_refused_and_never_read() -> None:
    exc = rejected(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   b"<r>&x;</r>")
    assert exc.code == "entities"
    assert "root:" not in exc.message


def test_parameter_entity_is_refused() -> None:
    exc = rejected(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM '
                   b'"http://127.0.0.1:9/evil.dtd"> %p;]><r/>')
    assert exc.code in ("entities", "malformed")


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    exc = rejected(BILLION_LAUGHS)
    assert exc.code == "entities"
    assert time.monotonic() - started < 1.0


def test_external_dtd_is_refused() -> None:
    exc = rejected(b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>')
    assert exc.code == "external_dtd"


def test_bare_doctype_without_entities_is_tolerated() -> None:
    assert parse_untrusted(b"<!DOCTYPE r><r>ok</r>").getroot().text == "ok"


def test_deep_nesting_is_refused() -> None:
    exc = rejected(b"<a>" * 10_000 + b"</a>" * 10_000)
    assert exc.code == "too_deep"


def test_element_count_limit() -> None:
    exc = rejected(b"<r>" + b"<i/>" * 1000 + b"</r>", XMLLimits(max_elements=100))
    assert exc.code == "too_many_elements"


def test_size_limit_is_checked_before_parsing() -> None:
    data = b"<r>" + b"x" * (100 * 1024 * 1024) + b"</r>"  # 100 MB
    started = time.monotonic()
    exc = rejected(data)
    assert exc.code == "too_large"
    assert time.monotonic() - started < 0.5


def test_malformed_reports_line_and_column() -> None:
    exc = rejected(b"<a>\n<b>\n</a>")
    assert exc.code == "malformed"
    assert exc.line == 3


def test_empty_input_is_refused_as_empty() -> None:
    assert rejected(b"  \n").code == "empty"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_are_refused_cleanly(data: bytes) -> None:
    try:
        parse_untrusted(data)
    except XMLRejected as exc:
        assert exc.code in {"empty", "malformed", "entities", "external_dtd", "too_deep",
                            "too_many_elements"}


@pytest.mark.parametrize("prolog", [
    # The internal subset holds quoted "]>" and a comment with a stray quote: the prolog
    # scan must still find where the declaration ends.
    b'<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE r [<!-- it\'s -->'
    b'<!ENTITY x "]>">]>',
    b'\xef\xbb\xbf<!DOCTYPE r [\n  <!ENTITY x SYSTEM "file:///etc/passwd">\n]>',
])
def test_entities_are_refused_from_the_prolog_alone(prolog: bytes) -> None:
    # The body is not well-formed: only a refusal that looked at the prolog first says
    # "entities" (the body would otherwise be reported as malformed).
    assert rejected(prolog + b"<r>&x;<unclosed></r>").code == "entities"


@pytest.mark.parametrize("depth", [65, 300, 5_000])
def test_depth_is_refused_whichever_limit_is_reached_first(depth: int) -> None:
    # 65 passes libxml2's own limit (256) and meets ours; deeper meets libxml2's first.
    assert rejected(b"<a>" * depth + b"</a>" * depth).code == "too_deep"
