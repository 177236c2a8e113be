"""Uploaded spreadsheets (CSV and XLSX): recognised by content, inspected before parsing, and
read row by row within limits, so that no upload can hold a worker for long or fill its memory.

An XLSX file is a ZIP archive of XML parts, and its compressed size says little about the work
it makes: 256 KB of ZIP can unpack to a 100 MB shared-strings table. So, in this order:

1. **Recognised by content** (``recognise``): the name must end in .csv / .txt or .xlsx and the
   first bytes must agree (a ZIP archive for .xlsx, text for .csv). A ZIP renamed .csv, a CSV
   renamed .xlsx, an old .xls or a PDF is refused, saying what the file looks like.
2. **Inspected before parsing** (``inspect_workbook``), from the archive's directory and then by
   unpacking each part in 64 KB pieces (never trusting the declared sizes): at most ``MAX_PARTS``
   parts, ``MAX_UNPACKED_BYTES`` unpacked in all, no part over 1 MB unpacking to more than
   ``MAX_RATIO`` times its packed size (nor the archive as a whole); XML parts (known by their first
   bytes, not their names) must be UTF-8 without a document type declaration (``<!DOCTYPE``,
   ``<!ENTITY``: Excel never writes one, and entity expansion is how an "XML bomb" grows); no run of
   text between two tags longer than ``MAX_TEXT_RUN_BYTES`` (a cell that long is refused before it
   is ever read).
3. **Parsed without entity expansion**: openpyxl parses through defusedxml when it is installed
   (a dependency of ours); ``xlsx_rows`` refuses to run if openpyxl would not.
4. **Read row by row** (``csv_rows``, ``xlsx_rows``): the caller stops at its row limit; a cell
   longer than ``MAX_CELL_CHARS`` or a value beyond column ``MAX_COLUMNS`` refuses the file
   (empty cells past that column, as spreadsheets save them, are dropped). A workbook is read
   no further than column ``MAX_COLUMNS + 1`` (its declared dimension is not trusted: a sheet
   claiming 16,384 columns would otherwise pad every row to that width).

A real roster of 5,000 rows and 12 columns is about 280 KB as XLSX and unpacks to 3.5 MB at a
ratio of 13; the limits leave room for four times that. Every refusal is an ``UploadError``
whose message can be shown as it is.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib

from flask_babel import lazy_gettext as _l

from cplan.services.errors import DomainError

MAX_UNPACKED_BYTES = 16 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024  # smaller parts may compress as well as they like
MAX_PARTS = 200
MAX_COLUMNS = 100
MAX_CELL_CHARS = 5000  # the longest field (notes) keeps 2,000
# Text between two tags in a part's XML: a cell of MAX_CELL_CHARS, UTF-8 and escaped, fits.
MAX_TEXT_RUN_BYTES = 64 * 1024
CHUNK_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")
# A piece is never longer than the longest text run allowed, so a run too long always spans
# pieces and the running count below finds it.
assert CHUNK_BYTES <= MAX_TEXT_RUN_BYTES


class UploadError(DomainError):
    """The uploaded file cannot be read safely or at all; the message is safe to show."""

    def __init__(self, message, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


# ---- what the file is ------------------------------------------------------------------------

_SIGNATURES = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x1f\x8b", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"Rar!\x1a\x07", "archive"),
)
KIND_NAMES = {
    "zip": _l("a ZIP archive or Excel workbook"),
    "ole": _l("an old Excel (.xls) or password-protected workbook"),
    "pdf": _l("a PDF document"),
    "image": _l("an image"),
    "archive": _l("a compressed archive"),
    "binary": _l("binary data"),
    "text": _l("CSV or other text"),
}


def sniff(data: bytes) -> str:
    """What the first bytes say the file is: one of ``KIND_NAMES``."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 text: the CSV reader says it must be UTF-8
    if b"\x00" in data[:CHUNK_BYTES]:
        return "binary"
    return "text"


