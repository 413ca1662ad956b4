"""`sendcorpus benchmark`: the speed of each stage on a folder of reports, and (`--scale N`) of the whole
ingest on a synthetic corpus of N reports, printed as numbers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.facts import extract_facts
from sendcorpus.extract.nlp import annotate, build_nlp
from sendcorpus.extract.parse import parse_pages
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.extract.theme_matcher import spacy_matcher
from sendcorpus.settings import configured_api_url, default_seed_reports

if TYPE_CHECKING:
    import psutil
    from spacy.tokens import Doc

T = TypeVar("T")
# The copies' text is their originals', so the floor grows linearly: past this many it is measured on
# the first ones (every original, in turn) and scaled, rather than spend minutes re-reading copies.
FLOOR_SAMPLE = 440
MATCHER_SAMPLE = 10_000  # tokens: spaCy's Matcher takes a few seconds on these


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def run_benchmark(reports: Path) -> int:
    pdfs = sorted(reports.glob("*.pdf"))
    if not pdfs:
        print(f"no PDFs in {reports}")
        return 2
    print(f"{len(pdfs)} reports in {reports}")

    pages, seconds = _timed(lambda: [read_pdf(path) for path in pdfs])
    print(f"text per page  pypdfium2   {seconds:7.2f} s  ({sum(map(len, pages))} pages)")
    _compare_pdf_libraries(pdfs)

    cleaned, seconds = _timed(lambda: [clean_pages(doc) for doc in pages])
    print(f"clean                      {seconds:7.2f} s")
    parsed, seconds = _timed(lambda: [parse_pages(doc) for doc in cleaned])
    print(f"segment                    {seconds:7.2f} s")
    _, seconds = _timed(lambda: [extract_facts(report) for report in parsed])
    print(f"facts                      {seconds:7.2f} s")

    build_nlp()
    items = [item for report in parsed for item in report.items]
    docs, seconds = _timed(lambda: list(annotate(items)))
    words = sum(len(item.text.split()) for item, _ in docs)
    print(f"spaCy (themes, figures)    {seconds:7.2f} s  {words:,} words, {words / seconds:,.0f} words/s")
    _compare_matchers([doc for _, doc in docs])

    _time_flow(reports)
    return 0


def _compare_pdf_libraries(pdfs: list[Path]) -> None:
    try:
        import pypdf
    except ImportError:
        print("               pypdf       (not installed: pip install pypdf to compare)")
        return

    def read_all() -> None:
        for path in pdfs:
            for page in pypdf.PdfReader(path).pages:
                page.extract_text()

    _, seconds = _timed(read_all)
    print(f"               pypdf       {seconds:7.2f} s  (for comparison)")


def _compare_matchers(docs: list[Doc]) -> None:
    """The theme cues' phrase matcher against spaCy's Matcher built from the same phrases, on the same
    tokens; spaCy's on the first MATCHER_SAMPLE words only, as it is slow."""
    nlp = build_nlp()
    cue_matcher = nlp.get_pipe("send_themes").patterns.matcher
    spacy = spacy_matcher(cue_matcher, nlp.vocab)
    sample, sample_words = [], 0
    for doc in docs:
        if sample_words >= MATCHER_SAMPLE:
            break
        sample.append(doc)
        sample_words += len(doc)
    words = sum(map(len, docs))
    _, seconds = _timed(lambda: [list(cue_matcher(doc)) for doc in docs])
    print(f"cue phrases  sendcorpus    {seconds:7.2f} s  {words:,} tokens, {words / seconds:,.0f} tokens/s")
    _, seconds = _timed(lambda: [list(spacy(doc)) for doc in sample])
    print(
        f"             spaCy Matcher {seconds:7.2f} s  {sample_words:,} tokens, "
        f"{sample_words / seconds:,.0f} tokens/s (for comparison)"
    )


def _time_flow(reports: Path) -> None:
    from sendcorpus.flows.ingest import ingest

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "benchmark.duckdb"
        sources = [reports, *default_seed_reports()]
        for label in ("full run", "no-change run"):
            summary, seconds = _timed(lambda: ingest(db=db, sources=sources, use_registry=False))
            print(f"flow {label:<15}       {seconds:7.2f} s wall  ({summary.line()})")


