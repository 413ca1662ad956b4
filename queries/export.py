"""A query result written as a terminal table, CSV, JSON, Parquet, Excel, Markdown or an HTML table."""

from __future__ import annotations

import contextlib
import html
import os
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from sendcorpus.queries.table_text import MAX_TABLE_ROWS, plain, rows_table, terminal_width

__all__ = ["MAX_TABLE_ROWS", "terminal_width"]  # re-exported: callers and tests import them from here

TEXT_FORMATS = ("table", "csv", "json", "md", "html")
BINARY_FORMATS = ("parquet", "xlsx")
FORMATS = TEXT_FORMATS + BINARY_FORMATS
OUTCOME_LABELS = {
    "positive": "Positive experiences and outcomes",
    "inconsistent": "Inconsistent experiences and outcomes",
    "systemic_failings": "Widespread and/or systemic failings",
}
WRAPPED_COLUMNS = {"evidence", "text", "definition", "excludes", "detail", "note", "notes", "source"}
# columns holding a share (0-1), by their query name or their heading for people
PERCENT_SUFFIXES = ("_share", "_share_low", "_share_high", "coverage", ": share", "95% low", "95% high")


class ExportError(Exception):
    """The result cannot be written as asked; the message is one line for a person."""


@dataclass
class Block:
    """One table of a result as a person reads it: a title, the rows, and notes printed with it."""

    title: str
    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    sheet: str = "result"
    data: pl.DataFrame | None = None  # the numbers behind a table of text, which a workbook holds instead


def export(df: pl.DataFrame, fmt: str, output: Path | None) -> str | None:
    """Write `df` to `output` in `fmt`, or return the text when there is no output (text formats only)."""
    return export_blocks([Block("", df)], fmt, output, raw=df)


