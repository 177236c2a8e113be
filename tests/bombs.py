"""Hostile upload files, built in memory: the red-team findings of issue 14 and their cousins.

Each builder returns the file's bytes; ``BOMBS`` names each with the upload name it arrives
under and a phrase of the message that refuses it. The builders stream what they write, so
making a 100 MB shared-strings table costs this process little memory. Used by
tests/test_upload_bombs.py, in the test process and in a child process that measures itself.
"""

from __future__ import annotations

import functools
import io
import os
import zipfile

HEADER = "place_lgd_code,name,mobile,category,consent_date"
MB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    "</Relationships>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_HEADER_ROW = (
    '<row r="1">'
    + "".join(
        f'<c r="{column}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for column, name in zip("ABCDE", HEADER.split(","), strict=True)
    )
    + "</row>"
)


def workbook(*, sheet_rows=(), dimension: str | None = None, shared_strings=None) -> bytes:
    """A minimal XLSX: the header row, then ``sheet_rows`` (XML text pieces, streamed), and a
    shared-strings part made of the pieces ``shared_strings`` yields (empty by default)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>" + _HEADER_ROW.encode())
            for piece in sheet_rows:
                sheet.write(piece.encode() if isinstance(piece, str) else piece)
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            for piece in shared_strings or (_SST_START, "</sst>"):
                strings.write(piece.encode() if isinstance(piece, str) else piece)
    return buffer.getvalue()


_SST_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_ROW_USING_STRING_0 = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'


def _long_text(total: int, piece: bytes):
    for _ in range(total // len(piece)):
        yield piece


@functools.cache
def shared_strings_bomb() -> bytes:
    """Finding 3 itself: a shared-strings table of 100 MB (5 million short strings) in ~250 KB."""
    entries = b"<si><t>C-Plan bomb</t></si>" * 2427  # 65,529 bytes per piece
    return workbook(
        sheet_rows=[_ROW_USING_STRING_0],
        shared_strings=(_SST_START.encode(), *_long_text(100 * MB, entries), b"</sst>"),
    )


def billion_laughs() -> bytes:
    """Ten levels of ten entities each: a billion "lol"s from a file of under 2 KB."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    dtd = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [' + "".join(entities) + "]>"
    return workbook(
        sheet_rows=[_ROW_USING_STRING_0],
        shared_strings=[
            dtd,
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
            "<si><t>&lol9;</t></si></sst>",
        ],
    )


def ten_megabyte_cell() -> bytes:
    """One cell of 10 MB of repeated text (a compression ratio near 1,000)."""
    return workbook(
        sheet_rows=[_ROW_USING_STRING_0],
        shared_strings=(
            _SST_START.encode() + b"<si><t>",
            *_long_text(10 * MB, b"A" * 65536),
            b"</t></si></sst>",
        ),
    )