@dataclass
class Measured:
    wall: float
    peak_rss: int  # bytes, the resident sets of the process and all its descendants added up
    peak_pss: int  # the same with shared pages divided among the processes that share them
    returncode: int
    stdout: str
    stderr: str
    # per role (main, worker, fork server, prefect server, other): (RSS, PSS) summed over the role's
    # processes at the moment the tree's PSS peaked, and each role's own peak PSS over the run
    at_peak: dict[str, tuple[int, int]] = field(default_factory=dict)
    role_peaks: dict[str, int] = field(default_factory=dict)
    # user + system seconds of every process of the tree, as last sampled (a process's last 0.2 s before
    # it exits can be missed): the work done, which other programs on the machine inflate far less than wall
    cpu: float = 0.0


def role_of(member: psutil.Process, root: int, forkservers: set[int]) -> str:
    """What a process of the ingest's tree is, from its parent and command line."""
    if member.pid == root:
        return "main"
    command = " ".join(member.cmdline())
    if "forkserver" in command:
        if member.ppid() in forkservers or member.ppid() != root:
            return "worker"
        forkservers.add(member.pid)
        return "fork server"
    if "uvicorn" in command or "prefect" in command:
        return "prefect server"
    return "other"


def run_measured(
    args: list[str],
    stop_when: Callable[[str], bool] | None = None,
    memory_log: Path | None = None,
    echo: bool = False,
) -> Measured:
    """Run a command, sampling the memory of its whole process tree; SIGKILL it as soon as
    `stop_when` is true of a line it writes on stderr. Descendants left running when it ends (the
    temporary Prefect server of a killed run) are ended too: they were started here.
    `memory_log` gets one CSV line per process and sample: seconds, pid, role, RSS, PSS, USS (bytes);
    `echo` copies the command's stderr (an ingest's progress lines) to this process's stderr."""
    import psutil

    started = time.perf_counter()
    log = memory_log.open("a", encoding="utf-8") if memory_log else None
    with tempfile.TemporaryFile("w+") as stdout:
        process = psutil.Popen(args, stdout=stdout, stderr=subprocess.PIPE, text=True)
        tree: dict[int, psutil.Process] = {process.pid: process}
        roles: dict[int, str] = {}
        forkservers: set[int] = set()
        peaks = [0, 0]
        at_peak: dict[str, tuple[int, int]] = {}
        role_peaks: dict[str, int] = {}
        cpu_seconds: dict[int, float] = {}
        lines: list[str] = []
        running = threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                with contextlib.suppress(psutil.NoSuchProcess):
                    tree.update((child.pid, child) for child in process.children(recursive=True))
                rss = pss = 0
                by_role: dict[str, tuple[int, int]] = {}
                now = time.perf_counter() - started
                for member in list(tree.values()):
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        # "other" is not kept: a child seen between fork and exec still has its parent's
                        # command line (CI once counted the Prefect server as "other" that way)
                        if roles.get(member.pid, "other") == "other":
                            roles[member.pid] = role_of(member, process.pid, forkservers)
                        role = roles[member.pid]
                        memory = _memory_of(member)
                        cpu_seconds[member.pid] = _cpu_seconds(member)
                        rss, pss = rss + memory.rss, pss + memory.pss
                        held = by_role.get(role, (0, 0))
                        by_role[role] = (held[0] + memory.rss, held[1] + memory.pss)
                        if log:
                            log.write(
                                f"{now:.1f},{member.pid},{role},{memory.rss},{memory.pss},{memory.uss}\n"
                            )
                if pss > peaks[1]:
                    at_peak.clear()
                    at_peak.update(by_role)
                for role, (_, role_pss) in by_role.items():
                    role_peaks[role] = max(role_peaks.get(role, 0), role_pss)
                peaks[:] = [max(peaks[0], rss), max(peaks[1], pss)]
                time.sleep(0.2)

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                if echo:  # the ingest's progress, so a long run can be followed
                    print(line, end="", file=sys.stderr, flush=True)
                if stop_when is not None and stop_when(line):
                    process.send_signal(signal.SIGKILL)

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read, daemon=True)]
        for thread in threads:
            thread.start()
        process.wait()
        wall = time.perf_counter() - started
        running.clear()
        with contextlib.suppress(psutil.NoSuchProcess):  # the command's own last seconds: it is a zombie now
            cpu_seconds[process.pid] = _cpu_seconds(process)
        for member in tree.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                if member.pid != process.pid and member.is_running():
                    member.kill()
        for thread in threads:
            thread.join(timeout=10)
        stdout.seek(0)
        output = stdout.read()
    if log:
        log.close()
    return Measured(
        wall,
        peaks[0],
        peaks[1],
        process.returncode,
        output,
        "".join(lines),
        dict(at_peak),
        role_peaks,
        sum(cpu_seconds.values()),
    )