def export_blocks(
    blocks: Sequence[Block],
    fmt: str,
    output: Path | None,
    raw: pl.DataFrame | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> str | None:
    """Human formats (table, md, html, xlsx) show every block; csv, json and parquet write `raw`
    (the query's own columns), since they hold one table."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    raw = blocks[0].frame if raw is None else raw
    if fmt in BINARY_FORMATS:
        if output is None:
            raise ExportError(f"{fmt} is a binary format: give --output FILE")
        if fmt == "parquet":
            with replaced_when_written(output) as part:
                raw.write_parquet(part)
        else:
            # numbers a spreadsheet can compute with; the notes printed beside the tables go on "about"
            sheets = {block.sheet: block.frame if block.data is None else block.data for block in blocks}
            notes = [(block.title or block.sheet, note) for block in blocks for note in block.notes]
            write_xlsx(sheets, output, about=[*about, *notes])
        return None
    text = render(raw, fmt) if fmt in ("csv", "json") else render_blocks(blocks, fmt)
    if output is None:
        return text
    with replaced_when_written(output) as part:
        part.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return None


@contextlib.contextmanager
def replaced_when_written(output: Path) -> Iterator[Path]:
    """A new hidden file beside `output` to write; it takes the place of `output` only once written, so a
    failed or stopped write leaves what was there before (or nothing), never half a file. A symlink is
    written through (its target is replaced, the link kept); a device or pipe (/dev/null, a FIFO) cannot
    be replaced, so it is written to as it is."""
    if output.is_symlink():
        output = output.resolve()
    if output.exists() and not output.is_file() and not output.is_dir():
        yield output
        return
    _prepare(output)
    descriptor, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    os.close(descriptor)
    part = Path(name)
    try:
        yield part
        os.chmod(part, _mode_for(output))
        os.replace(part, output)
    finally:
        part.unlink(missing_ok=True)


def _mode_for(output: Path) -> int:
    """The permissions `output` has, or those a new file gets (mkstemp makes it owner-only)."""
    with contextlib.suppress(OSError):
        return output.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def render(df: pl.DataFrame, fmt: str) -> str:
    """A text format as a string."""
    if fmt == "csv":
        return flat(df).write_csv()
    if fmt == "json":
        return df.write_json()
    if fmt == "html":
        return html_table(df)
    if fmt == "md":
        return markdown_table(df)
    return terminal_table(df)


def render_blocks(blocks: Sequence[Block], fmt: str) -> str:
    parts = []
    for block in blocks:
        if fmt == "html":
            notes = "".join(f'<p class="note">{html.escape(note)}</p>' for note in block.notes)
            title = f"<h2>{html.escape(block.title)}</h2>" if block.title else ""
            parts.append(title + notes + html_table(block.frame))
        elif fmt == "md":
            title = [f"## {block.title}", ""] if block.title else []
            notes = [*(f"> {note}" for note in block.notes), ""] if block.notes else []
            parts.append("\n".join([*title, *notes, markdown_table(block.frame)]))
        else:
            lines = [block.title] if block.title else []
            lines += [textwrap.fill(note, terminal_width()) for note in block.notes]
            parts.append("\n".join([*lines, terminal_table(block.frame)]))
    return "\n\n".join(parts)


def terminal_table(df: pl.DataFrame, width: int | None = None) -> str:
    """A table that fits the terminal (see `table_text.rows_table`), from a frame."""
    shown = flat(df.head(MAX_TABLE_ROWS))
    numeric = [dtype.is_numeric() for dtype in df.dtypes]
    return rows_table(df.columns, numeric, list(shown.iter_rows()), df.height, width)


def markdown_table(df: pl.DataFrame) -> str:
    def cell(value: object) -> str:
        return plain(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(name) for name in df.columns) + " |",
        "| " + " | ".join("---:" if dtype.is_numeric() else "---" for dtype in df.dtypes) + " |",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in flat(df).iter_rows()]
    return "\n".join(lines)


def write_xlsx(sheets: dict[str, pl.DataFrame], output: Path, about: Sequence[tuple[str, str]] = ()) -> Path:
    """A workbook ready to share: one sheet per table with readable headings, outcome labels, shares as
    percentages, filters, frozen headings, fitted widths, wrapped long text and links to the source PDF
    page; plus an "about" sheet when `about` is given."""
    import xlsxwriter

    with replaced_when_written(output) as part, xlsxwriter.Workbook(str(part)) as workbook:
        styles = {
            "head": workbook.add_format(
                {"bold": True, "bg_color": "#F3F2F1", "bottom": 2, "text_wrap": True}
            ),
            "percent": workbook.add_format({"num_format": "0.0%"}),
            # "0.###" showed a whole number with a trailing point ("40."): whole columns get no decimals
            "number": workbook.add_format({"num_format": "0.0##"}),
            "whole": workbook.add_format({"num_format": "0"}),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "link": workbook.add_format({"font_color": "#1D70B8", "underline": 1}),
        }
        for name, frame in sheets.items():
            _sheet(workbook.add_worksheet(_sheet_name(name)), flat(frame), styles)
        if about:
            _sheet(
                workbook.add_worksheet("about"),
                pl.DataFrame(list(about), schema=["item", "value"], orient="row"),
                styles,
            )
    return output


def _sheet(sheet, frame: pl.DataFrame, styles: dict) -> None:  # type: ignore[no-untyped-def]
    links = _page_links(frame)
    frame = frame.with_columns(
        pl.col(name).replace_strict(OUTCOME_LABELS, default=pl.col(name))
        for name in frame.columns
        if name == "outcome" and frame.schema[name] == pl.String
    )
    for column, name in enumerate(frame.columns):
        sheet.write(0, column, heading(name), styles["head"])
        values = frame[name]
        dtype = frame.schema[name]
        style = None
        if dtype.is_float() and (name.lower() == "share" or name.lower().endswith(PERCENT_SUFFIXES)):
            style = styles["percent"]
        elif dtype.is_float():
            present = values.drop_nulls().drop_nans()
            whole = present.is_empty() or bool((present == present.round(0)).all())
            style = styles["whole" if whole else "number"]
        elif name in WRAPPED_COLUMNS:
            style = styles["wrap"]
        for row, value in enumerate(values.to_list(), start=1):
            url = links[row - 1] if name in ("file", "source_url") and links else None
            if url:
                sheet.write_url(row, column, url, styles["link"], string=str(value or url))
            elif value is None:
                sheet.write_blank(row, column, None, style)
            elif isinstance(value, bool):
                sheet.write_string(row, column, "yes" if value else "no")
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value, style)
            else:
                sheet.write_string(row, column, str(value), style)
        sheet.set_column(column, column, _width(name, values), style)
    if frame.width:
        sheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
        sheet.freeze_panes(1, 0)


def _page_links(frame: pl.DataFrame) -> list[str | None]:
    """Per row, the source PDF's link at the cited page; only http(s) addresses ever become links."""
    if "source_url" not in frame.columns:
        return []
    pages = frame["page"].to_list() if "page" in frame.columns else [None] * frame.height
    links = []
    for url, page in zip(frame["source_url"].to_list(), pages, strict=True):
        safe = safe_url(url)
        links.append(f"{safe}#page={page}" if safe and page else safe)
    return links


def safe_url(url: object) -> str | None:
    """The address when it is an http(s) URL, else None: a `javascript:` or `file:` source stays text."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def heading(name: str) -> str:
    """'neighbours_share_low' -> 'Neighbours share low'; headings already written for people stay."""
    if name != name.lower() or " " in name:
        return name
    return name.replace("_", " ").strip().capitalize()


def _width(name: str, values: pl.Series) -> float:
    if name in WRAPPED_COLUMNS:
        return 80
    longest = values.cast(pl.String, strict=False).str.len_chars().max() if values.len() else 0
    return min(max(len(heading(name)) * 0.9, float(longest or 0) + 2, 8), 50)


def _sheet_name(name: str) -> str:
    for char in "[]:*?/\\":
        name = name.replace(char, " ")
    return name[:31]


def flat(df: pl.DataFrame) -> pl.DataFrame:
    """Lists as '; '-separated text, for formats with one value per cell."""
    lists = [name for name, dtype in df.schema.items() if isinstance(dtype, pl.List)]
    return df.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join("; ").alias(name) for name in lists
    )


def html_table(df: pl.DataFrame, caption: str | None = None) -> str:
    """An accessible HTML table (scoped header cells), values escaped."""
    rows = []
    head = "".join(f'<th scope="col">{html.escape(str(name))}</th>' for name in df.columns)
    numeric = [dtype.is_numeric() for dtype in df.dtypes]
    for row in flat(df).iter_rows():
        cells = "".join(
            f'<td class="num">{_cell(value)}</td>' if is_number else f"<td>{_cell(value)}</td>"
            for value, is_number in zip(row, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{caption_html}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object) -> str:
    return html.escape(plain(value))


def _prepare(output: Path) -> None:
    if output.is_dir():
        raise ExportError(f"{output} is a folder: give a file name")
    output.parent.mkdir(parents=True, exist_ok=True)
