"""The theme taxonomy as a table: id, label, definition and what it excludes."""

from __future__ import annotations

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
