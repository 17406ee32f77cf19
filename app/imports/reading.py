"""Reading an import body: size limit, spooling, strict UTF-8, CSV and JSON records.

The body is received chunk by chunk and spooled to a temporary file (in memory up to
``SPOOL_IN_MEMORY`` bytes, on disk beyond) while its size is checked and its SHA-256
computed: the digest is needed before anything is written (idempotency keys), and the
parsers then read the file back one line (CSV) or one record (JSON) at a time, so memory
stays bounded whatever the file size.
"""

import csv
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from starlette.datastructures import UploadFile as StarletteUpload
from starlette.requests import Request

from app.errors import PayloadTooLarge, ValidationFailed, field_error
from app.imports.vocabulary import ImportFormat

SPOOL_IN_MEMORY = 1024 * 1024
JSON_CHUNK = 64 * 1024

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_HINT = 'export the file as "CSV UTF-8" (Excel: Save as > CSV UTF-8; LibreOffice: UTF-8)'


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read (encoding, structure, header): 422, nothing
    is written whatever the mode."""

    code, title = "invalid-import-file", "Unreadable import file"

    def __init__(self, message: str, **where: Any) -> None:
        super().__init__([{**where, "message": message}], detail=message)


@dataclass
class Body:
    """A received request body, spooled; ``sha256`` is the hex digest of its bytes."""

    file: IO[bytes]
    size: int
    sha256: str

    def close(self) -> None:
        self.file.close()


async def receive(
    chunks: AsyncIterator[bytes], limit: int, declared_length: str | None = None
) -> Body:
    """Spool ``chunks``; a 413 as soon as the body (or its declared length) exceeds ``limit``."""
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        raise _too_large(limit)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Body(spool, size, digest.hexdigest())


FILE_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/csv": ImportFormat.CSV,
    "application/vnd.ms-excel": ImportFormat.CSV,  # what some browsers call a .csv
    "application/json": ImportFormat.JSON,
}
FILE_EXTENSIONS = {".csv": ImportFormat.CSV, ".json": ImportFormat.JSON}


async def multipart_file(request: Request, limit: int) -> tuple[ImportFormat | None, str, Body]:
    """The ``file`` part of a ``multipart/form-data`` upload (``curl -F file=@pool.csv``):
    its format (from its content type, else its name), its content type, its bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)  # before spooling it (the form's overhead is small)
    form = await request.form(max_files=1, max_fields=20)
    try:
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise field_error("file", "a multipart upload carries the file in a part named `file`")
        content_type = upload.content_type or ""
        file_format = FILE_TYPES.get(content_type.split(";")[0].strip().lower())
        if file_format is None:
            name = (upload.filename or "").lower()
            file_format = next(
                (f for ext, f in FILE_EXTENSIONS.items() if name.endswith(ext)), None
            )

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await upload.read(64 * 1024):
                yield chunk

        return file_format, content_type, await receive(chunks(), limit)
    finally:
        await form.close()


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file exceeds the import limit of {limit} bytes; split it into several imports"
    )


# --- CSV -------------------------------------------------------------------------------


