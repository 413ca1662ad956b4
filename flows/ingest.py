"""The Prefect flow `ingest`: resolve/fetch → text per page → clean → segment → extract → load.

Tasks are coarse (one per stage over the whole batch): Prefect's per-task overhead makes a
task per report or per item slower than the work itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, task

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.layout import Page, ParsedReport
from sendcorpus.extract.parse import parse_pages, read_file_pages
from sendcorpus.extract.pdf_text import PdfError
from sendcorpus.extract.text_file import TextDecodeError
from sendcorpus.extract.validate import Rejected, check_file, check_parsed
from sendcorpus.flows.fetch import FetchError, fetch_report
from sendcorpus.flows.progress import track
from sendcorpus.flows.records import build_records, pipeline_version
from sendcorpus.flows.sources import (
    InputFile,
    add_provenance,
    registry_by_sha256,
    registry_inputs,
    sha256_of,
    source_inputs,
)
from sendcorpus.seeds.build_registry import REGISTRY
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.load import ReportRecord, load_report, loaded_reports, record_rejection
from sendcorpus.warehouse.reference import build_search_index, load_local_authorities, load_themes


@dataclass
class Rejection:
    file: str
    sha256: str | None
    reason: str
    detail: str


@dataclass
class Work:
    """One input on its way through the stages."""

    source: InputFile
    kind: str = ""
    pages: list[Page] = field(default_factory=list)
    parsed: ParsedReport | None = None


@dataclass
class RunSummary:
    new: int = 0
    unchanged: int = 0
    duplicate: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"ingest: {self.new} new, {self.unchanged} unchanged, {self.duplicate} duplicate, "
            f"{self.rejected} rejected in {self.seconds:.1f} s"
        )


@task(name="resolve and fetch")
def resolve_inputs(
    sources: list[Path], registry: Path | None, mirror: Path | None, cache: Path
) -> tuple[list[InputFile], list[Rejection]]:
    inputs = source_inputs(sources) if sources else []
    if registry is not None:
        inputs = registry_inputs(mirror, registry) + inputs
    ready, rejections = [], []
    for item in track(inputs, "fetching"):
        if item.rejection:
            rejections.append(Rejection(item.name, item.sha256, *item.rejection))
            continue
        if item.path is None:
            if not item.url:
                rejections.append(Rejection(item.name, None, "missing", "no local copy and no URL to fetch"))
                continue
            try:
                item.path = fetch_report(item.url, item.expected_sha256, cache)
            except FetchError as error:
                rejections.append(Rejection(item.name, item.expected_sha256, "download_failed", error.detail))
                continue
        ready.append(item)
    return ready, rejections


@task(name="plan")
def plan(inputs: list[InputFile], db: Path, rebuild: bool) -> tuple[list[Work], int, list[Rejection]]:
    """Split inputs into work to do, unchanged reports, and duplicates of other files."""
    con = connect(db)
    try:
        loaded = loaded_reports(con)
    finally:
        con.close()
    version = pipeline_version()
    registry = registry_by_sha256()
    todo, duplicates, unchanged = [], [], 0
    first_seen: dict[str, str] = {}
    for item in inputs:
        assert item.path is not None
        item.sha256 = sha256_of(item.path)
        if item.url is None and item.sha256 in registry:
            add_provenance(item, registry[item.sha256])
        original = first_seen.get(item.sha256) or _loaded_under_other_name(loaded, item)
        if original:
            detail = f"same content as {original}, which is loaded once"
            duplicates.append(Rejection(item.name, item.sha256, "duplicate", detail))
            continue
        first_seen[item.sha256] = item.name
        if not rebuild and loaded.get(item.sha256) == (item.name, version):
            unchanged += 1
            continue
        todo.append(Work(source=item))
    return todo, unchanged, duplicates


def _loaded_under_other_name(loaded: dict[str, tuple[str, str]], item: InputFile) -> str | None:
    known = loaded.get(item.sha256 or "")
    return known[0] if known and known[0] != item.name else None


def _each(
    batch: list[Work], step: Callable[[Work], None], description: str = ""
) -> tuple[list[Work], list[Rejection]]:
    """Apply one stage's step to each report; a report that fails is rejected and the run goes on."""
    done, rejections = [], []
    for work in track(batch, description) if description else batch:
        try:
            step(work)
        except Exception as error:
            reason, detail = _explain(error)
            rejections.append(Rejection(work.source.name, work.source.sha256, reason, detail))
            continue
        done.append(work)
    return done, rejections


