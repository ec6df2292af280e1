"""Reading the CSV files people bring (till exports, supplier catalogues). Pure functions.

Accepts UTF-8 (with or without BOM) or Latin-1, `,` `;` or tab as separator, and decimal commas
(`1,5`) when the separator is not a comma. Line numbers are the file's own (the header is line 1).
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class CSVFileError(ValueError):
    """The file as a whole cannot be read (encoding, header): nothing is imported."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


def decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise CSVFileError("unreadable file")  # pragma: no cover - latin-1 decodes anything


def file_hash(content: bytes) -> str:
    """SHA-256 of the decoded text with normalised line endings: the same export saved on Windows
    or Unix is the same file."""
    return hashlib.sha256(decode(content).strip().encode("utf-8")).hexdigest()


def _key(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().strip().lower()
    return "_".join(name.replace("-", " ").replace("(", " ").replace(")", " ").split())


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _records(reader):
    """(first line of the record, cells) for each record. A field longer than the csv module's
    limit, or a control character (a NUL byte...) in a cell, refuses the file with its line."""
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise CSVFileError(f"line {start}: a field is longer than {csv.field_size_limit()} characters") from exc
            raise CSVFileError(f"line {start}: {exc}") from exc
        if any(CONTROL.search(cell) for cell in record):
            raise CSVFileError(f"line {start}: a cell holds a control character (such as a NUL byte)")
        yield start, record


def read_rows(content: bytes, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> tuple[str, list[Row]]:
    """The file's data rows as dicts keyed by canonical column names, with their line numbers.

    `columns` maps each canonical name to the header spellings accepted for it. Blank lines are
    skipped. Raises CSVFileError when the header lacks a required column. Returns the separator
    too (it decides whether a comma is a decimal separator).
    """
    text = decode(content)
    if not text.strip():
        raise CSVFileError("the file is empty")
    first_line = text.lstrip("\n").split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = None
    rows: list[Row] = []
    aliases = {_key(alias): name for name, spellings in columns.items() for alias in (name, *spellings)}
    positions: dict[str, int] = {}
    for line, record in _records(reader):
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [_key(cell) for cell in record]
            for index, cell in enumerate(header):
                name = aliases.get(cell)
                if name and name not in positions:
                    positions[name] = index
            missing = [name for name in required if name not in positions]
            if missing:
                raise CSVFileError(f"missing column(s): {', '.join(missing)} (header line: {first_line.strip()[:200]})")
            continue
        values = {name: (record[index].strip() if index < len(record) else None) for name, index in positions.items()}
        rows.append(Row(line, values))
    if header is None:
        raise CSVFileError("the file is empty")
    return delimiter, rows


def parse_decimal(text: str | None, delimiter: str = ",") -> Decimal:
    """'1.5', '1,5' (when the separator is not a comma), '1 234,50' -> Decimal. ValueError otherwise."""
    if text is None or not text.strip():
        raise ValueError("missing number")
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if delimiter != "," and "," in cleaned:
        if "." in cleaned:
            cleaned = cleaned.replace(".", "")
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return value


def parse_date(text: str | None) -> datetime.date:
    """ISO dates (2026-03-02, also with a time) or French ones (02/03/2026)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("missing date")
    for parse in (
        lambda t: datetime.date.fromisoformat(t[:10]),
        lambda t: datetime.datetime.strptime(t[:10], "%d/%m/%Y").date(),
    ):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD or DD/MM/YYYY)")