@dataclass(frozen=True)
class Memory:
    rss: int
    pss: int
    uss: int


def _cpu_seconds(member: psutil.Process) -> float:
    times = member.cpu_times()
    return float(times.user + times.system)


def _memory_of(member: psutil.Process) -> Memory:
    """RSS, PSS and USS from one read of /proc/PID/smaps_rollup, so the three describe the same moment
    (psutil reads RSS from another file, and a growing process could show more USS than RSS)."""
    import psutil

    try:
        text = Path(f"/proc/{member.pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):  # which one depends on how far the exit had got
        raise psutil.NoSuchProcess(member.pid) from None
    except PermissionError:
        raise psutil.AccessDenied(member.pid) from None
    fields = {}
    for line in text.splitlines()[1:]:
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0]) * 1024
    private = (
        fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0) + fields.get("Private_Hugetlb", 0)
    )
    return Memory(fields.get("Rss", 0), fields.get("Pss", 0), private)


_TRIVIAL_FLOW = """
from sendcorpus import settings
settings.configure_prefect()
{server}from prefect import flow, task

@task
def step(n: int) -> int:
    return n + 1

@flow
def trivial() -> int:
    return step(step(step(0)))

trivial()
"""
# Prefect starts its own temporary server when the flow is called
TRIVIAL_FLOW = _TRIVIAL_FLOW.format(server="")
# the same flow on a temporary server started the ingest's way (flows/temporary_server.py): the fair
# baseline for the ingest's own overhead, which no longer pays Prefect's slower start
TRIVIAL_FLOW_EARLY_SERVER = _TRIVIAL_FLOW.format(
    server="from sendcorpus.flows.temporary_server import start_temporary_server\n"
    "server = start_temporary_server()\n"
    "import prefect\n"
    "if server is not None:  # None: PREFECT_API_URL names a running server\n"
    "    server.wait_until_healthy(120)\n"
)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sendcorpus.cli", *args]


def _raw_floor(pdfs: list[Path]) -> float:
    """pypdfium2's text of every page, nothing else, in one process: the cost no pipeline can beat."""
    import pypdfium2 as pdfium

    started = time.perf_counter()
    for path in pdfs:
        document = pdfium.PdfDocument(str(path))
        for page in document:
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        document.close()
    return time.perf_counter() - started


def _query_latencies(db: Path) -> dict[str, float]:
    """Each named query's wall time in ms (the best of three) on a read-only connection."""
    from sendcorpus.queries.catalog import list_queries, run_query
    from sendcorpus.warehouse.db import connect

    values = {
        "la": "Hackney",
        "theme": "ehcp_timeliness",
        "region": "London",
        "text": "speech and language therapy",
    }
    con = connect(db, read_only=True)
    latencies = {}
    try:
        for info in list_queries():
            params = {p.option: values[p.option] for p in info.spec if p.required}
            times = []
            for _ in range(3):
                _, seconds = _timed(lambda info=info, params=params: run_query(con, info.name, params))
                times.append(seconds)
            latencies[info.name] = min(times) * 1000
    finally:
        con.close()
    return latencies


def _best_wall(args: list[str], runs: int = 3) -> float:
    return min(run_measured(args).wall for _ in range(runs))


def _print(label: str, value: str) -> None:
    print(f"{label:<44} {value}", flush=True)


