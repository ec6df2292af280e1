"""Reading the interchange files from a folder, a .zip, a .xlsx workbook or uploaded CSV files.

Nothing here touches the database. Every problem found is reported with its file and line, never
raised: a malformed line, a field longer than the csv module takes, a NUL byte, a file that is not
UTF-8 are each one problem, and the other lines are still read.
"""
from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from .formats import FILES
from .report import Problem

MAX_TOTAL_BYTES = 512 * 1024 * 1024  # uncompressed, all files together
MAX_ZIP_ENTRIES = 1000


@dataclass
class Sheet:
    """One file's rows: (line, {column: text}) with empty cells left out."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class Source:
    sheets: dict[str, Sheet] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # files given but not read (reported)

    def problem(self, file: str, line: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(file, line, column, str(message)))


class SourceError(ValueError):
    """The upload or path as a whole cannot be read (not a folder, zip or workbook)."""


def _known(name: str) -> str | None:
    """The interchange file a file or sheet name stands for ("members.csv", "Members" -> members.csv)."""
    base = os.path.basename(name.replace("\\", "/")).strip().lower()
    if not base.endswith(".csv"):
        base += ".csv"
    return base if base in FILES else None


def _header(source: Source, name: str, cells: list[str], line: int) -> list[str] | None:
    header = [cell.strip().lstrip("\ufeff") for cell in cells]
    if any("\x00" in cell for cell in header):
        source.problem(name, line, "-", _("A NUL byte is not allowed in a cell."))
        return None
    seen = set()
    for cell in header:
        if cell and cell in seen:
            source.problem(name, line, cell, _("This column appears twice in the header."))
            return None
        seen.add(cell)
    return header


def _add_row(source: Source, sheet: Sheet, line: int, cells: list[str]) -> None:
    values = {}
    if len(cells) > len(sheet.header) and any(cell.strip() for cell in cells[len(sheet.header):]):
        source.problem(sheet.name, line, "-", _("More cells than the header has columns."))
        return
    for name, cell in zip(sheet.header, cells, strict=False):
        if "\x00" in cell:
            source.problem(sheet.name, line, name or "-", _("A NUL byte is not allowed in a cell."))
            return
        cell = cell.strip()
        if cell:
            values[name] = cell
    if values:
        sheet.rows.append((line, values))


def read_csv(source: Source, name: str, content: bytes) -> None:
    """Read one CSV file (UTF-8, comma separated, one header row) into `source`."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        source.problem(name, line, "-", _("The file is not UTF-8 (save it as “CSV UTF-8”)."))
        source.unreadable.add(name)
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    sheet, previous = None, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            source.problem(name, previous + 1, "-", _("Malformed CSV line: %(error)s.") % {"error": exc})
            previous = reader.line_num
            continue
        line, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if sheet is None:
            header = _header(source, name, cells, line)
            if header is None:
                source.unreadable.add(name)
                return
            sheet = Sheet(name, header)
            continue
        _add_row(source, sheet, line, cells)
    if sheet is None:
        source.problem(name, 1, "-", _("The file is empty: it needs at least its header row."))
        source.unreadable.add(name)
        return
    source.sheets[name] = sheet


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        if value.date() == datetime.date(1899, 12, 30):  # a time alone, as some spreadsheets store it
            return value.strftime("%H:%M")
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(source: Source, content: bytes) -> None:
    """Read a workbook whose sheets are named like the files ("members" or "members.csv")."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise SourceError(_("This workbook cannot be read: %(error)s") % {"error": str(exc)[:200]}) from None
    try:
        _read_sheets(source, workbook)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken workbook fails in many ways while it is read
        raise SourceError(_("This workbook cannot be read: %(error)s") % {"error": str(exc)[:200]}) from None
    finally:
        workbook.close()


def _read_sheets(source: Source, workbook) -> None:
    for worksheet in workbook.worksheets:
        name = _known(worksheet.title)
        if name is None:
            source.ignored.append(worksheet.title.replace("\x00", ""))
            continue
        if name in source.sheets:
            source.problem(name, None, "-", _("Two sheets stand for this file."))
            continue
        sheet = None
        for line, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(cell.strip() for cell in cells):
                continue
            if sheet is None:
                header = _header(source, name, cells, line)
                if header is None:
                    source.unreadable.add(name)
                    break
                while header and not header[-1]:
                    header.pop()
                sheet = Sheet(name, header)
                continue
            _add_row(source, sheet, line, cells)
        if sheet is None and name not in source.unreadable:
            source.problem(name, 1, "-", _("The sheet is empty: it needs at least its header row."))
            source.unreadable.add(name)
        elif sheet is not None:
            source.sheets[name] = sheet


def _is_xlsx(archive: zipfile.ZipFile) -> bool:
    names = set(archive.namelist())
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _check_sizes(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise SourceError(_("The archive holds too many files."))
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise SourceError(_("The archive is too large once unpacked (more than 512 MB)."))
    if any(info.flag_bits & 0x1 for info in infos):
        raise SourceError(_("Encrypted archives cannot be read."))


def read_zip(source: Source, content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise SourceError(_("This is not a zip archive.")) from None
    with archive:
        _check_sizes(archive)
        if _is_xlsx(archive):
            read_xlsx(source, content)
            return
        for info in archive.infolist():
            path = info.filename
            if info.is_dir() or "__MACOSX" in path or os.path.basename(path).startswith("."):
                continue
            name = _known(path) if path.lower().endswith(".csv") else None
            if name is None or path.count("/") > 1:
                source.ignored.append(path.replace("\x00", ""))
                continue
            if name in source.sheets or any(p.file == name for p in source.problems):
                source.problem(name, None, "-", _("The archive holds two files of this name."))
                continue
            read_csv(source, name, archive.read(info))


def read_upload(content: bytes, filename: str = "") -> Source:
    """An uploaded file: a .zip of the CSV files, a .xlsx workbook, or a single CSV file."""
    source = Source()
    if content[:4] == b"PK\x03\x04":
        try:
            read_zip(source, content)
        except SourceError:
            raise
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError, KeyError) as exc:
            raise SourceError(_("This archive cannot be read: %(error)s") % {"error": str(exc)[:200]}) from None
    elif filename.lower().endswith(".csv") and _known(filename):
        read_csv(source, _known(filename), content)
    else:
        raise SourceError(_("Upload a .zip of the CSV files or a .xlsx workbook."))
    return source


def read_uploads(files: list[tuple[str, bytes]]) -> Source:
    """Several uploaded files at once (CSV files of the format, or one zip / workbook)."""
    if len(files) == 1:
        return read_upload(files[0][1], files[0][0])
    source = Source()
    for filename, content in files:
        name = _known(filename) if filename.lower().endswith(".csv") else None
        if name is None:
            raise SourceError(_("%(name)s is not one of the interchange files.") % {"name": filename[:100]})
        if name in source.sheets:
            raise SourceError(_("%(name)s was given twice.") % {"name": name})
        read_csv(source, name, content)
    return source


def read_path(path: str | os.PathLike) -> Source:
    """A folder of CSV files, a .zip of them, or a .xlsx workbook on disk."""
    path = Path(path)
    source = Source()
    if path.is_dir():
        total = 0
        for child in sorted(path.iterdir()):
            name = _known(child.name) if child.suffix.lower() == ".csv" and child.is_file() else None
            if name is None:
                if not child.name.startswith("."):
                    source.ignored.append(child.name)
                continue
            total += child.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise SourceError(_("The files are too large (more than 512 MB)."))
            read_csv(source, name, child.read_bytes())
        return source
    if not path.is_file():
        raise SourceError(_("No such file or folder: %(path)s") % {"path": str(path)})
    return read_upload(path.read_bytes(), path.name)
