"""Streaming ``multipart/form-data`` reader for uploads.

Starlette's ``request.form()`` first writes the file to a temporary file and only then
hands it over, which costs a second pass over the bytes. Here the push parser of
python-multipart feeds the file part straight into a :class:`~archive.evidence.intake.Spool`
(which hashes while it spools) as the request body arrives: one pass, bounded memory.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from archive.errors import InvalidInput
from archive.evidence.intake import Spool

MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024
# RFC 2046 recommends at most 70 characters; the parser refuses more than 256.
MAX_BOUNDARY = 256


class MalformedMultipart(InvalidInput):
    """The request body is not well-formed multipart/form-data."""
    code = "malformed_multipart"


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    content_type: str | None = None
    spool: Spool | None = None


def boundary_of(content_type: str | None) -> bytes:
    if not content_type:
        raise MalformedMultipart("Content-Type multipart/form-data with a boundary is required")
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise MalformedMultipart("Content-Type must be multipart/form-data with a boundary")
    if len(boundary) > MAX_BOUNDARY:
        raise MalformedMultipart(f"the multipart boundary is longer than {MAX_BOUNDARY} "
                                 "characters")
    return boundary


async def read_upload(chunks: AsyncIterator[bytes], content_type: str | None,
                      make_spool: Callable[[], Spool]) -> UploadForm:
    """Parse the body; the part named ``file`` goes to ``make_spool()``, others are fields."""
    form = UploadForm()
    state: dict[str, object] = {}
    header_field = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    value = bytearray()

    def on_part_begin() -> None:
        headers.clear()
        value.clear()
        state.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        disposition, params = parse_options_header(headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise MalformedMultipart("a part without Content-Disposition: form-data; name=…")
        name = _decode(params[b"name"])
        state["name"] = name
        if name == "file":
            if form.spool is not None:
                raise InvalidInput("send exactly one file per upload", code="too_many_files")
            form.filename = _filename(params)
            ctype = headers.get(b"content-type")
            form.content_type = _decode(ctype)[:200] if ctype else None
            form.spool = make_spool()
            state["file"] = True
        elif len(form.fields) >= MAX_FIELDS:
            raise InvalidInput("too many form fields", code="too_many_fields")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.get("file"):
            assert form.spool is not None
            form.spool.write(memoryview(data)[start:end])
        else:
            value.extend(data[start:end])
            if len(value) > MAX_FIELD_BYTES:
                raise InvalidInput(f"form field {state.get('name')!r} is too long",
                                   code="field_too_long")

    def on_part_end() -> None:
        if not state.get("file") and "name" in state:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"form field {state['name']!r} is not UTF-8",
                                   code="invalid_encoding") from None
            if "\x00" in text:
                raise InvalidInput(f"form field {state['name']!r} contains a NUL character",
                                   code="invalid_text")
            form.fields[str(state["name"])] = text

    ended = False

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(boundary_of(content_type), {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data,
        "on_part_end": on_part_end, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_end": on_end,
    })
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        _discard(form)
        raise MalformedMultipart(f"malformed multipart body: {exc}") from None
    except BaseException:
        _discard(form)
        raise
    if not ended:
        _discard(form)
        raise MalformedMultipart("the multipart body ended before its closing boundary")
    if form.spool is None:
        raise InvalidInput([{"field": "file", "message": "a file part named 'file' is required"}],
                           code="missing_file")
    form.spool.finish()
    return form


def _discard(form: UploadForm) -> None:
    if form.spool is not None:
        form.spool.close()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _filename(params: dict[bytes, bytes]) -> str | None:
    extended = params.get(b"filename*")
    if extended:  # RFC 5987: charset'lang'percent-encoded
        charset, _, rest = _decode(extended).partition("'")
        _, _, encoded = rest.partition("'")
        try:
            return urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    raw = params.get(b"filename")
    return _decode(raw) if raw is not None else None