def decoded_lines(stream: IO[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 byte stream (BOM dropped), decoded strictly one by one, so a
    decoding error names its line. ``\\n`` never occurs inside a multi-byte UTF-8
    sequence, so splitting the bytes on it first is safe."""
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            if raw.startswith(UTF16_BOMS):
                raise ImportFileError(f"the file is encoded in UTF-16; {UTF8_HINT}", line=1)
            raw = raw.removeprefix(UTF8_BOM)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02X} at byte "
                f"{exc.start + 1} of the line); {UTF8_HINT}",
                line=number,
            ) from exc


def sniff_separator(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas (French spreadsheet
    software), else ``,``."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


@dataclass
class CsvTable:
    """A CSV file opened for reading: its header and an iterator of its data rows, each
    with its row number as a spreadsheet shows it (the header is row 1)."""

    separator: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]] = field(repr=False)


def open_csv(stream: IO[bytes]) -> CsvTable:
    lines = decoded_lines(stream)
    first = ""
    skipped = 0
    for line in lines:
        if line.strip():
            first = line
            break
        skipped += 1
    if not first:
        raise ImportFileError("the file is empty: expected a header line and rows")
    separator = sniff_separator(first)

    def all_lines() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=separator, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(f"the header line is malformed: {exc}", line=skipped + 1) from exc
    return CsvTable(separator, header, _rows(reader, skipped))


def _rows(reader: Any, skipped: int) -> Iterator[tuple[int, list[str]]]:
    row = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num + skipped
            raise ImportFileError(
                f"malformed CSV at line {line}: {exc} (check the quotes of that line)",
                line=line,
            ) from exc
        row += 1
        yield row, cells


# --- JSON ------------------------------------------------------------------------------


def json_records(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """The elements of a top-level JSON array, parsed one at a time from the stream, each
    with its 1-based position."""
    decoder = json.JSONDecoder()
    text = _JsonText(stream)
    text.skip_space()
    if text.at_end():
        raise ImportFileError("the body is empty: expected a JSON list of records")
    if text.peek() != "[":
        raise ImportFileError("the body must be a JSON list of records", offset=text.offset())
    text.advance(1)
    position = 0
    while True:
        text.skip_space()
        if text.peek() == "]" and position == 0:
            text.advance(1)
            break
        position += 1
        start = text.offset()
        value, consumed = text.decode_value(decoder, position)
        _check_strings(value, position, start)
        text.advance(consumed)
        yield position, value
        text.skip_space()
        following = text.peek()
        if following == ",":
            text.advance(1)
            continue
        if following == "]":
            text.advance(1)
            break
        raise ImportFileError(
            f"malformed JSON after record {position}: expected ',' or ']'",
            offset=text.offset(),
        )
    text.skip_space()
    if not text.at_end():
        raise ImportFileError("unexpected data after the JSON list", offset=text.offset())


def _check_strings(value: Any, position: int, offset: int) -> None:
    """Refuse a record holding a lone surrogate (``"\\ud800"``): valid JSON, but not text
    that can be stored or sent back as UTF-8."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ImportFileError(
                    f"record {position} holds an unpaired UTF-16 surrogate escape "
                    "(such as \\ud800), which is not text",
                    record=position,
                    offset=offset,
                ) from None


class _JsonText:
    """A sliding window of decoded text over a UTF-8 byte stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        import codecs

        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._buffer = ""
        self._pos = 0
        self._consumed = 0  # characters dropped from the buffer so far
        self._eof = False
        self._bytes_read = 0
        self._first = True

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(JSON_CHUNK)
        start = self._bytes_read
        self._bytes_read += len(chunk)
        if self._first:
            self._first = False
            if chunk.startswith(UTF16_BOMS):
                raise ImportFileError("the body is encoded in UTF-16; send UTF-8", offset=0)
            chunk = chunk.removeprefix(UTF8_BOM)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"the body is not valid UTF-8 (around byte {start + max(exc.start, 0) + 1})",
                offset=start + max(exc.start, 0),
            ) from exc
        if not chunk:
            self._eof = True
        self._buffer = self._buffer[self._pos :] + text
        self._consumed += self._pos
        self._pos = 0
        return True

    def offset(self) -> int:
        """Character offset in the body of the current position."""
        return self._consumed + self._pos

    def at_end(self) -> bool:
        while self._pos >= len(self._buffer):
            if not self._fill():
                return True
        return False

    def peek(self) -> str:
        return "" if self.at_end() else self._buffer[self._pos]

    def advance(self, count: int) -> None:
        self._pos += count

    def skip_space(self) -> None:
        while not self.at_end():
            if self._buffer[self._pos] not in " \t\r\n":
                return
            self._pos += 1

    def decode_value(self, decoder: json.JSONDecoder, position: int) -> tuple[Any, int]:
        """The next JSON value (record ``position``) and its length; reads more text until
        it is complete."""
        while True:
            try:
                value, end = decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise ImportFileError(
                    f"malformed JSON in record {position}: {exc.msg}",
                    record=position,
                    offset=self._consumed + exc.pos,
                ) from exc
            except RecursionError:
                raise ImportFileError(
                    f"record {position} is nested too deeply (a record is an object of "
                    "fields, at most a few levels deep)",
                    record=position,
                    offset=self.offset(),
                ) from None
            except ValueError as exc:  # an integer of thousands of digits
                raise ImportFileError(
                    f"record {position} holds a number that cannot be read: {exc}",
                    record=position,
                    offset=self.offset(),
                ) from None
            if end >= len(self._buffer) and not self._eof and self._fill():
                continue  # a number may go on in the next chunk
            return value, end - self._pos