def _explain(error: Exception) -> tuple[str, str]:
    if isinstance(error, Rejected):
        return error.reason, error.detail
    if isinstance(error, PdfError):
        return "corrupt", str(error)
    if isinstance(error, TextDecodeError):
        return "undecodable", str(error)
    return (
        "failed",
        f"could not be processed ({type(error).__name__}: {error}); this is a bug, please report it",
    )


def _read(work: Work) -> None:
    assert work.source.path is not None
    work.kind = check_file(work.source.path)
    work.pages = read_file_pages(work.source.path, work.kind)


def _clean(work: Work) -> None:
    work.pages = clean_pages(work.pages)


def _segment(work: Work) -> None:
    work.parsed = parse_pages(work.pages)
    check_parsed(work.parsed, work.kind)


@task(name="text per page")
def read_pages(batch: list[Work]) -> tuple[list[Work], list[Rejection]]:
    return _each(batch, _read, "reading text")


@task(name="clean")
def clean(batch: list[Work]) -> tuple[list[Work], list[Rejection]]:
    return _each(batch, _clean)


@task(name="segment")
def segment_reports(batch: list[Work]) -> tuple[list[Work], list[Rejection]]:
    return _each(batch, _segment)


@task(name="extract facts and themes")
def extract(batch: list[Work]) -> tuple[list[ReportRecord], list[Rejection]]:
    records, failures = build_records(
        [(work.source, work.kind, work.parsed) for work in batch if work.parsed]
    )
    rejections = [Rejection(name, sha, *_explain(error)) for name, sha, error in failures]
    return records, rejections


@task(name="load")
def load(records: list[ReportRecord], rejections: list[Rejection], db: Path) -> None:
    con = connect(db)
    try:
        load_local_authorities(con)
        load_themes(con)
        for record in track(records, "loading"):
            load_report(con, record)
        for rejection in rejections:
            record_rejection(con, rejection.file, rejection.sha256, rejection.reason, rejection.detail)
        if records:
            build_search_index(con)
    finally:
        con.close()


@flow(name="ingest", log_prints=False)
def ingest(
    db: Path,
    sources: list[Path] | None = None,
    use_registry: bool = True,
    registry: Path = REGISTRY,
    mirror: Path | None = None,
    cache: Path | None = None,
    rebuild: bool = False,
) -> RunSummary:
    """Ingest area SEND reports into the DuckDB corpus at `db`; unchanged files are skipped."""
    started = time.perf_counter()
    inputs, fetch_rejections = resolve_inputs(
        list(sources or []), registry if use_registry else None, mirror, cache or db.parent / "cache"
    )
    todo, unchanged, duplicates = plan(inputs, db, rebuild)
    read, read_rejections = read_pages(todo)
    cleaned, clean_rejections = clean(read)
    segmented, segment_rejections = segment_reports(cleaned)
    records, extract_rejections = extract(segmented)
    rejections = (
        fetch_rejections
        + duplicates
        + read_rejections
        + clean_rejections
        + segment_rejections
        + extract_rejections
    )
    load(records, rejections, db)
    return RunSummary(
        new=len(records),
        unchanged=unchanged,
        duplicate=len(duplicates),
        rejected=len(rejections) - len(duplicates),
        seconds=time.perf_counter() - started,
        rejections=rejections,
    )