def _memory(run: Measured) -> str:
    return f"peak RSS {run.peak_rss / 2**30:.2f} GiB (PSS {run.peak_pss / 2**30:.2f} GiB)"


def run_scale_benchmark(
    scale: int,
    reports: Path,
    workers: int | None,
    kill_at: float | None,
    compare_runners: bool = False,
    memory_log: Path | None = None,
    running_server: bool = False,
) -> int:
    from sendcorpus.flows.analyse import default_workers
    from sendcorpus.flows.synthetic import make_corpus

    pdfs = sorted(reports.glob("*.pdf"))
    if not pdfs:
        print(f"no PDFs in {reports}")
        return 2
    workers = workers or default_workers()
    with tempfile.TemporaryDirectory(prefix="sendcorpus-bench-") as folder:
        work = Path(folder)
        seeds = default_seed_reports()
        corpus, seconds = _timed(
            lambda: make_corpus(pdfs, scale, work / "reports", seeds[0] if seeds else None)
        )
        _print("reports (synthetic, distinct bytes)", f"{len(corpus)}  (written in {seconds:.1f} s)")
        _print("workers", f"{workers} of {default_workers()} cores available")
        _print("load average at start (other programs)", " ".join(f"{load:.1f}" for load in os.getloadavg()))
        copies = [path for path in corpus if path.suffix == ".pdf"]
        sample = copies[:FLOOR_SAMPLE]
        floor = _raw_floor(sample) * len(copies) / max(1, len(sample))
        scaled = f" (measured on {len(sample)} copies, scaled)" if len(sample) < len(copies) else ""
        _print("raw pypdfium2 floor (1 process)", f"{floor:.2f} s{scaled}")
        with contextlib.ExitStack() as stack:
            _print("Prefect server", _server_for_runs(stack, work, running_server))
            status = _ingest_runs(work, corpus, floor, workers, kill_at, memory_log)
            if status:
                return status
            if compare_runners:
                _compare_runners(work / "reports", workers)
        _print("load average at end", " ".join(f"{load:.1f}" for load in os.getloadavg()))
    return 0


def _server_for_runs(stack: contextlib.ExitStack, work: Path, running_server: bool) -> str:
    """Which Prefect API the benchmark's runs report to; with `running_server`, one server for all of them,
    started here as `schedule` starts one (Prefect's fixed cost paid once, as scheduled runs pay it). With a
    temporary server per run, Prefect's first start (it creates its database) is made here, unmeasured."""
    from sendcorpus.flows.prefect_server import prefect_server

    configured = configured_api_url()
    if configured:
        return f"PREFECT_API_URL, for every run ({configured})"
    if not running_server:
        if not (Path(os.environ.get("PREFECT_HOME", ".")) / "prefect.db").exists():
            run_measured([sys.executable, "-c", TRIVIAL_FLOW])  # Prefect's first start creates its database
        return "a temporary one per run (no PREFECT_API_URL)"
    url = stack.enter_context(prefect_server(work / "prefect-server"))
    return f"one for every run, started here as `schedule` starts one ({url})"


