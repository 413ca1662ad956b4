"""Input checks on the real shared files, and on bad files generated from them."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sendcorpus.extract.clean import clean_text
from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.text_file import decode_text
from sendcorpus.extract.validate import Rejected, check_file, check_parsed

from badfiles import (
    cp1252_text,
    make_all_bad,
    make_blank_text,
    make_broken_page_pdf,
    make_cp1252_copy,
    make_docx_as_pdf,
    make_empty,
    make_encrypted_pdf,
    make_garbled_pdf,
    make_html_as_pdf,
    make_image_as_pdf,
    make_latin_garbage,
    make_not_a_report,
    make_other_ofsted_report,
    make_owner_password_pdf,
    make_random_bytes,
    make_report_without_weaknesses,
    make_retitled_report,
    make_scanned_pdf,
    make_too_large,
    make_truncated_pdf,
    make_utf16_copy,
    make_zip_as_pdf,
)
from bigfiles import (
    make_huge_text,
    make_long_paragraph,
    make_long_word,
    make_many_items,
    make_many_pages_pdf,
    make_symbol_runs,
)
from conftest import HACKNEY_TXT, REPORTS

SHARED_PDFS = sorted(REPORTS.glob("*.pdf"))


def _check(path: Path) -> None:
    kind = check_file(path)
    check_parsed(parse_report(path), kind)


def test_every_shared_report_passes_both_checks() -> None:
    assert len(SHARED_PDFS) == 44
    for path in [*SHARED_PDFS, HACKNEY_TXT]:
        kind = check_file(path)
        assert kind == ("text" if path.suffix == ".txt" else "pdf"), path.name
        check_parsed(parse_report(path), kind)


def test_checking_the_files_is_fast() -> None:
    started = time.perf_counter()
    for path in SHARED_PDFS:
        check_file(path)
    assert time.perf_counter() - started < 1.0  # ≈ 0.03 s measured


@pytest.mark.parametrize(
    ("make", "reason", "phrase"),
    [
        (make_empty, "empty", "the file is empty (0 bytes)"),
        (make_blank_text, "empty", "only white space"),
        (make_truncated_pdf, "corrupt", "the PDF is truncated"),
        (make_garbled_pdf, "corrupt", "the PDF is damaged and cannot be opened"),
        (make_broken_page_pdf, "corrupt", "page 8 of 9 cannot be read"),
        (make_random_bytes, "wrong_type", "binary data saved with a .pdf name"),
        (
            make_html_as_pdf,
            "wrong_type",
            "looks like an HTML page saved with a .pdf name, probably an error page",
        ),
        (make_zip_as_pdf, "wrong_type", "a ZIP archive saved with a .pdf name"),
        (make_docx_as_pdf, "wrong_type", "a Word document (.docx)"),
        (make_image_as_pdf, "wrong_type", "a PNG image"),
        (make_encrypted_pdf, "encrypted", "password-protected"),
        (make_scanned_pdf, "scanned", "sendcorpus does not perform OCR"),
        (make_latin_garbage, "undecodable", "not UTF-8 and no legacy encoding"),
        (make_not_a_report, "not_a_report", "no 'Area SEND inspection of …' title"),
        (make_other_ofsted_report, "not_a_report", "looks like a school inspection report"),
        (make_retitled_report, "not_a_report", "an inspection of local authority children's services"),
        (
            make_report_without_weaknesses,
            "not_a_report",
            "no 'What does the area partnership need to do better?'",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_reason(
    make: Callable[[Path], Path], reason: str, phrase: str, tmp_path: Path
) -> None:
    path = make(tmp_path)
    with pytest.raises(Rejected) as caught:
        _check(path)
    assert (caught.value.reason, str(caught.value)) == (reason, caught.value.detail)
    assert phrase in caught.value.detail


def test_the_scanned_pdf_is_image_only_but_opens(tmp_path: Path) -> None:
    path = make_scanned_pdf(tmp_path)
    assert check_file(path) == "pdf"  # it is a good PDF: only the text layer is missing
    assert parse_report(path).n_words == 0


def test_size_cap(tmp_path: Path) -> None:
    path = make_too_large(tmp_path, max_bytes=1_000_000)
    with pytest.raises(Rejected) as caught:
        check_file(path, max_bytes=1_000_000)
    assert caught.value.reason == "too_large"
    assert caught.value.detail == (
        "the file is 976.6 KB (1,000,001 bytes), over the size cap of 976.6 KB (1,000,000 bytes)"
    )
    assert check_file(path) == "pdf"  # under the default cap it is a good PDF


def test_a_password_for_the_owner_only_does_not_stop_reading(tmp_path: Path) -> None:
    _check(make_owner_password_pdf(tmp_path))


def test_a_windows_1252_copy_of_a_real_report_loads_with_its_curly_quotes(tmp_path: Path) -> None:
    path = make_cp1252_copy(tmp_path)
    assert check_file(path) == "text"
    assert decode_text(path.read_bytes()) == cp1252_text()  # ’ – © • all decoded, no mojibake
    report = parse_report(path)
    check_parsed(report, "text")
    assert any("’" in item.text for item in report.items if item.section == "weakness")


def test_a_utf16_copy_of_a_real_report_loads(tmp_path: Path) -> None:
    path = make_utf16_copy(tmp_path)
    assert check_file(path) == "text"
    check_parsed(parse_report(path), "text")


@pytest.mark.parametrize(
    "text",
    [
        cp1252_text().replace(
            "The local authority commissions", "Its £2.5 million budget: the local authority commissions"
        ),
        "Children’s needs are identified. " * 5,
    ],
    ids=["report-with-pound-sign", "short-text"],
)
def test_windows_1252_wins_over_look_alike_code_pages(text: str) -> None:
    assert decode_text(text.encode("cp1252")) == text


def test_rejections_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(Rejected("empty", "the file is empty (0 bytes)")))
    assert (error.reason, error.detail, str(error)) == ("empty", "the file is empty (0 bytes)", error.detail)


def test_make_all_bad_describes_every_file_it_makes(tmp_path: Path) -> None:
    expected = make_all_bad(tmp_path)
    assert sorted(expected) == sorted(path.name for path in tmp_path.iterdir())
    for name, reason in expected.items():
        path = tmp_path / name
        if reason is None:
            _check(path)
            continue
        with pytest.raises(Rejected) as caught:
            _check(path)
        assert caught.value.reason == reason, name


# Work budgets: generated inputs far beyond any real report are rejected `too_complex`, quickly


def _reason_and_seconds(path: Path) -> tuple[str | None, float]:
    started = time.perf_counter()
    try:
        _check(path)
        reason = None
    except Rejected as error:
        reason = error.reason
    return reason, time.perf_counter() - started


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: make_long_paragraph(folder, 3_000_000),
        lambda folder: make_long_paragraph(folder, 1_500_000, wrap=80),
        lambda folder: make_long_word(folder, 50_000),
        lambda folder: make_symbol_runs(folder, runs=20, length=500),
        lambda folder: make_huge_text(folder, 49),
        lambda folder: make_many_pages_pdf(folder, 5_000),
    ],
    ids=[
        "3MB-paragraph",
        "1.5MB-wrapped-paragraph",
        "50k-symbol-word",
        "20-runs-of-500-symbols",
        "49MB-text",
        "5000-page-pdf",
    ],
)
def test_inputs_beyond_the_work_budget_are_too_complex(make: Callable[[Path], Path], tmp_path: Path) -> None:
    reason, seconds = _reason_and_seconds(make(tmp_path))
    assert reason == "too_complex"
    assert seconds < 10


def test_ten_thousand_tiny_items_are_within_budget(tmp_path: Path) -> None:
    path = make_many_items(tmp_path, 10_000)
    assert _reason_and_seconds(path)[0] is None
    assert len(parse_report(path).items) > 10_000


def test_the_too_complex_detail_names_the_item_and_its_size(tmp_path: Path) -> None:
    with pytest.raises(Rejected) as caught:
        _check(make_long_paragraph(tmp_path, 150_000))
    assert caught.value.detail.startswith(
        "item 1 of the strength section is 150,000 characters long, over the budget of 100,000"
    )


def test_cleaning_a_long_run_of_letters_is_linear() -> None:
    started = time.perf_counter()
    assert clean_text("a" * 200_000) == "a" * 200_000  # was 8 s for 20,000 letters
    assert time.perf_counter() - started < 1