def extension_of(filename: str) -> str:
    name = (filename or "").strip().lower()
    return name.rsplit(".", 1)[1] if "." in name else ""


def recognise(filename: str, data: bytes) -> str:
    """ "csv" or "xlsx": the name's extension, when the content agrees; else ``UploadError``."""
    extension = extension_of(filename)
    kind = sniff(data)
    if extension == "xlsx":
        if kind != "zip":
            raise UploadError(
                _l(
                    "The file's name ends in .xlsx but it is not an Excel workbook: it looks "
                    'like %(kind)s. Save it from Excel as "Excel workbook (.xlsx)", or upload '
                    "CSV text with a .csv name.",
                    kind=KIND_NAMES[kind],
                )
            )
        return "xlsx"
    if extension in ("csv", "txt"):
        if kind != "text":
            raise UploadError(
                _l(
                    "The file's name ends in .%(extension)s but it is not CSV text: it looks "
                    "like %(kind)s. Upload a workbook with an .xlsx name, or save it from "
                    'Excel as "CSV UTF-8".',
                    extension=extension,
                    kind=KIND_NAMES[kind],
                )
            )
        return "csv"
    raise UploadError(
        _l("Upload a .csv or .xlsx file (Excel: File > Save as > CSV UTF-8 or Excel workbook).")
    )


# ---- the workbook, before any XML is parsed ----------------------------------------------------


def _unreadable_workbook() -> UploadError:
    return UploadError(_l("The file is not a readable Excel workbook (.xlsx)."))


def _too_big_unpacked() -> UploadError:
    return UploadError(
        _l(
            "The workbook unpacks to more than %(limit)s MB. Split it into smaller files "
            "or save it as CSV UTF-8.",
            limit=MAX_UNPACKED_BYTES // (1024 * 1024),
        )
    )


def _cell_too_long(row: int | None = None, column: str | None = None) -> UploadError:
    if row is None:
        return UploadError(
            _l(
                "A cell of the file holds more than %(limit)s characters; no column needs that "
                "many.",
                limit=format(MAX_CELL_CHARS, ","),
            )
        )
    return UploadError(
        _l(
            "A cell on row %(row)s holds more than %(limit)s characters; no column needs "
            "that many.",
            row=row,
            limit=format(MAX_CELL_CHARS, ","),
        ),
        row=row,
        column=column,
    )