@functools.cache
def ten_megabyte_cell_of_random_text() -> bytes:
    """One cell of 10 MB of random a/b text: it compresses only ~7 times, so the ratio passes."""

    def pieces():
        yield _SST_START.encode() + b"<si><t>"
        table = bytes((ord("a") + (byte & 1)) for byte in range(256))
        for _ in range(10 * MB // 65536):
            yield os.urandom(65536).translate(table)
        yield b"</t></si></sst>"

    return workbook(sheet_rows=[_ROW_USING_STRING_0], shared_strings=pieces())


def million_empty_rows() -> bytes:
    """A dimension of a million rows, each row present and empty (rows need no number)."""
    return workbook(
        dimension="A1:E1000000", sheet_rows=_long_text(1_000_000 * 6, b"<row/>" * 10000)
    )


def last_row_of_the_sheet() -> bytes:
    """A dimension of the whole sheet and one value on its last row: a reader that fills the gap
    with empty rows makes a million of them from a file of a few hundred bytes."""
    return workbook(
        dimension="A1:XFD1048576",
        sheet_rows=['<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'],
    )


def zip_renamed_csv() -> bytes:
    """A workbook (a ZIP archive) uploaded under a .csv name."""
    return workbook(sheet_rows=[])


def csv_with_a_huge_cell() -> bytes:
    """A CSV whose one cell is just under the 2 MB upload limit."""
    return (
        HEADER + "\r\n" + '1001,"' + "x" * (2 * MB - 200) + '",9876543210,teacher,2025-03-01\r\n'
    ).encode()


def csv_with_a_million_columns() -> bytes:
    return (HEADER + "," * 999_995 + "x\r\n").encode()


def csv_of_blank_lines() -> bytes:
    """A header and two million blank lines (each one a row object to a naive reader)."""
    return (HEADER + "\r\n").encode() + b"\n" * (2 * MB - 100)


def csv_renamed_xlsx() -> bytes:
    return (HEADER + "\r\n1001,Ravi Kumar,9876543210,teacher,2025-03-01\r\n").encode()


# name: (builder, upload file name, a phrase of the refusal)
BOMBS = {
    "shared_strings_bomb": (shared_strings_bomb, "contacts.xlsx", "unpacks to more than 16 MB"),
    "billion_laughs": (billion_laughs, "contacts.xlsx", "XML declarations"),
    "ten_megabyte_cell": (ten_megabyte_cell, "contacts.xlsx", "unpacks to more than 100 times"),
    "ten_megabyte_cell_of_random_text": (
        ten_megabyte_cell_of_random_text,
        "contacts.xlsx",
        "holds more than 5,000 characters",
    ),
    "million_empty_rows": (million_empty_rows, "contacts.xlsx", "unpacks to more than 100 times"),
    "last_row_of_the_sheet": (last_row_of_the_sheet, "contacts.xlsx", "more than 5,000 rows"),
    "zip_renamed_csv": (zip_renamed_csv, "contacts.csv", "it is not CSV text"),
    "csv_with_a_huge_cell": (
        csv_with_a_huge_cell,
        "contacts.csv",
        "holds more than 5,000 characters",
    ),
    "csv_with_a_million_columns": (csv_with_a_million_columns, "contacts.csv", "beyond column 100"),
    "csv_of_blank_lines": (csv_of_blank_lines, "contacts.csv", "more than 5,000 rows"),
    "csv_renamed_xlsx": (csv_renamed_xlsx, "contacts.xlsx", "it is not an Excel workbook"),
}


# ---- measuring in a process of its own -------------------------------------------------------
# ``python -m tests.bombs NAME...`` reads each named bomb through the roster import and prints
# one JSON line per bomb: the CPU seconds it took and how far the process's peak resident
# memory rose above what it held before (the kernel's high-water mark is reset before each).


def _resident_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size (Linux 4.0+)


def measure(names) -> list[dict]:
    import gc
    import resource

    from cplan.pipelines import roster_import

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    # Warm up: import and run the readers once on a good file of each kind.
    good_csv = (HEADER + "\r\n1001,Ravi Kumar,9876543210,teacher,2025-03-01\r\n").encode()
    roster_import.read_table("warm.csv", good_csv)
    roster_import.read_table(
        "warm.xlsx",
        workbook(sheet_rows=['<row r="2"><c r="A2" t="inlineStr"><is><t>1001</t></is></c></row>']),
    )
    results = []
    for name in names:
        build, filename, _phrase = BOMBS[name]
        data = build()
        gc.collect()
        _reset_peak()
        before_kb, started = _resident_kb("VmRSS"), cpu()
        try:
            roster_import.read_table(filename, data)
            refused = False
        except roster_import.RosterFileError:
            refused = True
        results.append(
            {
                "name": name,
                "refused": refused,
                "cpu_seconds": cpu() - started,
                "peak_growth_mb": (_resident_kb("VmHWM") - before_kb) / 1024,
            }
        )
    return results


if __name__ == "__main__":
    import json
    import sys

    for result in measure(sys.argv[1:] or list(BOMBS)):
        print(json.dumps(result))
