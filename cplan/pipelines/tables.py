"""Tables in files: the one reader of an uploaded CSV or XLSX table, and what every file in and
out shares (columns with English and Hindi headers, problems by row and column, formula-safe
cells, a CSV that Excel opens in UTF-8).

The roster import (``roster_import``) and the place-name corrections (``place_name_import``)
read their files here, so they refuse the same files with the same words: too large, empty,
not what its name says (``cplan.pipelines.uploads`` recognises and inspects it), a column twice
in the header, a required column missing, more rows than allowed (blank rows are skipped, but a
file padded with endless blank rows is refused at four times the limit), no rows at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l

from cplan.pipelines import uploads
from cplan.pipelines.uploads import UTF8_BOM
from cplan.services.errors import DomainError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
# A cell starting with one of these is a formula to a spreadsheet: files we write never start one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LOOSE = re.compile(r"[\s_\-/'’.]+")


class TableFileError(DomainError):
    """The file as a whole cannot be read (size, type, encoding, header); nothing changed."""

    def __init__(self, message, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Column:
    """One column of a file: its key (the English header) and its Hindi header. ``required``:
    the header must have it; ``read``: False for a column written for people to read and
    ignored on upload."""

    key: str
    hindi: str
    required: bool = False
    read: bool = True


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row) of the file; the message is translatable."""

    row: int
    column: str | None
    message: object


@dataclass
class FileReport:
    """What the dry run of a file found, or what its commit did: the shared part (the file and
    its SHA-256, rows read, problems by row and column, columns ignored, whether committed)."""

    # The file's columns, in the order problems are listed within a row.
    columns: ClassVar[tuple[Column, ...]] = ()

    filename: str
    file_format: str
    sha256: str
    rows: int = 0  # data rows read (blank rows are not counted)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_sorted(self) -> list[Problem]:
        return by_row_and_column(self.problems, self.columns)

    def check_same_file(self, expected_sha256: str | None) -> None:
        """The commit reads the file again: it must be the one the dry run checked."""
        if expected_sha256 and expected_sha256 != self.sha256:
            raise TableFileError(
                _l("This is not the file you checked. Check it again before importing.")
            )


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Table:
    """The file read into rows keyed by column key; values are text, numbers or dates."""

    file_format: str
    header: list[str]
    headers_by_key: dict[str, str]  # key -> the header as written in the file
    ignored_columns: list[str]
    rows: list[tuple[int, dict[str, object]]]


def loose(text: str) -> str:
    """A spelling-insensitive key: NFC, case-folded, punctuation and spaces collapsed."""
    return _LOOSE.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def header_keys(columns: Iterable[Column]) -> dict[str, str]:
    """Each column's key under every spelling of its English and Hindi headers."""
    return {loose(name): column.key for column in columns for name in (column.key, column.hindi)}


def text(value) -> str:
    """A cell as trimmed text (numbers as written by Python, dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def file_format_of(filename: str, data: bytes) -> str:
    """ "csv" or "xlsx": the name's extension, when the content agrees (``uploads.recognise``)."""
    try:
        return uploads.recognise(filename, data)
    except uploads.UploadError as error:
        raise TableFileError(error.message) from None


def records(file_format: str, data: bytes):
    """The file's rows, one at a time; a file the reader refuses raises ``TableFileError``."""
    try:
        yield from (uploads.xlsx_rows(data) if file_format == "xlsx" else uploads.csv_rows(data))
    except uploads.UploadError as error:
        raise TableFileError(error.message, row=error.row, column=error.column) from None


def read_table(
    filename: str,
    data: bytes,
    columns: tuple[Column, ...],
    *,
    max_bytes: int,
    max_rows: int,
    no_rows: object,
    check_header: Callable[[set[str]], None] | None = None,
) -> Table:
    """Read and shape-check the whole file, or raise ``TableFileError``.

    ``columns`` name what the header may hold; the rows keep the columns that are ``read``.
    ``check_header`` may refuse a header whose columns (their keys) cannot name a row;
    ``no_rows`` is the refusal of a file with a header and nothing under it.
    """
    if len(data) > max_bytes:
        raise TableFileError(
            _l(
                "The file is larger than %(limit)s MB. Split it into smaller files.",
                limit=max_bytes // (1024 * 1024),
            )
        )
    if not data.removeprefix(UTF8_BOM).strip():
        raise TableFileError(_l("The file is empty."))
    file_format = file_format_of(filename, data)
    rows_of_file = records(file_format, data)
    header_cells = next(rows_of_file, None)
    if header_cells is None or not any(text(cell) for cell in header_cells):
        raise TableFileError(_l("The file is empty."))
    header = [text(cell).lstrip("\ufeff") for cell in header_cells]
    keys = header_keys(columns)
    headers_by_key: dict[str, str] = {}
    index_by_key: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        if not name:
            continue
        key = keys.get(loose(name))
        if key is None:
            ignored.append(name)
        elif key in index_by_key:
            raise TableFileError(
                _l("The column %(column)s appears twice in the header.", column=name),
                row=1,
                column=name,
            )
        else:
            index_by_key[key] = index
            headers_by_key[key] = name
    missing = [
        column.key for column in columns if column.required and column.key not in index_by_key
    ]
    if missing:
        raise TableFileError(
            _l(
                "Required columns are missing from the header: %(columns)s. "
                "Download the template to see the expected columns.",
                columns=", ".join(missing),
            ),
            row=1,
        )
    if check_header is not None:
        check_header(set(index_by_key))
    wanted = {column.key for column in columns if column.read}
    too_many = _l(
        "The file has more than %(limit)s rows. Split it into smaller files.", limit=f"{max_rows:,}"
    )
    rows = []
    for number, cells in enumerate(rows_of_file, start=2):
        if number > 4 * max_rows:
            raise TableFileError(too_many)
        values = {
            key: (cells[index] if index < len(cells) else None)
            for key, index in index_by_key.items()
            if key in wanted
        }
        if not any(text(value) for value in values.values()):
            continue
        rows.append((number, values))
        if len(rows) > max_rows:
            raise TableFileError(too_many)
    if not rows:
        raise TableFileError(no_rows)
    return Table(file_format, header, headers_by_key, ignored, rows)


def by_row_and_column(problems: list[Problem], columns: tuple[Column, ...]) -> list[Problem]:
    """``problems`` by row, and within a row in the order of the file's columns."""
    order = {column.key: index for index, column in enumerate(columns)}
    return sorted(problems, key=lambda problem: (problem.row, order.get(problem.column or "", -1)))


def inert(value: str | None) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe when it would start a formula."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_file(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """A CSV file that Excel opens as UTF-8 (the byte-order mark makes it read Devanagari),
    CRLF line ends, every cell of the rows made ``inert``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([inert(value) for value in row] for row in rows)
    return UTF8_BOM + buffer.getvalue().encode("utf-8")
