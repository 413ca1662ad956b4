"""Planning a run before any heavy work: which inputs are new, changed, unchanged or duplicates.

Cheap by design (file hashes and one short read-only look at the corpus) and free of Prefect and
spaCy, so a run with nothing to do ends in about a second without starting either.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sendcorpus.flows.sources import (
    InputFile,
    add_provenance,
    registry_by_sha256,
    registry_inputs,
    sha256_of,
    source_inputs,
)
from sendcorpus.flows.summary import RunSummary, summarise
from sendcorpus.flows.version import pipeline_version
from sendcorpus.warehouse.db import connect, migrations
from sendcorpus.warehouse.load import EMPTY_STATE, CorpusState, Rejection, ReportRecord, read_state

# Rejections worth trying again on every run: the input or the machine may have recovered.
RETRIED_REASONS = frozenset({"failed", "load_failed", "download_failed", "missing", "unreadable", "changed"})
READ_WAIT_SECONDS = 30.0


@dataclass
class Plan:
    todo: list[InputFile] = field(default_factory=list)  # local copies, hashed, to read and load
    to_fetch: list[InputFile] = field(default_factory=list)  # remote inputs not known to be unchanged
    replace_ids: set[str] = field(default_factory=set)  # report_ids in the corpus whose rows a load replaces
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # every input not loaded this run, and why
    to_record: list[Rejection] = field(default_factory=list)  # those not yet in corpus.rejected as they are
    # sha256 of a report read this run → the names of its duplicates, whose rejection says what became of it
    waiting_duplicates: dict[str, list[str]] = field(default_factory=dict)
    reindex: bool = False  # the search index is missing, stale or was left half built
    migrate: bool = False  # the database is older than the schema
    finish: bool = False  # the last finished run had another pipeline version

    @property
    def nothing_to_do(self) -> bool:
        return not (
            self.todo or self.to_fetch or self.to_record or self.reindex or self.migrate or self.finish
        )


def list_inputs(sources: list[Path], registry: Path | None, mirror: Path | None) -> list[InputFile]:
    """Every input named by the sources and the registry, without fetching anything."""
    inputs = source_inputs(sources) if sources else []
    if registry is not None:
        inputs = registry_inputs(mirror, registry) + inputs
    return inputs


def read_corpus_state(db: Path) -> CorpusState:
    if not db.exists():
        return EMPTY_STATE
    con = connect(db, read_only=True, wait_seconds=READ_WAIT_SECONDS, require_current=False)
    try:
        return read_state(con)
    finally:
        con.close()


class Planner:
    """Classifies inputs against the corpus; call `add` again for inputs fetched later in the run."""

    def __init__(self, state: CorpusState, rebuild: bool) -> None:
        self.state = state
        self.rebuild = rebuild
        self.version = pipeline_version()
        self.registry = registry_by_sha256()
        self.first_seen: dict[str, str] = {}
        self.rejected_before: dict[str, Rejection] = {}  # sha256 → an input an earlier run rejected
        self.reading: set[str] = set()  # sha256 of the inputs in `plan.todo`
        latest = max(version for version, _, _ in migrations())
        self.plan = Plan(
            reindex=not state.search_index_ok and state.schema_version > 0,
            migrate=state.schema_version < latest,
            finish=state.pipeline_version != self.version,
        )

    def add(self, inputs: list[InputFile]) -> Plan:
        for item in inputs:
            item.name = _storable(item.name)
            if item.rejection:  # found unusable while listing (unreadable, special file, bad manifest row)
                self.reject(Rejection(item.name, item.sha256, *item.rejection))
            elif item.path is None:
                self._add_remote(item)
            else:
                self._add_local(item)
        return self.plan

    def _add_remote(self, item: InputFile) -> None:
        expected = item.expected_sha256
        if expected and self._is_unchanged(item.name, expected):
            self.plan.unchanged += 1
        elif expected and self._duplicate_of(item.name, expected):
            self._reject_duplicate(item.name, expected)
        elif not item.url:
            self.reject(Rejection(item.name, None, "missing", "no local copy and no URL to fetch"))
        else:
            self.plan.to_fetch.append(item)

    def _add_local(self, item: InputFile) -> None:
        assert item.path is not None
        try:
            sha = item.sha256 = cached_sha256(item.path)
        except OSError as error:
            detail = f"the file cannot be read ({error.strerror or error})"
            self.reject(Rejection(item.name, None, "unreadable", detail))
            return
        if item.url is None and sha in self.registry:
            add_provenance(item, self.registry[sha])
        if self._duplicate_of(item.name, sha):
            self._reject_duplicate(item.name, sha)
            return
        self.first_seen[sha] = item.name
        known = self.state.rejected.get(item.name)
        if self._is_unchanged(item.name, sha):
            self.plan.unchanged += 1
        elif (
            not self.rebuild
            and known is not None
            and known[0] == sha
            and known[1] not in RETRIED_REASONS
            and self.state.pipeline_version == self.version
        ):
            self.rejected_before[sha] = Rejection(item.name, sha, known[1], known[2])
            self.plan.rejections.append(self.rejected_before[sha])
        else:
            self.plan.todo.append(item)
            self.reading.add(sha)
            if sha in self.state.loaded:
                self.plan.replace_ids.add(sha[:16])

    def _is_unchanged(self, name: str, sha: str) -> bool:
        return not self.rebuild and self.state.loaded.get(sha) == (name, self.version)

    def _duplicate_of(self, name: str, sha: str) -> str | None:
        if sha in self.first_seen:
            return self.first_seen[sha]
        known = self.state.loaded.get(sha)
        return known[0] if known and known[0] != name else None

    def _reject_duplicate(self, name: str, sha: str) -> None:
        """A duplicate of an input read this run waits for its outcome; the others are rejected now."""
        original = self._duplicate_of(name, sha)
        assert original is not None
        if sha in self.reading:
            self.plan.waiting_duplicates.setdefault(sha, []).append(name)
        else:
            self.reject(duplicate(name, sha, original, self.rejected_before.get(sha)))

    def reject(self, rejection: Rejection) -> None:
        self.plan.rejections.append(rejection)
        known = self.state.rejected.get(rejection.file)
        if known != (rejection.sha256, rejection.reason, rejection.detail):
            self.plan.to_record.append(rejection)


def duplicate(name: str, sha: str, original: str, rejected: Rejection | None) -> Rejection:
    """The rejection of `name`, whose bytes are those of `original`: loaded once, or rejected with it."""
    if rejected is None:
        return Rejection(name, sha, "duplicate", f"same content as {original}, which is loaded once")
    reason = f"so rejected for the same reason ({rejected.reason})"
    detail = f"same content as {original}, {reason}: {rejected.detail}"
    return Rejection(name, sha, "duplicate", detail)


def settle_duplicates(plan: Plan, results: list[ReportRecord | Rejection]) -> list[Rejection]:
    """The rejections of the inputs waiting on these results: their duplicates, now that each original
    is known to load or to be rejected."""
    settled = []
    for result in results:
        for name in plan.waiting_duplicates.pop(result.sha256 or "", []):
            rejected = result if isinstance(result, Rejection) else None
            settled.append(duplicate(name, result.sha256 or "", result.file, rejected))
    return settled


_hashes: dict[tuple[int, int, int, int], str] = {}


def cached_sha256(path: Path) -> str:
    """sha256 of the file, remembered for the process while its inode, size and mtime stay the same
    (the CLI plans before the flow starts and the flow plans again)."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key not in _hashes:
        _hashes[key] = sha256_of(path)
    return _hashes[key]


def _storable(name: str) -> str:
    """A file name the database can hold: bytes that are not UTF-8 become U+FFFD."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name


def plan_before_flow(
    db: Path,
    sources: list[Path],
    registry: Path | None,
    mirror: Path | None,
    rebuild: bool,
    inputs: list[InputFile] | None = None,
) -> tuple[Plan, RunSummary | None]:
    """The plan, and the run's summary when it finds nothing to do (then no flow needs to run)."""
    started = time.perf_counter()
    planned = list_inputs(sources, registry, mirror) + list(inputs or [])
    plan = Planner(read_corpus_state(db), rebuild).add(planned)
    if not plan.nothing_to_do:
        return plan, None
    return plan, summarise(0, plan.unchanged, plan.rejections, time.perf_counter() - started, None)
