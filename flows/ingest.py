"""The Prefect flow `ingest`: plan → (fetch) → chunks of read, clean, segment, extract → load → index.

The run is planned first (hashes and one look at the corpus), then streamed in chunks of bounded size:
each chunk is analysed on every core and loaded in one transaction, then dropped, so memory does not
grow with the run and a run stopped midway keeps every chunk it finished. Tasks are per chunk and
stage; chunks travel `quote()`d with no cache key, so Prefect never walks their pages and rows.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from concurrent.futures import CancelledError
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from sendcorpus.flows.analyse import Analyser, Result, analyse_report, chunks_in_flight, default_workers
from sendcorpus.flows.fetch import FetchError, fetch_report
from sendcorpus.flows.plan import Plan, Planner, list_inputs, read_corpus_state, settle_duplicates
from sendcorpus.flows.prefect_logs import drop_empty_exceptions
from sendcorpus.flows.progress import RunProgress
from sendcorpus.flows.sources import InputFile
from sendcorpus.flows.summary import RunSummary, summarise
from sendcorpus.flows.version import pipeline_version
from sendcorpus.seeds.build_registry import REGISTRY
from sendcorpus.warehouse.db import WRITER_WAIT_SECONDS, DatabaseBusy, connect
from sendcorpus.warehouse.load import Rejection, ReportRecord, load_chunk, set_state
from sendcorpus.warehouse.reference import build_search_index, refresh_reference

__all__ = ["DEFAULT_CHUNK_SIZE", "DatabaseHeld", "Rejection", "RunSummary", "ingest", "warm_up"]

DEFAULT_CHUNK_SIZE = 40


class DatabaseHeld(Exception):
    """Readers kept the database past the writer's wait; finished chunks are kept."""


@task(name="plan", cache_policy=NO_CACHE)
def plan_run(
    sources: list[Path],
    registry: Path | None,
    mirror: Path | None,
    db: Path,
    rebuild: bool,
    extra: list[InputFile],
) -> Planner:
    planner = Planner(read_corpus_state(db), rebuild)
    planner.add(list_inputs(sources, registry, mirror) + extra)
    return planner


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_missing(planner: Planner, cache: Path) -> None:
    """Download the remote inputs the plan could not rule out, then plan them like local files."""
    fetched = []
    for item in planner.plan.to_fetch:
        assert item.url is not None
        try:
            item.path = fetch_report(item.url, item.expected_sha256, cache)
        except FetchError as error:
            planner.reject(Rejection(item.name, item.expected_sha256, "download_failed", error.detail))
            continue
        fetched.append(item)
    planner.plan.to_fetch = []
    planner.add(fetched)


class Chunk:
    """Inputs analysed and loaded together. A plain object, not a list or dataclass, so that a task
    runner which unpacks collections in task arguments (Dask does) passes it through whole."""

    def __init__(self, sources: list[InputFile]) -> None:
        self.sources = sources


@task(name="read, clean, segment, extract", cache_policy=NO_CACHE)
def analyse_chunk(chunk: Chunk, analyser: Analyser | None = None) -> list[Result]:
    if analyser is None:  # on a Dask worker: this task is the unit of parallelism
        return [analyse_report(source) for source in chunk.sources]
    try:
        return analyser.submit(chunk.sources)()
    except (CancelledError, RuntimeError):
        if not analyser.closed:
            raise
        # the run is stopping (SIGTERM, Ctrl-C) and closed the pool under this chunk: a failure with its
        # one-line reason, not a traceback in Prefect's log; nothing of the chunk was loaded
        return Failed(message="not analysed: the run was stopped")  # type: ignore[return-value]


@task(name="load", cache_policy=NO_CACHE)
def load(
    results: list[Result], rejections: list[Rejection], replace_ids: set[str], db: Path, first: bool
) -> tuple[int, list[Rejection]]:
    """One transaction for the chunk; returns how many reports loaded and every rejection of the chunk
    (`rejections` from planning, bad inputs, load failures). The first load also refreshes the
    reference tables if they are stale, so even a run stopped after one chunk leaves a usable corpus."""
    records = [result for result in results if isinstance(result, ReportRecord)]
    rejected = [*rejections, *(result for result in results if isinstance(result, Rejection))]
    try:
        con = _writer(db)
    except DatabaseHeld as held:
        return _ended_by(held)  # type: ignore[return-value]
    try:
        if first:
            refresh_reference(con)  # usually done already, while Prefect's server started
        failed = load_chunk(con, records, rejected, replace_ids)
    finally:
        con.close()
    return len(records) - len(failed), rejected + failed


@task(name="search index", cache_policy=NO_CACHE)
def finish(db: Path, reindex: bool) -> None:
    """Rebuild the search index when reports changed or the last build did not finish, and record
    the pipeline version of this finished run."""
    try:
        con = _writer(db)
    except DatabaseHeld as held:
        return _ended_by(held)  # type: ignore[return-value]
    try:
        if reindex:
            build_search_index(con)
        set_state(con, "pipeline_version", pipeline_version())
    finally:
        con.close()


