"""read → clean → segment → extract for one report, and a process pool that runs it on every core.

The heavy modules (pypdfium2, spaCy) are imported by the worker that needs them, so the process that
plans and loads stays light; spaCy's pipeline is built once, in the fork server the workers come from.
The command line starts the workers, and their first chunks, before Prefect's server is up (`prestart`).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver

from sendcorpus.flows.parent_death import PARENT_VARIABLE, die_with_parent
from sendcorpus.flows.sources import InputFile
from sendcorpus.warehouse.load import Rejection, ReportRecord

Result = ReportRecord | Rejection
_PRELOAD = ["sendcorpus.flows.forkserver_preload"]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def chunks_in_flight(workers: int) -> int:
    """Chunks analysed at once by a pool of `workers` processes: one loads while the next is analysed."""
    return min(2, workers)


def analyse_report(source: InputFile) -> Result:
    """The report's rows, or why it is rejected; never raises for a bad input.

    The file is hashed again before and after it is read: the plan hashed it earlier, and a file
    replaced since then would be stored under the sha256 of bytes that were never read."""
    try:
        _check_unchanged(source)
        result = _analysed(source)
        _check_unchanged(source)
        return result
    except Exception as error:
        return Rejection(source.name, source.sha256, *explain(error))


def _analysed(source: InputFile) -> Result:
    from sendcorpus.extract.parse import read_report
    from sendcorpus.extract.validate import check_file, check_parsed
    from sendcorpus.flows.records import build_record

    assert source.path is not None
    try:
        kind = check_file(source.path)
        parsed = read_report(source.path, kind)
        check_parsed(parsed, kind)
        return build_record(source, kind, parsed)
    except Exception as error:
        return Rejection(source.name, source.sha256, *explain(error))


def _check_unchanged(source: InputFile) -> None:
    """`changed` when the file's bytes are no longer those the plan hashed."""
    from sendcorpus.extract.validate import Rejected
    from sendcorpus.flows.sources import sha256_of

    assert source.path is not None
    if source.sha256 is None:  # not planned: nothing to compare with
        return
    try:
        now = sha256_of(source.path)
    except OSError as error:
        raise Rejected(
            "unreadable", f"the file cannot be read any more ({error.strerror or error}): was it removed?"
        ) from None
    if now != source.sha256:
        raise Rejected(
            "changed",
            f"the file changed while this run read it (sha256 {source.sha256[:12]}… when planned, "
            f"{now[:12]}… now); run ingest again to load it as it is now",
        )


def explain(error: Exception) -> tuple[str, str]:
    from sendcorpus.extract.pdf_text import PdfError
    from sendcorpus.extract.text_file import TextDecodeError
    from sendcorpus.extract.validate import Rejected

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


def _start_worker() -> None:
    from sendcorpus.extract.nlp import build_nlp

    die_with_parent()
    build_nlp()


class Analyser:
    """Runs `analyse_report` over chunks: in this process (workers=1) or in a pool of processes.

    Workers come from a fork server, not a fork of this process: the flow's process runs Prefect's
    threads, and forking a threaded process can copy a held lock into the child."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.closed = False
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Analyser:
        if self.workers > 1:
            _start_forkserver()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, chunk: Sequence[InputFile]) -> Callable[[], list[Result]]:
        """Start the chunk (or take over what `prestart` started of it); the returned function waits for
        its results, in input order."""
        if self.workers <= 1:
            return lambda: [analyse_report(source) for source in chunk]
        _join_prestart()
        futures = [_early.pop(_key(source), None) or self._start(source) for source in chunk]
        return lambda: list(self._collect(futures))

    def _start(self, source: InputFile) -> tuple[InputFile, ProcessPoolExecutor, Future[Result]]:
        pool = self._executor()
        return source, pool, pool.submit(analyse_report, source)

    def _collect(
        self, futures: list[tuple[InputFile, ProcessPoolExecutor, Future[Result]]]
    ) -> Iterator[Result]:
        for source, pool, future in futures:
            try:
                yield future.result()
            except BrokenProcessPool:
                yield self._alone(source, pool)

    def _alone(self, source: InputFile, broken: ProcessPoolExecutor) -> Result:
        """A worker died (out of memory, a crash in a C library): the pool is replaced and the
        report is tried once more on its own, so only the report that kills a worker is rejected."""
        self._discard(broken)
        pool = self._executor()
        try:
            return pool.submit(analyse_report, source).result()
        except BrokenProcessPool:
            self._discard(pool)
            return Rejection(source.name, source.sha256, "failed", "the worker process died reading it")

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        _join_prestart()
        with self._lock:
            if self._pool is None:
                self._pool = _started.pop(self.workers, None) or _new_pool(self.workers)
            return self._pool


_started: dict[int, ProcessPoolExecutor] = {}
# reports `prestart` began analysing, by everything that identifies the input
_early: dict[tuple[object, ...], tuple[InputFile, ProcessPoolExecutor, Future[Result]]] = {}


_prestarting: list[threading.Thread] = []


class Gate:
    """At most `limit` analyses at once until opened. Prefect's server start (one core for ≈ 8 s) is
    what the whole run waits for, so while it starts the prestarted analyses leave it a core."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.running = 0
        self.peak = 0
        self._changed = threading.Condition()

    def enter(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.limit is None or self.running < self.limit)
            self.running += 1
            self.peak = max(self.peak, self.running)

    def leave(self, _: object = None) -> None:
        with self._changed:
            self.running -= 1
            self._changed.notify()

    def open(self) -> None:
        with self._changed:
            self.limit = None
            self._changed.notify_all()


_gate = Gate(None)  # open until `prestart` shuts one


def prestart(workers: int, first: Sequence[InputFile] = ()) -> None:
    """Start the worker processes now and begin analysing the `first` reports, while Prefect's server
    starts, on one process fewer than `workers` until `open_prestart_gate`; returns at once. The next
    `Analyser` with as many workers takes the processes over, and any Analyser takes over the analyses
    of the same inputs."""
    global _gate
    if workers > 1 and workers not in _started and not _prestarting:
        _start_forkserver()
        _gate = Gate(workers - 1)
        # each submission waits until the fork server has imported spaCy: in the background
        thread = threading.Thread(target=_fill_pool, args=(workers, list(first), _gate), daemon=True)
        thread.start()
        _prestarting.append(thread)


def open_prestart_gate() -> None:
    """Prefect's server is up: the prestarted analyses may use every worker."""
    _gate.open()


def _fill_pool(workers: int, first: list[InputFile], gate: Gate) -> None:
    pool = _new_pool(workers)
    for _ in range(workers):  # the pool starts one process per submission until it is full
        pool.submit(int)
    for source in first:
        gate.enter()
        future = pool.submit(analyse_report, source)
        future.add_done_callback(gate.leave)
        _early[_key(source)] = (source, pool, future)
    _started[workers] = pool


def _join_prestart() -> None:
    open_prestart_gate()  # whoever takes over no longer waits for the server
    while _prestarting:
        _prestarting.pop().join()


def discard_prestarted() -> None:
    """Stop what `prestart` started and no Analyser took over (the flow failed before it got there),
    instead of finishing those analyses at exit."""
    _join_prestart()
    _early.clear()
    while _started:
        _started.popitem()[1].shutdown(wait=True, cancel_futures=True)


def _key(source: InputFile) -> tuple[object, ...]:
    return dataclasses.astuple(source)


def _start_forkserver() -> None:
    # from this (long-lived) thread: the fork server is tied to the thread that started it
    multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    forkserver.ensure_running()


def _new_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
