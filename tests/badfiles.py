"""Bad inputs made from the real shared reports, for the validation and end-to-end reliability tests."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pypdfium2 as pdfium
from pypdf import PdfReader, PdfWriter

from conftest import HACKNEY_TXT, PRESS_ARTICLE, REPORTS

SAMPLE = REPORTS / "rutland.pdf"


def make_empty(folder: Path) -> Path:
    path = folder / "empty.pdf"
    path.write_bytes(b"")
    return path


def make_truncated_pdf(folder: Path) -> Path:
    path = folder / "truncated.pdf"
    data = SAMPLE.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_garbled_pdf(folder: Path) -> Path:
    """A PDF header followed by noise: the file claims to be a PDF but has no structure."""
    path = folder / "garbled.pdf"
    noise = random.Random(7).randbytes(20000)
    path.write_bytes(b"%PDF-1.7\n" + noise + b"\n%%EOF\n")
    return path


def make_random_bytes(folder: Path) -> Path:
    path = folder / "random.pdf"
    path.write_bytes(random.Random(11).randbytes(30000))
    return path


def make_html_as_pdf(folder: Path) -> Path:
    path = folder / "error-page.pdf"
    path.write_text(
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
        "<body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>"
    )
    return path


def make_zip_as_pdf(folder: Path) -> Path:
    path = folder / "archive.pdf"
    archive = shutil.make_archive(str(folder / "tmp-archive"), "zip", root_dir=HACKNEY_TXT.parent)
    os.replace(archive, path)
    return path


def make_encrypted_pdf(folder: Path) -> Path:
    path = folder / "encrypted.pdf"
    writer = PdfWriter(clone_from=PdfReader(SAMPLE))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_scanned_pdf(folder: Path) -> Path:
    """The first pages of a real report rendered to images: a PDF with no text layer."""
    path = folder / "scanned.pdf"
    source = pdfium.PdfDocument(str(SAMPLE))
    scanned = pdfium.PdfDocument.new()
    for index in range(3):
        page = source[index]
        width, height = page.get_size()
        image = pdfium.PdfImage.new(scanned)
        image.set_bitmap(page.render(scale=1))
        image.set_matrix(pdfium.PdfMatrix().scale(width, height))
        new_page = scanned.new_page(width, height)
        new_page.insert_obj(image)
        new_page.gen_content()
    scanned.save(str(path))
    return path


def make_press_article(folder: Path) -> Path:
    path = folder / PRESS_ARTICLE.name
    shutil.copy(PRESS_ARTICLE, path)
    return path


def make_other_ofsted_report(folder: Path) -> Path:
    path = folder / "school-inspection.txt"
    path.write_text(
        "School inspection report\n\nInspection dates: 4 and 5 March 2025\n\n"
        "The quality of education: Good\nBehaviour and attitudes: Good\n\n"
        "What is it like to attend this school?\n\nPupils enjoy coming to this school. "
        "They are polite and respectful, and leaders have high expectations of them.\n"
    )
    return path


def make_cp1252_copy(folder: Path) -> Path:
    """The Hackney report re-encoded as Windows-1252: it must still load."""
    path = folder / "hackney-cp1252.txt"
    text = HACKNEY_TXT.read_text(encoding="utf-8").replace("'", "’")
    path.write_bytes(text.encode("cp1252", errors="replace"))
    return path


def make_duplicate(folder: Path, of: Path = SAMPLE) -> Path:
    path = folder / f"{of.stem}_copy{of.suffix}"  # sorts after the original, which loads first
    shutil.copy(of, path)
    return path


def make_too_large(folder: Path, max_bytes: int) -> Path:
    path = folder / "huge.pdf"
    data = SAMPLE.read_bytes()
    path.write_bytes(data + b"%" * (max_bytes + 1 - len(data)))
    return path


def make_all_bad(folder: Path) -> dict[str, str | None]:
    """Make every kind of awkward input in `folder`: name → expected rejection reason (None: it loads)."""
    expected: dict[str, str | None] = {
        make_empty(folder).name: "empty",
        make_truncated_pdf(folder).name: "corrupt",
        make_garbled_pdf(folder).name: "corrupt",
        make_random_bytes(folder).name: "wrong_type",
        make_html_as_pdf(folder).name: "wrong_type",
        make_zip_as_pdf(folder).name: "wrong_type",
        make_encrypted_pdf(folder).name: "encrypted",
        make_scanned_pdf(folder).name: "scanned",
        make_press_article(folder).name: "not_a_report",
        make_other_ofsted_report(folder).name: "not_a_report",
        make_cp1252_copy(folder).name: None,
    }
    if (folder / SAMPLE.name).exists():
        expected[make_duplicate(folder).name] = "duplicate"
    return expected
