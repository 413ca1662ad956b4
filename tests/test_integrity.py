"""Inputs that are well-formed but not one whole report as planned: several reports in one file, repeated
pages, a file replaced while a run reads it, duplicates of rejected files, text in UTF-16 without a BOM."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader, PdfWriter

from sendcorpus.extract import validate
from sendcorpus.extract.layout import Line, Page
from sendcorpus.extract.parse import drop_repeated_pages, parse_pages, parse_report
from sendcorpus.extract.text_file import decode_text
from sendcorpus.extract.validate import Rejected, check_file, check_parsed
from sendcorpus.flows import ingest as ingest_flow
from sendcorpus.flows.analyse import analyse_report
from sendcorpus.flows.ingest import ingest
from sendcorpus.flows.plan import Planner, plan_before_flow
from sendcorpus.flows.sources import InputFile, sha256_of
from sendcorpus.warehouse.load import EMPTY_STATE, Rejection, ReportRecord

from badfiles import make_duplicate, make_scanned_pdf
from conftest import HACKNEY_TXT, REPORTS


def _check(path: Path) -> None:
    kind = check_file(path)
    check_parsed(parse_report(path), kind)


def _rejection(path: Path) -> Rejection:
    """What the analysis stage makes of the file, as planned now."""
    result = analyse_report(InputFile(name=path.name, path=path, sha256=sha256_of(path)))
    assert isinstance(result, Rejection), f"{path.name} was not rejected"
    return result


def make_merged_pdf(folder: Path, *names: str) -> Path:
    """Real reports appended into one PDF, as a PDF tool's 'combine files' makes them."""
    path = folder / "combined.pdf"
    writer = PdfWriter()
    for name in names:
        writer.append(PdfReader(REPORTS / name))
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_pages_pdf(folder: Path, name: str, pages: list[int]) -> Path:
    """A real report with its pages in the order given (1-based), some of them repeated."""
    path = folder / f"{Path(name).stem}-pages.pdf"
    reader = PdfReader(REPORTS / name)
    writer = PdfWriter()
    for number in pages:
        writer.add_page(reader.pages[number - 1])
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _record(path: Path) -> ReportRecord:
    result = analyse_report(InputFile(name=path.name, path=path, sha256=sha256_of(path)))
    assert isinstance(result, ReportRecord), result
    return result


# Several reports in one file


def test_two_reports_appended_into_one_pdf_are_rejected_naming_both(tmp_path: Path) -> None:
    rejection = _rejection(make_merged_pdf(tmp_path, "bury.pdf", "dorset.pdf"))
    assert rejection.reason == "several_reports"
    assert rejection.detail == (
        "the file holds 2 reports, not one: Bury (page 1) and Dorset (page 13); "
        "split it into one file per report"
    )


def test_three_reports_in_one_pdf_are_all_named(tmp_path: Path) -> None:
    with pytest.raises(Rejected) as caught:
        _check(make_merged_pdf(tmp_path, "rutland.pdf", "bury.pdf", "halton.pdf"))
    assert caught.value.reason == "several_reports"
    assert "3 reports, not one: Rutland (page 1), Bury (page 8) and Halton (page 20)" in caught.value.detail


def test_a_text_report_pasted_twice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "hackney-twice.txt"
    text = HACKNEY_TXT.read_text(encoding="utf-8")
    path.write_text(f"{text}\n\n{text}", encoding="utf-8")
    with pytest.raises(Rejected) as caught:
        _check(path)
    assert (caught.value.reason, caught.value.detail) == (
        "several_reports",
        "the file holds 2 reports, not one: Hackney and Hackney; split it into one file per report",
    )


def test_a_second_report_whose_title_is_missing_is_found_by_its_header() -> None:
    report = parse_report(REPORTS / "rutland.pdf")
    header = [Line("Inspection dates: 11 to 15 March 2024", 8, gap_before=True), Line("The local area", 8)]
    second = Page(number=len(report.pages) + 1, lines=header + report.pages[1].lines)
    with pytest.raises(Rejected) as caught:
        check_parsed(parse_pages([*report.pages, second]), "pdf")
    assert "Rutland (page 1) and an untitled report (page 8)" in caught.value.detail