def _writer(db: Path):  # type: ignore[no-untyped-def]
    try:
        return connect(db, wait_seconds=WRITER_WAIT_SECONDS)
    except DatabaseBusy:
        raise DatabaseHeld(
            f"the database {db} is held by another process (a `sql`, `query` or `report` reader, or "
            f"another program) for more than {WRITER_WAIT_SECONDS:g} s; the chunks already loaded are kept: "
            "run ingest again when it is free to do the rest"
        ) from None


def _ended_by(held: DatabaseHeld) -> State:
    """A task's or the run's end when readers held the database: its one-line reason in Prefect's log (a
    scheduled run's log has no command line to quiet a traceback), and the caller still gets `held` raised.
    A task called plainly hands back the state it returned instead of raising, so `_run_plan` calls the
    tasks with `return_state=True` and takes `.result()`, which raises `held`."""
    return Failed(message=str(held), data=held)


@flow(name="ingest", log_prints=False)
def ingest(
    db: Path,
    sources: list[Path] | None = None,
    use_registry: bool = True,
    registry: Path = REGISTRY,
    mirror: Path | None = None,
    cache: Path | None = None,
    rebuild: bool = False,
    inputs: list[InputFile] | None = None,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RunSummary:
    """Ingest area SEND reports into the DuckDB corpus at `db`; unchanged files are skipped.

    `inputs` are extra ready inputs (a local path, provenance filled in) added to those found from
    `sources` and the registry. `workers` processes read and analyse reports (default: one per core)."""
    started = time.perf_counter()
    drop_empty_exceptions()
    planner = plan_run(
        list(sources or []),
        registry if use_registry else None,
        mirror,
        db,
        rebuild,
        quote(list(inputs or [])),
    )
    if planner.plan.to_fetch:
        fetch_missing(quote(planner), cache or db.parent / "cache")
    try:
        loaded, reprocessed, rejections = _run_plan(
            planner.plan, db, workers or default_workers(), max(1, chunk_size)
        )
    except DatabaseHeld as held:
        return _ended_by(held)  # type: ignore[return-value]
    seconds = time.perf_counter() - started
    return summarise(
        loaded - reprocessed, planner.plan.unchanged, rejections, seconds, _flow_run_id(), reprocessed
    )


def warm_up() -> None:
    """Import what a flow run would otherwise import on its way (Prefect's engines, the encoder of flow
    parameters): the command line does it while Prefect's server is still starting."""
    import fastapi.encoders  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401
    from prefect import flow_engine, task_engine  # noqa: F401


def _run_plan(plan: Plan, db: Path, workers: int, chunk_size: int) -> tuple[int, int, list[Rejection]]:
    """Analyse chunk after chunk while the previous one loads; returns (reports loaded, of those the ones
    that were in the corpus before, rejections)."""
    chunks = deque(
        Chunk(plan.todo[start : start + chunk_size]) for start in range(0, len(plan.todo), chunk_size)
    )
    rejections = [r for r in plan.rejections if r not in plan.to_record]
    to_record = list(plan.to_record)
    if not chunks and (to_record or plan.migrate):
        state = load(quote([]), quote(to_record), quote(plan.replace_ids), db, first=True, return_state=True)
        rejections += state.result()[1]
        to_record = []
    first = True
    # what exists now (Prefect, Polars, DuckDB: ≈ 0.15 M objects) outlives the run; frozen, it is skipped by
    # the full collection after every chunk (`release_memory`), which took ≈ 0.2 s a chunk
    gc.collect()
    gc.freeze()
    distributed = not isinstance(get_run_context().task_runner, ThreadPoolTaskRunner)
    # on Dask the chunk task is the unit of parallelism; here a process pool serves two chunks at once
    in_flight = workers if distributed else chunks_in_flight(workers)
    new = reprocessed = 0
    with Analyser(1 if distributed else workers) as analyser, RunProgress(len(plan.todo)) as progress:
        pending: deque[PrefectFuture[list[Result]]] = deque()

        def submit_next() -> None:
            if chunks:
                chunk = chunks.popleft()
                # plain objects, not quote()d: Prefect does not walk them, and Dask would unpack quote's tuple
                pending.append(analyse_chunk.submit(chunk, None if distributed else analyser))

        for _ in range(in_flight):
            submit_next()
        while pending:
            results = pending.popleft().result()
            submit_next()
            to_record += settle_duplicates(plan, results)
            loaded, chunk_rejections = load(
                quote(results), quote(to_record), quote(plan.replace_ids), db, first=first, return_state=True
            ).result()
            to_record, first = [], False
            new += loaded
            not_loaded = {rejection.file for rejection in chunk_rejections}
            reprocessed += sum(
                isinstance(r, ReportRecord) and r.report_id in plan.replace_ids and r.file not in not_loaded
                for r in results
            )
            rejections += chunk_rejections
            progress.advance(len(results))
    if new or plan.reindex or plan.finish or plan.migrate:
        finish(db, reindex=bool(new) or plan.reindex, return_state=True).result()
    return new, reprocessed, rejections


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return str(run_id) if run_id else None
