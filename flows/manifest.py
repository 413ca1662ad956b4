"""Reading a manifest.csv (file, source_url, published, la_code, sha256, …) strictly: any malformed
line makes the whole manifest a `ManifestError` naming the file, the line and the problem, so a row
is never half-read into wrong provenance."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sendcorpus.extract.text_file import TextDecodeError, decode_text

MANIFEST = "manifest.csv"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LA_CODE = re.compile(r"^\d{1,3}$")
_MAX_CONTROL_SHARE = 0.01


class ManifestError(Exception):
    """A manifest that cannot be trusted; the message names the file and what is wrong."""


@dataclass(frozen=True)
class ManifestRow:
    file: str
    source_url: str | None
    published: date | None
    la_code: str | None
    sha256: str | None


def read_manifest(path: Path) -> list[ManifestRow]:
    """Every row of the manifest, once the whole file has been checked."""
    return list(_rows(path))


def _rows(path: Path) -> Iterator[ManifestRow]:
    text = _text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if "file" not in header:
            found = ", ".join(header[:8]) or "none"
            raise ManifestError(f"{path} has no `file` column (its columns: {found})")
        for record in reader:
            line = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if len(record) > len(header):
                raise ManifestError(
                    f"{path} line {line} has {len(record)} fields, but its header names {len(header)}"
                )
            yield _row(path, line, dict(zip(header, (value.strip() for value in record), strict=False)))
    except csv.Error as error:
        raise ManifestError(f"{path} is not well-formed CSV near line {reader.line_num} ({error})") from None


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ManifestError(f"{path} cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise ManifestError(f"{path} is empty")
    if b"\x00" in data:
        raise ManifestError(f"{path} is binary data, not CSV text")
    try:
        text = decode_text(data)  # UTF-8, or a legacy encoding such as Windows-1252
    except TextDecodeError:
        raise ManifestError(f"{path} is neither UTF-8 nor a recognisable text encoding") from None
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\r\n")
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise ManifestError(f"{path} is binary data, not CSV text")
    return text


def _row(path: Path, line: int, values: dict[str, str]) -> ManifestRow:
    def problem(what: str) -> ManifestError:
        return ManifestError(f"{path} line {line}: {what}")

    file = values.get("file") or ""
    if not file:
        raise problem("the `file` field is empty")
    published = values.get("published") or None
    try:
        day = date.fromisoformat(published) if published else None
    except ValueError:
        raise problem(f"published {published!r} is not a date written like 2024-04-01") from None
    la_code = values.get("la_code") or None
    if la_code and not _LA_CODE.match(la_code):
        raise problem(f"la_code {la_code!r} is not a DfE local authority number (such as 301)")
    sha256 = (values.get("sha256") or "").lower() or None
    if sha256 and not _SHA256.match(sha256):
        raise problem(f"sha256 {sha256!r} is not a 64-digit hex digest")
    return ManifestRow(
        file=file,
        source_url=values.get("source_url") or None,
        published=day,
        la_code=la_code.zfill(3) if la_code else None,
        sha256=sha256,
    )