def test_one_real_report_has_one_title_on_its_first_page() -> None:
    """The 44 PDFs and the Hackney text pass `check_parsed` (test_validate); here, why: one title each."""
    for path in [REPORTS / "bury.pdf", REPORTS / "dorset.pdf", HACKNEY_TXT]:
        report = parse_report(path)
        assert [(title, page) for title, page in report.titles] == [(report.heading, 1)], path.name


# Repeated pages


def test_repeated_pages_are_dropped_and_the_report_is_partial(tmp_path: Path) -> None:
    real = _record(REPORTS / "halton.pdf")
    doubled = _record(make_pages_pdf(tmp_path, "halton.pdf", [1, 2, 2, 3, 4, 4, 5, 6, 7, 8]))
    assert real.completeness == "complete"
    assert doubled.completeness == "partial: page 3 repeats page 2; page 6 repeats page 5"
    for table in ("items", "item_themes", "figures", "fact_evidence"):
        assert len(doubled.rows[table]) == len(real.rows[table]), table
    assert [item["text"] for item in doubled.rows["items"]] == [item["text"] for item in real.rows["items"]]
    assert [page["page"] for page in doubled.rows["pages"]] == [1, 2, 4, 5, 7, 8, 9, 10]  # the file's pages
    assert doubled.n_pages == real.n_pages == 8
    assert doubled.facts == real.facts


def test_a_report_appended_to_itself_loads_once_and_says_so(tmp_path: Path) -> None:
    """Every page of the second copy repeats one of the first: what is left is one whole report."""
    twice = make_merged_pdf(tmp_path, "rutland.pdf", "rutland.pdf")
    record = _record(twice)
    assert record.completeness == "partial: pages 8–14 repeat pages 1–7"
    assert len(record.rows["items"]) == len(_record(REPORTS / "rutland.pdf").rows["items"])


def test_short_pages_may_repeat() -> None:
    """A blank page or 'This page is intentionally left blank' twice is no sign of a page saved twice."""
    blank = "This page is intentionally left blank."
    pages = [Page(number, [Line(text, number)]) for number, text in enumerate([blank, "x " * 30, blank], 1)]
    kept, repeated = drop_repeated_pages(pages)
    assert (len(kept), repeated) == (3, [])


# A file replaced while a run reads it


def _planned(path: Path) -> InputFile:
    plan = Planner(EMPTY_STATE, rebuild=False).add([InputFile(name=path.name, path=path)])
    assert [item.path for item in plan.todo] == [path]
    return plan.todo[0]


def test_a_file_replaced_after_planning_is_rejected_changed(tmp_path: Path) -> None:
    path = tmp_path / "rutland.pdf"
    shutil.copy(REPORTS / "rutland.pdf", path)
    planned = _planned(path)
    shutil.copy(REPORTS / "halton.pdf", path)
    result = analyse_report(planned)
    assert isinstance(result, Rejection)
    assert (result.file, result.sha256, result.reason) == (
        "rutland.pdf",
        sha256_of(REPORTS / "rutland.pdf"),
        "changed",
    )
    assert result.detail.startswith("the file changed while this run read it (sha256 ")
    assert result.detail.endswith("now); run ingest again to load it as it is now")


def test_a_file_replaced_while_it_is_read_is_rejected_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rutland.pdf"
    shutil.copy(REPORTS / "rutland.pdf", path)
    planned = _planned(path)
    check_file = validate.check_file

    def check_then_replace(checked: Path) -> str:
        kind = check_file(checked)
        shutil.copy(REPORTS / "halton.pdf", checked)  # between the checks and the reading
        return kind

    monkeypatch.setattr(validate, "check_file", check_then_replace)
    result = analyse_report(planned)
    assert isinstance(result, Rejection) and result.reason == "changed"


def test_a_file_removed_after_planning_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "rutland.pdf"
    shutil.copy(REPORTS / "rutland.pdf", path)
    planned = _planned(path)
    path.unlink()
    result = analyse_report(planned)
    assert isinstance(result, Rejection)
    assert (result.reason, result.detail) == (
        "unreadable",
        "the file cannot be read any more (No such file or directory): was it removed?",
    )


