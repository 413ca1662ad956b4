"""The pipeline version stored with each report: light to compute, so planning needs no NLP imports."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from sendcorpus import __version__


@cache
def pipeline_version() -> str:
    """The package version plus a digest of the extraction code and patterns: a change to either
    makes every report count as changed, so the next run reprocesses it."""
    digest = hashlib.sha256()
    root = resources.files("sendcorpus.extract")
    for entry in sorted(_files(root), key=lambda e: e.name):
        digest.update(entry.name.encode())
        digest.update(entry.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"


def _files(root: Traversable) -> Iterator[Traversable]:
    for entry in root.iterdir():
        if entry.name.startswith("."):  # e.g. a model `train` was writing when it was stopped
            continue
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _files(entry)
        elif entry.name.endswith((".py", ".jsonl", ".json", ".yaml")):
            yield entry
