"""Write `seeds/reports.csv`, the project's registry of reports to ingest, from the shared manifest.

Facts only (authority, codes, region, Ofsted URL, publication date, sha256), never the PDFs. A publication
date the manifest leaves blank is taken from the list of published reports (`published_reports.csv`, by
the report's URL) when that has it.
Run: python -m sendcorpus.seeds.build_registry [--manifest PATH] [--published PATH] [--output PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from sendcorpus.settings import shared_dir

REGISTRY = Path(__file__).with_name("reports.csv")
COLUMNS = ["file", "local_authority", "la_code", "ons_code", "region", "source_url", "published", "sha256"]


def build_registry(manifest: Path, output: Path = REGISTRY, published: Path | None = None) -> pl.DataFrame:
    registry = pl.read_csv(manifest, infer_schema=False).select(COLUMNS)
    if published is not None and published.is_file():
        listed = pl.read_csv(published, infer_schema=False).select(
            "source_url", pl.col("published").alias("listed")
        )
        registry = (
            registry.join(listed.unique("source_url"), on="source_url", how="left")
            .with_columns(pl.coalesce("published", "listed").alias("published"))
            .select(COLUMNS)
        )
    registry = registry.with_columns(pl.col("la_code").str.zfill(3)).sort("file")
    registry.write_csv(output)
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, default=shared_dir() / "corpus" / "manifest.csv")
    parser.add_argument(
        "--published", type=Path, default=shared_dir() / "reference" / "published_reports.csv"
    )
    parser.add_argument("--output", type=Path, default=REGISTRY)
    args = parser.parse_args()
    registry = build_registry(args.manifest, output=args.output, published=args.published)
    print(f"wrote {len(registry)} reports to {args.output}")


if __name__ == "__main__":
    main()
