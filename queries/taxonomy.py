"""The theme taxonomy as a table: id, label, definition and what it excludes."""

from __future__ import annotations

import textwrap

import polars as pl
import yaml

from sendcorpus.warehouse.reference import THEMES


def taxonomy() -> pl.DataFrame:
    """One row per theme of the packaged themes.yaml, in its order."""
    themes = yaml.safe_load(THEMES.read_text(encoding="utf-8"))["themes"]
    return pl.DataFrame(
        [
            {
                "id": theme["id"],
                "label": theme["label"],
                "definition": theme.get("definition", ""),
                "excludes": theme.get("excludes", ""),
            }
            for theme in themes
        ],
        schema={"id": pl.String, "label": pl.String, "definition": pl.String, "excludes": pl.String},
    )


def taxonomy_text(width: int) -> str:
    """The taxonomy for a terminal: id and label on one line, the definition wrapped under it."""
    blocks = []
    for theme in taxonomy().iter_rows(named=True):
        lines = [f"{theme['id']}  {theme['label']}"]
        lines += textwrap.wrap(theme["definition"], width, initial_indent="    ", subsequent_indent="    ")
        if theme["excludes"]:
            lines += textwrap.wrap(
                f"Excludes: {theme['excludes']}", width, initial_indent="    ", subsequent_indent="    "
            )
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + f"\n{len(blocks)} themes"
