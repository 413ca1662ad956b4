"""Awkward inputs made in a folder from the real shared reports, for the validation and end-to-end tests.

Every `make_*` writes one file into `folder` and returns its path; `make_all_bad` makes them all and
says what should happen to each.
"""

from __future__ import annotations

import io
import random
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from pypdf import PdfReader, PdfWriter

from conftest import HACKNEY_TXT, PRESS_ARTICLE, REPORTS

SAMPLE = REPORTS / "rutland.pdf"


def _hackney() -> str:
    return HACKNEY_TXT.read_text(encoding="utf-8")


def make_empty(folder: Path) -> Path:
    path = folder / "empty.pdf"
    path.write_bytes(b"")
    return path


def make_blank_text(folder: Path) -> Path:
    path = folder / "blank.txt"
    path.write_bytes(b" \r\n\t\n" * 100)
    return path


def make_too_large(folder: Path, max_bytes: int) -> Path:
    """A real report padded past `max_bytes` (PDF readers ignore bytes after %%EOF)."""
    path = folder / "huge.pdf"
    data = SAMPLE.read_bytes()
    path.write_bytes(data + b"%" * max(0, max_bytes + 1 - len(data)))
    return path


def make_truncated_pdf(folder: Path) -> Path:
    """The first half of a real report: an interrupted download."""
    path = folder / "truncated.pdf"
    data = SAMPLE.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_garbled_pdf(folder: Path) -> Path:
    """A PDF header and end marker around noise: it claims to be a PDF but has no structure."""
    path = folder / "garbled.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(7).randbytes(20000) + b"\n%%EOF\n")
    return path


def make_broken_page_pdf(folder: Path) -> Path:
    """A real report whose page tree promises two pages more than it has: it opens, pages fail."""
    path = folder / "missing-pages.pdf"
    writer = PdfWriter(clone_from=PdfReader(SAMPLE))
    pages = len(writer.pages)
    buffer = io.BytesIO()
    writer.write(buffer)
    # the same number of digits, so the cross-reference offsets stay right
    data = buffer.getvalue().replace(f"/Count {pages}".encode(), f"/Count {pages + 2}".encode(), 1)
    path.write_bytes(data)
    return path


def make_random_bytes(folder: Path) -> Path:
    path = folder / "random.pdf"
    path.write_bytes(random.Random(11).randbytes(30000))
    return path


def make_html_as_pdf(folder: Path) -> Path:
    """What a download saves when the server answers with an error page."""
    path = folder / "error-page.pdf"
    path.write_text(
        "<!DOCTYPE html>\n<html lang='en'><head><title>503 Service Unavailable</title></head>"
        "<body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>\n"
    )
    return path


def make_zip_as_pdf(folder: Path) -> Path:
    path = folder / "archive.pdf"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(HACKNEY_TXT, HACKNEY_TXT.name)
    return path


def make_docx_as_pdf(folder: Path) -> Path:
    """A minimal Word document (the report's opening paragraphs) with a .pdf name."""
    path = folder / "report-docx.pdf"
    paragraphs = "".join(
        f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in _hackney().splitlines()[:20] if line.strip()
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paragraphs}</w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", document)
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
    return path


def make_image_as_pdf(folder: Path) -> Path:
    """The first page of a real report as a PNG image, saved with a .pdf name."""
    path = folder / "page-image.pdf"
    document = pdfium.PdfDocument(str(SAMPLE))
    try:
        bitmap = document[0].render(scale=0.5, grayscale=True)
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        pixels = bytes(bitmap.buffer)
    finally:
        document.close()
    rows = b"".join(b"\x00" + pixels[row * stride : row * stride + width] for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)
    return path


def make_encrypted_pdf(folder: Path) -> Path:
    """A real report that needs a password to open."""
    path = folder / "encrypted.pdf"
    writer = PdfWriter(clone_from=PdfReader(SAMPLE))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_owner_password_pdf(folder: Path) -> Path:
    """Encrypted with an owner password only (no printing, say) but an empty user password: readable."""
    path = folder / "owner-password-only.pdf"
    writer = PdfWriter(clone_from=PdfReader(SAMPLE))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128", permissions_flag=0)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_scanned_pdf(folder: Path, pages: int = 3) -> Path:
    """The first pages of a real report rendered to images: a PDF with no text layer."""
    path = folder / "scanned.pdf"
    source = pdfium.PdfDocument(str(SAMPLE))
    scanned = pdfium.PdfDocument.new()
    try:
        for index in range(pages):
            page = source[index]
            width, height = page.get_size()
            image = pdfium.PdfImage.new(scanned)
            image.set_bitmap(page.render(scale=1, grayscale=True))
            image.set_matrix(pdfium.PdfMatrix().scale(width, height))
            new_page = scanned.new_page(width, height)
            new_page.insert_obj(image)
            new_page.gen_content()
        scanned.save(str(path))
    finally:
        scanned.close()
        source.close()
    return path


