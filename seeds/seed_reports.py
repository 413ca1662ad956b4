"""Provenance of the plain-text seed reports (`seed_reports.csv`): the Ofsted URL and publication date of
the PDF each text was taken from (from ../shared/reference/published_reports.csv), so their quotes can be
cited like any PDF's. The sha256 is the seed text's: provenance is only attached to that exact text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from sendcorpus.flows.sources import InputFile, sha256_of

SEED_REPORTS = Path(__file__).with_name("seed_reports.csv")


def seed_inputs(paths: list[Path], provenance: Path = SEED_REPORTS) -> list[InputFile]:
    """Each seed file ready to ingest, with its URL, publication date and area when the bytes match."""
    known = {row["file"]: row for row in pl.read_csv(provenance, infer_schema=False).iter_rows(named=True)}
    inputs = []
    for path in paths:
        item = InputFile(name=path.name, path=path)
        row = known.get(path.name)
        if row and row["sha256"] == sha256_of(path):
            item.url, item.la_code = row["source_url"], row["la_code"]
            item.published = date.fromisoformat(row["published"])
        inputs.append(item)
    return inputs