def test_the_ingest_flow_rejects_a_file_replaced_after_its_plan_and_loads_it_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow plans, then runs the plan: the file is replaced in between, deterministically."""
    folder = tmp_path / "reports"
    folder.mkdir()
    path = folder / "rutland.pdf"
    shutil.copy(REPORTS / "rutland.pdf", path)
    run_plan = ingest_flow._run_plan

    def replace_then_run(plan, *args):  # type: ignore[no-untyped-def]
        shutil.copy(REPORTS / "halton.pdf", path)
        return run_plan(plan, *args)

    monkeypatch.setattr(ingest_flow, "_run_plan", replace_then_run)
    db = tmp_path / "changed.duckdb"
    first = ingest(db=db, sources=[folder], use_registry=False, workers=1)
    assert (first.new, first.rejected) == (0, 1)
    assert first.rejections[0].reason == "changed"
    monkeypatch.undo()
    second = ingest(db=db, sources=[folder], use_registry=False, workers=1)
    assert (second.new, second.rejected) == (1, 0)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT file, sha256, local_authority FROM reports").fetchall() == [
            ("rutland.pdf", sha256_of(REPORTS / "halton.pdf"), "Halton")
        ]
        assert con.execute("SELECT count(*) FROM corpus.rejected").fetchone() == (0,)
    finally:
        con.close()


# Duplicates of a rejected file


def test_a_duplicate_of_a_rejected_file_is_rejected_for_its_reason_in_this_run_and_the_next(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    scanned = make_scanned_pdf(folder)
    copy = make_duplicate(folder, of=scanned)
    shutil.copy(REPORTS / "rutland.pdf", folder / "rutland.pdf")
    make_duplicate(folder, of=folder / "rutland.pdf")
    db = tmp_path / "duplicates.duckdb"
    summary = ingest(db=db, sources=[folder], use_registry=False, workers=1)
    assert (summary.new, summary.duplicate, summary.rejected) == (1, 2, 1)
    details = {rejection.file: (rejection.reason, rejection.detail) for rejection in summary.rejections}
    reason, detail = details[scanned.name]
    assert reason == "scanned"
    assert details[copy.name] == (
        "duplicate",
        f"same content as {scanned.name}, so rejected for the same reason (scanned): {detail}",
    )
    assert details["rutland_copy.pdf"] == ("duplicate", "same content as rutland.pdf, which is loaded once")
    con = duckdb.connect(str(db), read_only=True)
    try:
        recorded = dict(con.execute("SELECT file, detail FROM rejected").fetchall())
    finally:
        con.close()
    assert recorded == {name: detail for name, (_, detail) in details.items()}
    # the next run knows the scanned file is rejected, reads nothing and says the same
    plan, again = plan_before_flow(db, [folder], None, None, rebuild=False)
    assert plan.nothing_to_do and again is not None
    assert sorted(again.rejections, key=lambda r: r.file) == sorted(summary.rejections, key=lambda r: r.file)


# Where the title is


def test_the_local_authority_cites_the_page_its_title_is_on(tmp_path: Path) -> None:
    path = tmp_path / "rutland-with-cover.pdf"
    writer = PdfWriter(clone_from=PdfReader(REPORTS / "rutland.pdf"))
    writer.insert_blank_page(index=0)
    with path.open("wb") as handle:
        writer.write(handle)
    cited = {row["field"]: row["page"] for row in _record(path).rows["fact_evidence"]}
    assert cited["local_authority"] == 2
    assert cited["inspection_start"] == 2


# UTF-16 without a byte-order mark


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_text_without_a_byte_order_mark_is_decoded_and_loads(encoding: str, tmp_path: Path) -> None:
    text = HACKNEY_TXT.read_text(encoding="utf-8")
    path = tmp_path / f"hackney-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    assert check_file(path) == "text"
    assert decode_text(path.read_bytes()) == text
    report = parse_report(path)
    check_parsed(report, "text")
    assert report.heading == parse_report(HACKNEY_TXT).heading


def test_utf16_text_cut_short_says_so(tmp_path: Path) -> None:
    path = tmp_path / "hackney-utf16-cut.txt"
    path.write_bytes(HACKNEY_TXT.read_text(encoding="utf-8").encode("utf-16-le")[:-1])
    with pytest.raises(Rejected) as caught:
        check_file(path)
    assert (caught.value.reason, caught.value.detail) == (
        "undecodable",
        "the text looks like UTF-16-LE without a byte-order mark (every other byte is NUL) but does not "
        "decode as such (cut short?): save it again as UTF-8",
    )