def _ingest_runs(
    work: Path, corpus: list[Path], floor: float, workers: int, kill_at: float | None, memory_log: Path | None
) -> int:
    trivial = run_measured([sys.executable, "-c", TRIVIAL_FLOW])
    _print("trivial Prefect flow (3 tasks)", f"{trivial.wall:.2f} s wall, {_memory(trivial)}")
    early = run_measured([sys.executable, "-c", TRIVIAL_FLOW_EARLY_SERVER])
    _print("  the same, server started as ingest does", f"{early.wall:.2f} s wall, {_memory(early)}")

    db = work / "bench.duckdb"
    ingest = _cli("ingest", "--no-registry", "--source", str(work / "reports"), "--db", str(db))
    ingest += ["--workers", str(workers)]
    first = run_measured(ingest, memory_log=memory_log, echo=True)
    if first.returncode != 0:
        print(f"ingest failed: {first.stderr.strip().splitlines()[-1:]}")
        return 1
    _print(
        "ingest",
        f"{first.wall:.2f} s wall, {len(corpus) / first.wall:.1f} reports/s, {first.cpu:.1f} CPU s",
    )
    _print("  summary", first.stdout.strip().splitlines()[-1])
    _print("  peak memory, process tree", _memory(first))
    _print_roles(first)
    again = run_measured(ingest)
    _print("no-change re-run", f"{again.wall:.2f} s wall, {_memory(again)}")
    size = db.stat().st_size + (Path(f"{db}.wal").stat().st_size if Path(f"{db}.wal").exists() else 0)
    _print("database size", f"{size / 2**20:.1f} MiB")
    for name, ms in _query_latencies(db).items():
        _print(f"query {name}", f"{ms:.0f} ms")
    select_one = _best_wall(_cli("sql", "select 1", "--db", str(db)))
    _print('`sendcorpus sql "select 1"` (best of 3)', f"{select_one:.2f} s wall")
    benchmark = _best_wall(_cli("query", "theme-benchmark", "--la", "Hackney", "--db", str(db)))
    _print("`sendcorpus query theme-benchmark --la Hackney`", f"{benchmark:.2f} s wall")
    _print("(ingest - trivial flow) / raw floor", f"{(first.wall - trivial.wall) / floor:.2f}")
    fair = (first.wall - early.wall) / floor
    _print("  the same, trivial flow's server started as ingest does", f"{fair:.2f}")
    _print("no-change re-run / ingest", f"{again.wall / first.wall:.1%}")
    if kill_at is not None:
        _killed_run(work, ingest, len(corpus), kill_at, first)
    return 0


def _print_roles(run: Measured) -> None:
    """Who held the memory at the tree's peak, and each role's own peak (PSS: shared pages split)."""
    for role, (rss, pss) in sorted(run.at_peak.items(), key=lambda item: -item[1][1]):
        count = "" if role != "worker" else " (all workers)"
        _print(
            f"    {role}{count}",
            f"at the peak RSS {rss / 2**20:.0f} MiB, PSS {pss / 2**20:.0f} MiB; "
            f"own peak PSS {run.role_peaks.get(role, 0) / 2**20:.0f} MiB",
        )


def _compare_runners(folder: Path, workers: int) -> None:
    from sendcorpus.flows.ingest import DEFAULT_CHUNK_SIZE

    for mode, label in (("futures", "concurrent.futures"), ("prefect", "Prefect ProcessPoolTaskRunner")):
        args = [sys.executable, "-m", "sendcorpus.flows.runners", mode, str(folder), str(workers)]
        run = run_measured([*args, str(DEFAULT_CHUNK_SIZE)])
        seconds = run.stdout.strip().splitlines()[-1] if run.returncode == 0 else "failed"
        _print(f"analysis on {label}", f"{seconds} s, {_memory(run)}")


def _killed_run(work: Path, ingest: list[str], total: int, kill_at: float, uninterrupted: Measured) -> None:
    """SIGKILL an ingest once `kill_at` of its reports are committed, run it again, compare the work."""
    db = work / "killed.duckdb"
    args = [str(db) if arg.endswith("bench.duckdb") else arg for arg in ingest]

    def far_enough(line: str) -> bool:  # "ingest: 120 of 500 reports done"
        words = line.split()
        return line.startswith("ingest: ") and words[1].isdigit() and int(words[1]) >= kill_at * total

    killed = run_measured(args, stop_when=far_enough)
    rerun = run_measured(args)
    _print(f"killed at {kill_at:.0%}", f"{killed.wall:.2f} s wall, then a re-run of {rerun.wall:.2f} s")
    _print(
        "  re-run summary", rerun.stdout.strip().splitlines()[-1] if rerun.stdout.strip() else rerun.stderr
    )
    _print(
        "  (killed + re-run) / uninterrupted, wall", f"{(killed.wall + rerun.wall) / uninterrupted.wall:.2f}"
    )
    _print(
        "  the same in CPU seconds of the process trees",
        f"{killed.cpu:.1f} + {rerun.cpu:.1f} / {uninterrupted.cpu:.1f} = "
        f"{(killed.cpu + rerun.cpu) / uninterrupted.cpu:.2f}",
    )
