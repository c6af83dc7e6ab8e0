"""Streaming ``multipart/form-data`` reader for uploads.

Starlette's ``request.form()`` first writes the file to a temporary file and only then
hands it over, which costs a second pass over the bytes. Here the push parser of
python-multipart feeds the file part straight into a :class:`~archive.evidence.intake.Spool`
(which hashes while it spools) as the request body arrives: one pass, bounded memory.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from archive.errors import ArchiveError, InvalidInput, PayloadTooLarge
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


class _Parts:
    """What to do with each part: a file part named ``file`` (its headers → a sink with a
    ``write`` method), and every other part (a field, at most ``MAX_FIELD_BYTES``)."""

    def file(self, filename: str | None, content_type: str | None) -> Any:
        raise NotImplementedError

    def field(self, name: str, text: str) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        """The body was refused: let go of whatever was spooled."""


async def _parse(chunks: AsyncIterator[bytes], content_type: str | None, parts: _Parts) -> None:
    state: dict[str, Any] = {}
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
            ctype = headers.get(b"content-type")
            state["sink"] = parts.file(_filename(params), _decode(ctype)[:200] if ctype else None)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        sink = state.get("sink")
        if sink is not None:
            sink.write(memoryview(data)[start:end])
        else:
            value.extend(data[start:end])
            if len(value) > MAX_FIELD_BYTES:
                raise InvalidInput(f"form field {state.get('name')!r} is too long",
                                   code="field_too_long")

    def on_part_end() -> None:
        if "sink" not in state and "name" in state:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"form field {state['name']!r} is not UTF-8",
                                   code="invalid_encoding") from None
            if "\x00" in text:
                raise InvalidInput(f"form field {state['name']!r} contains a NUL character",
                                   code="invalid_text")
            parts.field(str(state["name"]), text)

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
        parts.discard()
        raise MalformedMultipart(f"malformed multipart body: {exc}") from None
    except BaseException:
        parts.discard()
        raise
    if not ended:
        parts.discard()
        raise MalformedMultipart("the multipart body ended before its closing boundary")


class _OneFile(_Parts):
    def __init__(self, make_spool: Callable[[], Spool]) -> None:
        self.form = UploadForm()
        self.make_spool = make_spool

    def file(self, filename: str | None, content_type: str | None) -> Spool:
        if self.form.spool is not None:
            raise InvalidInput("send exactly one file per upload", code="too_many_files")
        self.form.filename, self.form.content_type = filename, content_type
        self.form.spool = self.make_spool()
        return self.form.spool

    def field(self, name: str, text: str) -> None:
        if len(self.form.fields) >= MAX_FIELDS:
            raise InvalidInput("too many form fields", code="too_many_fields")
        self.form.fields[name] = text

    def discard(self) -> None:
        _discard(self.form)


async def read_upload(chunks: AsyncIterator[bytes], content_type: str | None,
                      make_spool: Callable[[], Spool]) -> UploadForm:
    """Parse the body; the part named ``file`` goes to ``make_spool()``, others are fields."""
    parts = _OneFile(make_spool)
    await _parse(chunks, content_type, parts)
    form = parts.form
    if form.spool is None:
        raise InvalidInput([{"field": "file", "message": "a file part named 'file' is required"}],
                           code="missing_file")
    form.spool.finish()
    return form


@dataclass
class BatchPart:
    """One file of a batch upload with the ``meta`` fields sent just before it. ``error``:
    this file alone was refused while it arrived (too large); its bytes were dropped."""

    index: int
    fields: dict[str, str]
    filename: str | None
    content_type: str | None
    spool: Spool | None
    error: ArchiveError | None = None

    def write(self, chunk: bytes | memoryview) -> None:
        if self.spool is None:
            return
        try:
            self.spool.write(chunk)
        except PayloadTooLarge as exc:
            self.error = exc
            self.spool.close()
            self.spool = None


class _ManyFiles(_Parts):
    def __init__(self, make_spool: Callable[[int], Spool], max_items: int) -> None:
        self.items: list[BatchPart] = []
        self.make_spool = make_spool
        self.max_items = max_items
        self.meta: dict[str, str] | None = None

    def file(self, filename: str | None, content_type: str | None) -> BatchPart:
        if len(self.items) >= self.max_items:
            raise PayloadTooLarge(f"at most {self.max_items} files per batch",
                                  code="too_many_items")
        if self.meta is None:
            raise InvalidInput(f"file {len(self.items) + 1} ({filename!r}) has no 'meta' part "
                               "before it", code="missing_meta")
        item = BatchPart(len(self.items), self.meta, filename, content_type,
                         self.make_spool(len(self.items)))
        self.meta = None
        self.items.append(item)
        return item

    def field(self, name: str, text: str) -> None:
        if name != "meta":
            raise InvalidInput(f"unexpected form field {name!r}: a batch is 'meta' and 'file' "
                               "parts, in pairs", code="unexpected_field")
        if self.meta is not None:
            raise InvalidInput("two 'meta' parts without a file between them",
                               code="missing_file")
        try:
            meta = json.loads(text)
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or not all(isinstance(v, str | int | float | bool)
                                                 or v is None for v in meta.values()):
            raise InvalidInput(f"the 'meta' part of file {len(self.items) + 1} is not a JSON "
                               "object of field values", code="invalid_meta")
        self.meta = {str(k): v if isinstance(v, str) else json.dumps(v)
                     for k, v in meta.items() if v is not None}

    def discard(self) -> None:
        for item in self.items:
            if item.spool is not None:
                item.spool.close()


async def read_batch(chunks: AsyncIterator[bytes], content_type: str | None,
                     make_spool: Callable[[int], Spool], *, max_items: int) -> list[BatchPart]:
    """Parse a batch body: parts ``meta`` (a JSON object of the single upload's form fields)
    and ``file``, in pairs, each file spooled by ``make_spool(index)`` as it arrives."""
    parts = _ManyFiles(make_spool, max_items)
    await _parse(chunks, content_type, parts)
    if parts.meta is not None:
        parts.discard()
        raise InvalidInput("the last 'meta' part has no file after it", code="missing_file")
    if not parts.items:
        raise InvalidInput([{"field": "file", "message": "at least one file is required"}],
                           code="missing_file")
    for item in parts.items:
        if item.spool is not None:
            item.spool.finish()
    return parts.items


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
