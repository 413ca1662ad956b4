"""A result as a terminal table from plain rows (names, which columns are numbers, tuples of values).

Free of Polars and pyarrow on purpose: `sendcorpus sql "select 1"` prints through this module alone,
so a small ad-hoc query pays for neither import (≈ 0.3 s and ≈ 100 MB together).
"""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Sequence

from sendcorpus.queries.numbers import plain_decimal

# A terminal shows this many rows at most; rendering is linear in rows, a person reads only the top.
MAX_TABLE_ROWS = 500
# Narrower than this per column and a table is printed one record per block instead.
MIN_COLUMN_WIDTH = 9
# DuckDB's type names (as in a cursor's description) of columns shown right-aligned
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)


def terminal_width() -> int:
    return max(shutil.get_terminal_size((160, 40)).columns, 60)


def is_numeric_type(duckdb_type: str) -> bool:
    return duckdb_type.split("(", 1)[0].strip().upper() in NUMERIC_TYPES


def rows_table(
    names: Sequence[str],
    numeric: Sequence[bool],
    rows: Sequence[Sequence[object]],
    total: int,
    width: int | None = None,
) -> str:
    """A table that fits the terminal: long values are cut with an ellipsis, never wrapped; a result too
    wide for that is printed one record per block. `rows` are the first rows (at most MAX_TABLE_ROWS)
    of `total`; a note says how many there are."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    width = width or terminal_width()
    shown = [[flat_value(value) for value in row] for row in rows[:MAX_TABLE_ROWS]]
    note = f"{total} rows" if total != 1 else "1 row"
    if total > MAX_TABLE_ROWS:
        note = (
            f"showing the first {MAX_TABLE_ROWS} of {total} rows; "
            "use --format csv or --output FILE for all of them"
        )
    cells = [[one_line(plain(value)) for value in row] for row in shown]
    widths = _fit_widths(names, cells, width)
    if widths is None:
        return _records(names, shown, width) + "\n" + textwrap.fill(note, width)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, is_number, column_width in zip(names, numeric, widths, strict=True):
        table.add_column(
            name,
            justify="right" if is_number else "left",
            overflow="ellipsis",
            no_wrap=True,
            width=column_width,
        )
    for row in cells:
        table.add_row(*row)
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip() + "\n" + textwrap.fill(note, width)


def flat_value(value: object) -> object:
    """A list as '; '-separated text (as `export.flat` does for a frame), for one value per cell."""
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value if item is not None)
    return value


def _fit_widths(names: Sequence[str], cells: list[list[str]], width: int) -> list[int] | None:
    """Each column's width so the table fits `width`: the widest columns give way first, none below
    MIN_COLUMN_WIDTH (or its own width, if smaller); None when even that does not fit."""
    natural = [max([len(name), *(len(row[index]) for row in cells)]) for index, name in enumerate(names)]
    floor = [min(size, MIN_COLUMN_WIDTH) for size in natural]
    room = width - 3 * len(names)  # rich's padding and the column separators
    if sum(floor) > room:
        return None
    widths = list(natural)
    excess = sum(widths) - room
    while excess > 0:
        widest = max(range(len(widths)), key=lambda index: widths[index] - floor[index])
        give = min(excess, widths[widest] - floor[widest], max(1, excess // 4))
        widths[widest] -= give
        excess -= give
    return widths


def _records(names: Sequence[str], rows: Sequence[Sequence[object]], width: int) -> str:
    """One record per block, `column  value`, each value on one line cut to the terminal's width."""
    key_width = min(max((len(name) for name in names), default=0), width // 3)
    room = max(width - key_width - 2, 10)
    blocks = []
    for number, row in enumerate(rows, start=1):
        lines = [f"-- record {number} " + "-" * max(0, min(width, 40) - 12 - len(str(number)))]
        for name, value in zip(names, row, strict=True):
            lines.append(f"{cut(name, key_width):<{key_width}}  {cut(one_line(plain(value)), room)}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return plain_decimal(value) if value != int(value) else str(int(value))
    return str(value)


def one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text or "\t" in text else text


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