def make_cp1252_copy(folder: Path) -> Path:
    """The Hackney report with curly apostrophes, saved in Windows-1252 (as Word on Windows would): it
    must load. The text has to fit the code page: its ▪ bullets become •."""
    path = folder / "hackney-cp1252.txt"
    path.write_bytes(cp1252_text().encode("cp1252"))
    return path


def cp1252_text() -> str:
    """What `make_cp1252_copy` should decode back to."""
    return _hackney().replace("▪", "•").replace("'", "’")


def make_utf16_copy(folder: Path) -> Path:
    """The Hackney report saved as 'Unicode' by Windows Notepad (UTF-16 with a byte-order mark): it loads."""
    path = folder / "hackney-utf16.txt"
    path.write_bytes(_hackney().encode("utf-16"))
    return path


def make_latin_garbage(folder: Path) -> Path:
    """The Hackney report with every sixth character replaced by a random byte above 127: neither UTF-8
    nor any legacy code page reads it as text."""
    path = folder / "garbled-encoding.txt"
    rng = random.Random(3)
    data = bytearray(_hackney().encode("ascii", errors="replace"))
    for index in range(0, len(data), 6):
        if data[index] != ord("\n"):
            data[index] = rng.randrange(0x80, 0x100)
    path.write_bytes(bytes(data))
    return path


def make_not_a_report(folder: Path) -> Path:
    """The press article about the Hackney inspection (in the shared seeds)."""
    path = folder / PRESS_ARTICLE.name
    shutil.copy(PRESS_ARTICLE, path)
    return path


def make_other_ofsted_report(folder: Path) -> Path:
    """The opening of a school inspection report."""
    path = folder / "school-inspection.txt"
    path.write_text(
        "School inspection report\n\nInspection dates: 4 and 5 March 2025\n\n"
        "The quality of education: Good\nBehaviour and attitudes: Good\n\n"
        "What is it like to attend this school?\n\nPupils enjoy coming to this school. "
        "They are polite and respectful, and leaders have high expectations of them.\n",
        encoding="utf-8",
    )
    return path


def make_retitled_report(folder: Path) -> Path:
    """The Hackney report under the title of an inspection of children's services."""
    path = folder / "hackney-childrens-services.txt"
    text = _hackney().replace(
        "Area SEND inspection of Hackney Local Area Partnership",
        "Inspection of Hackney local authority children's services",
    )
    path.write_text(text, encoding="utf-8")
    return path


def make_report_without_weaknesses(folder: Path) -> Path:
    """The Hackney report without its 'What does the area partnership need to do better?' heading."""
    path = folder / "hackney-no-weaknesses.txt"
    lines = [line for line in _hackney().splitlines() if "need to do better" not in line]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def make_duplicate(folder: Path, of: Path = SAMPLE) -> Path:
    """The same bytes as `of` under another name (sorting after the original, which loads first)."""
    path = folder / f"{of.stem}_copy{of.suffix}"
    shutil.copy(of, path)
    return path


def make_all_bad(folder: Path) -> dict[str, str | None]:
    """Make every kind of awkward input in `folder`: file name → expected rejection reason, or None for
    an awkward file that must still load. A duplicate of rutland.pdf is added when that file is there."""
    expected: dict[str, str | None] = {
        make_empty(folder).name: "empty",
        make_blank_text(folder).name: "empty",
        make_truncated_pdf(folder).name: "corrupt",
        make_garbled_pdf(folder).name: "corrupt",
        make_broken_page_pdf(folder).name: "corrupt",
        make_random_bytes(folder).name: "wrong_type",
        make_html_as_pdf(folder).name: "wrong_type",
        make_zip_as_pdf(folder).name: "wrong_type",
        make_docx_as_pdf(folder).name: "wrong_type",
        make_image_as_pdf(folder).name: "wrong_type",
        make_encrypted_pdf(folder).name: "encrypted",
        make_scanned_pdf(folder).name: "scanned",
        make_latin_garbage(folder).name: "undecodable",
        make_not_a_report(folder).name: "not_a_report",
        make_other_ofsted_report(folder).name: "not_a_report",
        make_retitled_report(folder).name: "not_a_report",
        make_report_without_weaknesses(folder).name: "not_a_report",
        make_cp1252_copy(folder).name: None,
        make_utf16_copy(folder).name: None,
        make_owner_password_pdf(folder).name: None,
    }
    if (folder / SAMPLE.name).exists():
        expected[make_duplicate(folder).name] = "duplicate"
    return expected