def inspect_workbook(data: bytes) -> None:
    """Refuse an XLSX archive that would unpack too far, or carries XML a workbook never has.

    Reads only the archive's directory and then each part in pieces: memory stays at a few
    chunks whatever the archive claims, and a bomb is refused in milliseconds.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _unreadable_workbook() from None
    names = {part.filename for part in parts}
    if (
        len(parts) > MAX_PARTS
        or "[Content_Types].xml" not in names
        or "xl/workbook.xml" not in names
    ):
        raise _unreadable_workbook()
    declared = sum(part.file_size for part in parts)
    if declared > MAX_UNPACKED_BYTES:
        raise _too_big_unpacked()
    packed = sum(part.compress_size for part in parts)
    bombs = [
        part
        for part in parts
        if part.file_size > RATIO_CHECKED_FROM
        and part.file_size > MAX_RATIO * max(part.compress_size, 1)
    ]
    if bombs or (declared > RATIO_CHECKED_FROM and declared > MAX_RATIO * max(packed, 1)):
        raise UploadError(
            _l(
                "The workbook cannot be opened safely: it unpacks to more than %(ratio)s "
                "times its size. Save it again from Excel, or as CSV UTF-8.",
                ratio=MAX_RATIO,
            )
        )
    budget = MAX_UNPACKED_BYTES
    try:
        for part in parts:
            budget = _read_part(archive, part, budget)
    except (
        zipfile.BadZipFile,
        zlib.error,
        RuntimeError,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
    ):
        # A bad checksum (sizes that lied), an unknown compression, an encrypted part.
        raise _unreadable_workbook() from None


def _read_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, budget: int) -> int:
    """Unpack one part piece by piece, checking it; returns what is left of ``budget``.

    A part is XML when its content starts like XML, whatever its name (a workbook's
    relationships may point at a part named anything); other parts (images) are only counted.
    """
    is_xml = None  # decided on the first piece
    tail = b""  # the end of the previous piece, so a marker split between two pieces is found
    text_run = 0  # bytes since the last "<"
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            budget -= len(chunk)
            if budget < 0:
                raise _too_big_unpacked()
            if is_xml is None:
                start = chunk.removeprefix(UTF8_BOM).lstrip()
                if start.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
                    # UTF-16 XML could hide a declaration from the scan.
                    raise _unreadable_workbook()
                is_xml = start.startswith(b"<")
            if not is_xml:
                continue
            window = tail + chunk
            if any(marker in window for marker in _DECLARATIONS):
                raise UploadError(
                    _l(
                        "The workbook contains XML declarations that Excel never writes "
                        "(entities); it was not opened."
                    )
                )
            tail = chunk[-16:]
            first_tag = chunk.find(b"<")
            if first_tag < 0:
                text_run += len(chunk)
            else:
                if text_run + first_tag > MAX_TEXT_RUN_BYTES:
                    raise _cell_too_long()
                text_run = len(chunk) - chunk.rfind(b"<") - 1
            if text_run > MAX_TEXT_RUN_BYTES:
                raise _cell_too_long()
    return budget


# ---- rows ------------------------------------------------------------------------------------


def _checked(cells: list, row: int) -> list:
    """The row's cells up to ``MAX_COLUMNS``, or ``UploadError`` for a value beyond or too long."""
    if cells.count(None) == len(cells):  # an empty row (quick: a sheet may pad thousands of them)
        return cells[:MAX_COLUMNS]
    if len(cells) > MAX_COLUMNS:
        if any(cell not in (None, "") for cell in cells[MAX_COLUMNS:]):
            raise UploadError(
                _l(
                    "Row %(row)s has values beyond column %(limit)s; a roster has far fewer "
                    "columns.",
                    row=row,
                    limit=MAX_COLUMNS,
                ),
                row=row,
            )
        cells = cells[:MAX_COLUMNS]
    for cell in cells:
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise _cell_too_long(row)
    return cells


def csv_rows(data: bytes):
    """Rows of a UTF-8 CSV file (a byte-order mark is allowed), one list of strings at a time."""
    if data.startswith(UTF8_BOM):  # Excel's "CSV UTF-8" writes one; it is still UTF-8
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        raise UploadError(
            _l(
                "The file is not UTF-8 text (first unreadable byte on row %(row)s). "
                'In Excel choose File > Save as > "CSV UTF-8".',
                row=row,
            ),
            row=row,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):  # the csv module's own cap (128 KB)
                raise _cell_too_long(number + 1) from None
            raise UploadError(
                _l("The CSV file cannot be read near row %(row)s.", row=reader.line_num),
                row=reader.line_num,
            ) from None
        number += 1
        yield _checked(cells, number)


def xlsx_rows(data: bytes):
    """Rows of the workbook's first sheet, one tuple of values at a time (after inspection)."""
    import openpyxl.xml
    from openpyxl import load_workbook

    if not openpyxl.xml.DEFUSEDXML:
        raise RuntimeError(
            "openpyxl must parse through defusedxml: install it and leave OPENPYXL_DEFUSEDXML unset"
        )
    inspect_workbook(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        SyntaxError,
        EOFError,
        zlib.error,
    ):
        # ValueError includes defusedxml's refusals; SyntaxError is ElementTree's ParseError.
        raise _unreadable_workbook() from None
    try:
        if not workbook.worksheets:
            return
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except (
                zipfile.BadZipFile,
                KeyError,
                ValueError,
                TypeError,
                OSError,
                SyntaxError,
                EOFError,
                zlib.error,
            ):
                raise _unreadable_workbook() from None
            number += 1
            yield _checked(list(values), number)
    finally:
        workbook.close()
