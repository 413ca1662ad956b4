"""Input checks on real files and on bad files generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.validate import Rejected, check_file, check_parsed

from badfiles import (
    make_cp1252_copy,
    make_empty,
    make_encrypted_pdf,
    make_garbled_pdf,
    make_html_as_pdf,
    make_other_ofsted_report,
    make_press_article,
    make_random_bytes,
    make_scanned_pdf,
    make_too_large,
    make_truncated_pdf,
    make_zip_as_pdf,
)
from conftest import HACKNEY_TXT, REPORTS


def _check(path: Path, max_bytes: int | None = None) -> None:
    kind = check_file(path) if max_bytes is None else check_file(path, max_bytes=max_bytes)
    check_parsed(parse_report(path), kind)


def test_every_shared_report_passes() -> None:
    for path in [*sorted(REPORTS.glob("*.pdf")), HACKNEY_TXT]:
        _check(path)


@pytest.mark.parametrize(
    ("make", "reason", "phrase"),
    [
        (make_empty, "empty", "empty"),
        (make_truncated_pdf, "corrupt", "truncated"),
        (make_garbled_pdf, "corrupt", "damaged"),
        (make_random_bytes, "wrong_type", "not a PDF"),
        (make_html_as_pdf, "wrong_type", "HTML page saved with a .pdf name"),
        (make_zip_as_pdf, "wrong_type", "ZIP archive"),
        (make_encrypted_pdf, "encrypted", "password-protected"),
        (make_scanned_pdf, "scanned", "does not perform OCR"),
        (make_press_article, "not_a_report", "not an area SEND inspection report"),
        (make_other_ofsted_report, "not_a_report", "a school inspection report"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(make, reason: str, phrase: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(Rejected) as caught:
        _check(path)
    assert caught.value.reason == reason
    assert phrase in caught.value.detail


def test_size_cap(tmp_path: Path) -> None:
    path = make_too_large(tmp_path, max_bytes=1_000_000)
    with pytest.raises(Rejected) as caught:
        check_file(path, max_bytes=1_000_000)
    assert caught.value.reason == "too_large"
    assert "over the 1 MB size cap" in caught.value.detail


def test_a_windows_1252_copy_of_a_real_report_still_loads(tmp_path: Path) -> None:
    path = make_cp1252_copy(tmp_path)
    assert check_file(path) == "text"
    report = parse_report(path)
    check_parsed(report, "text")
    weakness = next(item for item in report.items if item.section == "weakness")
    assert "leaders’ " in weakness.text.lower() or "’" in weakness.text  # curly quotes decoded, not mojibake
    assert "â€" not in weakness.text


def test_text_that_is_not_utf8_nor_a_code_page_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(128, 256)) * 50)
    with pytest.raises(Rejected) as caught:
        check_file(path)
    assert caught.value.reason in {"undecodable", "wrong_type"}
