"""Terminal tables that fit, record blocks, bounded output, safe links."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from sendcorpus.queries.export import (
    MAX_TABLE_ROWS,
    export,
    heading,
    replaced_when_written,
    safe_url,
    terminal_table,
)


def test_long_values_are_cut_with_an_ellipsis_not_wrapped() -> None:
    frame = pl.DataFrame({"area": ["Hackney", "Bury"], "evidence": ["word " * 200, "short"]})
    text = terminal_table(frame, width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert sum("Hackney" in line for line in lines) == 1  # one line per record
    assert "…" in text and lines[-1] == "2 rows"


def test_a_result_too_wide_for_columns_is_printed_one_record_per_block() -> None:
    frame = pl.DataFrame({f"column_{number}": [number, number + 1] for number in range(20)})
    text = terminal_table(frame, width=80)
    assert text.count("-- record ") == 2
    assert "column_19" in text and all(len(line) <= 80 for line in text.splitlines())


def test_huge_results_are_capped_with_a_note() -> None:
    frame = pl.DataFrame({"n": range(300_000)})
    lines = terminal_table(frame, width=100).splitlines()
    assert len(lines) < MAX_TABLE_ROWS + 10
    assert lines[-1].startswith(f"showing the first {MAX_TABLE_ROWS} of 300000 rows")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://files.ofsted.gov.uk/v1/file/50256050", True),
        ("http://example.org/report.pdf", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("data:text/html,hi", False),
        ("https:no-host", False),
        (None, False),
    ],
)
def test_only_http_urls_become_links(url: str | None, safe: bool) -> None:
    assert (safe_url(url) is not None) == safe


def test_headings_for_people() -> None:
    assert heading("neighbours_share_low") == "Neighbours share low"
    assert heading("Reports in corpus (7 of 153 areas): share") == "Reports in corpus (7 of 153 areas): share"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_an_export_stopped_midway_leaves_the_previous_file(tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"result.{fmt}"
    export(pl.DataFrame({"n": [1]}), fmt, output)
    before = output.read_bytes()
    output.chmod(0o640)
    with pytest.raises(KeyboardInterrupt), replaced_when_written(output) as part:
        part.write_bytes(b"half a file")
        raise KeyboardInterrupt
    assert output.read_bytes() == before
    assert list(tmp_path.iterdir()) == [output]  # nothing left beside it
    export(pl.DataFrame({"n": [2, 3]}), fmt, output)
    assert output.read_bytes() != before
    assert output.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions
    assert list(tmp_path.iterdir()) == [output]


def test_a_new_export_gets_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        export(pl.DataFrame({"n": [1]}), "csv", tmp_path / "new.csv")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's owner-only 0o600


def test_workbook_numbers_show_no_trailing_point_and_shares_show_as_percentages(tmp_path: Path) -> None:
    import openpyxl

    from sendcorpus.queries.export import write_xlsx

    frame = pl.DataFrame({"area_value": [40.0, 0.0], "rate": [0.63, 13.088], "share": [0.2444, 0.5]})
    write_xlsx({"result": frame}, tmp_path / "x.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    # "0.###" showed 40 as "40." in Excel and LibreOffice
    assert [sheet.cell(2, column).number_format for column in (1, 2, 3)] == ["0", "0.0##", "0.0%"]


def test_percentages_round_halves_up() -> None:
    from sendcorpus.queries.present import percent, share_text

    assert [percent(3 / 8), percent(5 / 8), percent(0.0), percent(1.0)] == ["38%", "63%", "0%", "100%"]
    assert share_text(2, 7, 0.082, 0.641) == "29% 2/7 (8–64%)"


def test_figures_round_halves_up_however_the_float_is_stored() -> None:
    """37.55 is stored as 37.549999…, and `format(x, ".3g")` printed England's suspension rate as 37.5 and
    its permanent exclusion rate, 0.2345, as 0.234."""
    from sendcorpus.queries.numbers import decimals, plain_decimal, significant
    from sendcorpus.queries.table_text import plain

    assert [significant(x) for x in (37.55, 0.2345, 0.63, 150.25, 1234.5, 99.95, 0.0)] == [
        "37.6",
        "0.235",
        "0.63",
        "150",
        "1230",
        "100",
        "0",
    ]
    assert [decimals(x, 1) for x in (40.0, 64.65, 37.55)] == ["40.0", "64.7", "37.6"]
    assert [plain_decimal(x) for x in (3.3333333333333335, 2.0, 0.2345)] == ["3.333", "2", "0.235"]
    assert plain(0.2345) == "0.235" and plain(2.0) == "2"
