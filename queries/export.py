"""A query result written as a terminal table, CSV, JSON, Parquet, Excel, Markdown or an HTML table."""

from __future__ import annotations

import html
import io
import shutil
from pathlib import Path

import polars as pl

TEXT_FORMATS = ("table", "csv", "json", "md", "html")
BINARY_FORMATS = ("parquet", "xlsx")
FORMATS = TEXT_FORMATS + BINARY_FORMATS


class ExportError(Exception):
    """The result cannot be written as asked; the message is one line for a person."""


def export(df: pl.DataFrame, fmt: str, output: Path | None) -> str | None:
    """Write `df` to `output` in `fmt`, or return the text when there is no output (text formats only)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if fmt in BINARY_FORMATS:
        if output is None:
            raise ExportError(f"{fmt} is a binary format: give --output FILE")
        _prepare(output)
        if fmt == "parquet":
            df.write_parquet(output)
        else:
            write_xlsx({"result": df}, output)
        return None
    text = render(df, fmt)
    if output is None:
        return text
    _prepare(output)
    output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return None


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


def terminal_table(df: pl.DataFrame) -> str:
    """A readable table for the terminal: long text wraps inside its column instead of being cut."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, caption=f"{df.height} rows", caption_justify="left")
    width = max(shutil.get_terminal_size((160, 40)).columns, 80)
    # keep headings whole when they fit side by side; the values wrap instead
    whole_headings = sum(len(name) + 3 for name in df.columns) <= width
    numeric = [dtype.is_numeric() for dtype in df.dtypes]
    for name, is_number in zip(df.columns, numeric, strict=True):
        table.add_column(
            name,
            justify="right" if is_number else "left",
            overflow="fold",
            min_width=len(name) if whole_headings else None,
        )
    for row in flat(df).iter_rows():
        table.add_row(*(_plain(value) for value in row))
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip()


def markdown_table(df: pl.DataFrame) -> str:
    def cell(value: object) -> str:
        return _plain(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(name) for name in df.columns) + " |",
        "| " + " | ".join("---:" if dtype.is_numeric() else "---" for dtype in df.dtypes) + " |",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in flat(df).iter_rows()]
    return "\n".join(lines)


def write_xlsx(sheets: dict[str, pl.DataFrame], output: Path) -> Path:
    """One worksheet per table, with a header row, filters and frozen headings."""
    import xlsxwriter

    _prepare(output)
    with xlsxwriter.Workbook(str(output)) as workbook:
        for name, frame in sheets.items():
            flat(frame).write_excel(
                workbook,
                worksheet=name[:31],
                autofit=True,
                autofilter=True,
                freeze_panes=(1, 0),
                float_precision=3,
                table_style="Table Style Light 9",
            )
    return output


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
    return html.escape(_plain(value))


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _prepare(output: Path) -> None:
    if output.is_dir():
        raise ExportError(f"{output} is a folder: give a file name")
    output.parent.mkdir(parents=True, exist_ok=True)
