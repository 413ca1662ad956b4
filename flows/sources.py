"""What to ingest: the registry in seeds/, or files and folders given on the command line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from sendcorpus.seeds.build_registry import REGISTRY

MANIFEST = "manifest.csv"


@dataclass
class InputFile:
    """One report to ingest: a local file, or a URL still to fetch."""

    name: str
    path: Path | None = None
    url: str | None = None
    expected_sha256: str | None = None
    published: date | None = None
    la_code: str | None = None
    sha256: str | None = field(default=None, compare=False)


def registry_inputs(mirror: Path | None, registry: Path = REGISTRY) -> list[InputFile]:
    """Every registry report, taken from the mirror folder when a file there has the expected bytes."""
    inputs = []
    for row in _read_provenance(registry).values():
        candidate = mirror / row.name if mirror else None
        if candidate and candidate.is_file() and sha256_of(candidate) == row.expected_sha256:
            row.path = candidate
        inputs.append(row)
    return inputs


def source_inputs(sources: list[Path]) -> list[InputFile]:
    """Files, or every file in a folder; a manifest.csv beside them adds provenance."""
    inputs: list[InputFile] = []
    for source in sources:
        if source.is_dir():
            files = sorted(p for p in source.iterdir() if p.is_file() and _is_candidate(p))
            folder = source
        elif source.is_file():
            files, folder = [source], source.parent
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
        provenance = _manifest_beside(folder)
        for path in files:
            item = InputFile(name=path.name, path=path)
            known = provenance.get(path.name)
            if known:
                add_provenance(item, known)
            inputs.append(item)
    return inputs


def add_provenance(item: InputFile, known: InputFile) -> None:
    item.url, item.published, item.la_code = known.url, known.published, known.la_code
    item.expected_sha256 = known.expected_sha256


def registry_by_sha256(registry: Path = REGISTRY) -> dict[str, InputFile]:
    """The registry keyed by content, so a report given by path still gets its URL and codes."""
    return {row.expected_sha256: row for row in _read_provenance(registry).values() if row.expected_sha256}


def _manifest_beside(folder: Path) -> dict[str, InputFile]:
    """A manifest.csv in the folder, or one level up (a `reports/` folder beside its manifest)."""
    for candidate in (folder / MANIFEST, folder.parent / MANIFEST):
        if candidate.is_file():
            return _read_provenance(candidate)
    return {}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_candidate(path: Path) -> bool:
    return path.name != MANIFEST and not path.name.startswith(".")


def _read_provenance(csv: Path) -> dict[str, InputFile]:
    frame = pl.read_csv(csv, infer_schema=False)
    rows = {}
    for row in frame.iter_rows(named=True):
        published = row.get("published")
        la_code = row.get("la_code")
        rows[row["file"]] = InputFile(
            name=row["file"],
            url=row.get("source_url") or None,
            expected_sha256=(row.get("sha256") or None),
            published=date.fromisoformat(published) if published else None,
            la_code=la_code.zfill(3) if la_code else None,
        )
    return rows
