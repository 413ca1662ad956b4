"""The `sendcorpus` command line."""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sendcorpus import __version__, settings

if TYPE_CHECKING:
    import logging

FORMATS = ["table", "csv", "json", "parquet", "xlsx", "md", "html"]
READ_WAIT_SECONDS = 30.0
MAX_DELAY = 3600.0  # seconds between requests; beyond it a crawl of the site would take months
HUMAN_FORMATS = ("table", "md", "html", "xlsx")  # shown as titled blocks; csv/json/parquet keep one table
FORMAT_OF_SUFFIX = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".xlsx": "xlsx", ".md": "md"}
FORMAT_OF_SUFFIX |= {".html": "html", ".htm": "html"}
REPORTS_HELP = (
    "folder of the report files the gold is about (default: ../corpus/reports and ../seeds beside it)"
)
FORMAT_HELP = "default: the --output file's extension (.csv, .json, .parquet, .xlsx, .md, .html), else table"


class CommandError(Exception):
    """An expected failure: printed as one line, exit code 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        _refuse_the_database_as_output(args)
        _settle_the_format(args)
        return int(args.handler(args) or 0)
    except CommandError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("sendcorpus: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as error:
        from sendcorpus.flows.interrupts import caused_by_interrupt

        if caused_by_interrupt(error):  # raised while handling a Ctrl-C (DuckDB, Prefect)
            print("sendcorpus: interrupted", file=sys.stderr)
            return 130
        message = _expected_failure(error, args)
        if message is None:
            raise  # a bug: the traceback is what is needed
        return _fail(message)


def _refuse_the_database_as_output(args: argparse.Namespace) -> None:
    """An --output naming the database, or the write-ahead log or ingest lock beside it, would overwrite
    the corpus the command reads."""
    output, db = getattr(args, "output", None), getattr(args, "db", None)
    if output is None or db is None:
        return
    for own in (db, Path(f"{db}.wal"), Path(f"{db}.ingest.lock")):
        if output.resolve() == own.resolve() or (output.exists() and own.exists() and output.samefile(own)):
            raise CommandError(f"--output {output} is the database's own file: write the result elsewhere")


def _settle_the_format(args: argparse.Namespace) -> None:
    """--format from the --output file's extension when not given; a format the extension contradicts is
    refused (an `x.xlsx` holding a text table was reported as written). `--output -` is standard output."""
    if not hasattr(args, "format") or not hasattr(args, "output"):
        return
    implied = FORMAT_OF_SUFFIX.get(args.output.suffix.lower()) if args.output is not None else None
    if args.format is None:
        args.format = implied or "table"
    elif implied is not None and implied != args.format:
        raise CommandError(
            f"--output {args.output} is named as {implied} but --format is {args.format}: "
            "make them agree, or leave --format out"
        )
    if args.output == Path("-"):
        if args.format in ("parquet", "xlsx"):
            raise CommandError(f"{args.format} is a binary format: give --output FILE, not standard output")
        args.output = None


def _fail(message: str) -> int:
    print(f"sendcorpus: {_one_line(message)}", file=sys.stderr)
    return 1


def _expected_failure(error: Exception, args: argparse.Namespace) -> str | None:
    """One line for a failure of the environment (a file, a disk, Prefect's state), None for a bug."""
    if isinstance(error, settings.PrefectStateError):
        return str(error)
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"cannot use{where}: {error.strerror or error}"
    modules = sys.modules
    db = modules.get("sendcorpus.warehouse.db")
    if db and isinstance(error, db.DatabaseUnusable | db.DatabaseBusy):
        return str(error)
    lock = modules.get("sendcorpus.flows.lock")
    if lock and isinstance(error, lock.LockBusy | lock.LockUnavailable):
        return str(error)
    duckdb = modules.get("duckdb")
    if db and duckdb and isinstance(error, duckdb.Error):
        return db.explain(error, args.db)
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendcorpus", description="Area SEND inspection reports as data.")
    parser.add_argument("--version", action="version", version=f"sendcorpus {__version__}")
    commands = parser.add_subparsers(title="commands")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, db: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if db:  # not for commands that use no corpus: an ignored --db would mislead
            sub.add_argument(
                "--db",
                type=Path,
                default=settings.default_db(),
                help="DuckDB file (default data/sendcorpus.duckdb, or env SENDCORPUS_DB)",
            )
        sub.set_defaults(handler=handler)
        return sub

    ingest = command("ingest", _ingest, "Ingest reports (the registry by default) into the corpus.")
    ingest.add_argument(
        "--source", type=Path, action="append", default=[], help="file or folder (repeatable)"
    )
    ingest.add_argument(
        "--mirror", type=Path, default=settings.default_mirror(), help="local copies of reports"
    )
    ingest.add_argument(
        "--cache", type=Path, default=settings.default_cache(), help="where downloads are kept"
    )
    ingest.add_argument("--no-registry", action="store_true", help="only the --source inputs")
    ingest.add_argument("--rebuild", action="store_true", help="reprocess every report")
    ingest.add_argument(
        "--wait", action="store_true", help="wait for another running ingest instead of failing"
    )
    ingest.add_argument(
        "--workers",
        type=_positive_int,
        help="processes that read and analyse reports (default: one per core)",
    )
    ingest.add_argument(
        "--chunk-size", type=_positive_int, default=40, help="reports analysed and committed together"
    )

    sql = command("sql", _sql, "Run ad-hoc SQL on a read-only connection.")
    sql.add_argument("query")
    sql.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)
    sql.add_argument("--output", type=Path, help="file to write (- for standard output)")
    sql.add_argument(
        "--allow-files", action="store_true", help="let the SQL read files on this machine (never write them)"
    )
    sql.add_argument(
        "--timeout", type=_positive_number, default=60.0, help="stop the query after this many seconds"
    )
    sql.add_argument(
        "--memory-limit",
        type=_positive_number,
        default=2.0,
        metavar="GB",
        help="stop the query when it needs more memory than this (default 2)",
    )

    command("queries", _queries, "List the named queries.", db=False)

    query = command("query", _query, "Run a named query from queries/.")
    query.add_argument("name")
    query.add_argument("--la", help="local authority name or code")
    query.add_argument("--theme", help="theme id from themes.yaml")
    query.add_argument("--region", help="region name")
    query.add_argument("--text", help="words to search for")
    query.add_argument("--all-reports", action="store_true", help="include superseded inspections")
    query.add_argument(
        "--include-partial",
        action="store_true",
        help="count reports that lost pages or sections in group shares",
    )
    query.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)
    query.add_argument("--output", type=Path, help="file to write (- for standard output)")

    report = command("report", _report, "Write the comparison report for an area (.html or .xlsx).")
    report.add_argument("--la", required=True, help="local authority name or code (DfE or ONS)")
    report.add_argument(
        "--output",
        type=Path,
        required=True,
        help="FILE.html (one self-contained page) or FILE.xlsx (a workbook)",
    )

    command("themes", _themes, "List the theme taxonomy: id, label and definition.")

    reference = command(
        "reference", _reference, "Show the official statistics loaded, or load newer published CSVs."
    )
    reference.add_argument(
        "--load",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="a published CSV (EHC plan timeliness, exclusions by SEN, local_authorities.csv); repeatable",
    )
    reference.add_argument(
        "--defaults", action="store_true", help="reload every file from ../shared/reference"
    )
    reference.add_argument(
        "--allow-fewer-areas",
        action="store_true",
        help="load a file covering fewer local authorities than the rows it replaces",
    )

    evaluate = command("evaluate", _evaluate, "Score the corpus against hand-checked gold files.")
    evaluate.add_argument("--gold", type=Path, default=settings.shared_dir() / "gold")
    evaluate.add_argument("--min-f1", type=_share)
    evaluate.add_argument("--min-facts", type=_share)
    evaluate.add_argument("--min-theme-f1", type=_share, help="bar for every theme's item-level F1")
    evaluate.add_argument(
        "--folds",
        type=_positive_int,
        help="cross-validate the tagger by report over K folds (no database needed)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the fold split and the training")
    evaluate.add_argument("--reports", type=Path, help=f"with --folds or --cues-only: {REPORTS_HELP}")
    evaluate.add_argument(
        "--cues-only", action="store_true", help="score the rule cues alone on every gold report"
    )

    train = commands.add_parser(
        "train", help="Train the theme classifier on the gold.", description="Train the theme classifier."
    )
    train.add_argument("--gold", type=Path, default=settings.shared_dir() / "gold")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--reports", type=Path, help=REPORTS_HELP)
    train.add_argument("--output", type=Path, help="model folder (default: the one shipped in the package)")
    train.set_defaults(handler=_train)

    benchmark = command("benchmark", _benchmark, "Measure the speed of each stage on the corpus.", db=False)
    benchmark.add_argument("--reports", type=Path, default=settings.shared_dir() / "corpus" / "reports")
    benchmark.add_argument(
        "--scale", type=_positive_int, help="ingest a synthetic corpus of N reports and measure the whole run"
    )
    benchmark.add_argument("--workers", type=_positive_int, help="with --scale: ingest --workers")
    benchmark.add_argument(
        "--kill-at", type=_fraction, help="with --scale: also SIGKILL a run at this share done, then re-run"
    )
    benchmark.add_argument(
        "--one-server",
        action="store_true",
        help="with --scale: every run reports to one Prefect server started for the benchmark, as for "
        "`schedule`, instead of a temporary server per run",
    )
    benchmark.add_argument(
        "--compare-runners",
        action="store_true",
        help="with --scale: also time the analysis on concurrent.futures and on Prefect's process pool",
    )
    benchmark.add_argument(
        "--memory-log",
        type=Path,
        metavar="CSV",
        help="with --scale: append the ingest's memory per process and sample (seconds,pid,role,rss,pss,uss)",
    )

    _update_commands(command)
    return parser


def _update_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """`update`, `schedule` and `runs`: keeping the corpus current from Ofsted's site."""
    update = command("update", _update, "Find new area SEND reports on Ofsted's site and ingest them.")
    schedule = command(
        "schedule", _schedule, "Run `update` on a cron schedule (Europe/London) with a Prefect server."
    )
    for sub in (update, schedule):
        sub.add_argument("--site", default=settings.default_site(), help="reports site (env SENDCORPUS_SITE)")
        sub.add_argument("--delay", type=float, default=1.0, help="seconds between requests (default 1)")
        sub.add_argument("--cache", type=Path, default=settings.default_cache(), help="where downloads go")
        sub.add_argument("--max-pages", type=_positive_int, default=2000, help="cap on pages read per run")
    schedule.add_argument(
        "--cron",
        type=_cron,
        default="0 6 * * 1",
        help="cron expression: five fields, or six with seconds last (default Mondays 06:00)",
    )
    schedule.add_argument("--name", default="weekly", help="deployment name (default weekly)")
    runs = command("runs", _runs, "List the recent ingest and update runs.")
    runs.add_argument("--limit", type=_positive_int, default=20, help="how many runs (default 20)")
    runs.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)
    runs.add_argument("--output", type=Path, help="file to write (- for standard output)")


def _ingest(args: argparse.Namespace) -> int:
    from sendcorpus.flows.lock import IngestLock, LockBusy
    from sendcorpus.warehouse.db import check_free_space, check_name, limit_malloc_arenas

    limit_malloc_arenas()  # before Prefect starts its threads

    try:
        check_name(args.db)
    except ValueError as error:
        raise CommandError(str(error)) from None
    missing = [str(path) for path in args.source if not path.exists() and not path.is_symlink()]
    if missing:
        raise CommandError(f"no such file or folder: {', '.join(missing)}")
    _say_which_subfolders_are_not_read(args.source)
    _check_corpus_file(args.db)
    settings.configure_prefect(args.db)  # before the lock and the database: bad Prefect state changes nothing
    try:
        with IngestLock(args.db, wait=args.wait):
            check_free_space(args.db)  # a disk too full stops the run before anything is written
            run = _recorded(args.db, lambda: _run_ingest_flow(args))
    except LockBusy as error:
        raise CommandError(str(error)) from None
    for rejection in run.rejections:
        print(f"  rejected {rejection.file}: {rejection.reason} — {rejection.detail}", file=sys.stderr)
    print(run.line())
    return 0


def _say_which_subfolders_are_not_read(sources: list[Path]) -> None:
    """A --source folder's own files are read, not its subfolders' (two reports of one name in different
    folders would be one file to the corpus): said once, so a report left in one is not silently missed."""
    for source in sources:
        try:
            skipped = sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:  # a file, or a folder that cannot be listed (the ingest says which)
            continue
        if skipped:
            shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
            print(
                f"  not read: the subfolder{'s' if len(skipped) > 1 else ''} {shown} of {source} "
                "(give each with --source to ingest what is in it)",
                file=sys.stderr,
            )


def _check_corpus_file(db: Path) -> None:
    """A --db file that is not a corpus (damaged, not DuckDB, empty, a folder), named before anything
    starts or is locked beside it. Opened read-only: the writes come later, under the ingest lock."""
    from sendcorpus.warehouse.db import DatabaseBusy, connect

    if db.exists():
        with suppress(DatabaseBusy):  # an ingest is writing it: a usable file
            connect(db, read_only=True, search=False, require_current=False).close()


def _check_database(db: Path) -> None:
    """Open (and migrate) the database once before the flow, so an unwritable folder ends in one line
    here rather than in the middle of a flow run (a damaged file fails the plan, a full disk before it).
    Stale reference tables are reloaded here too: this runs while Prefect's server starts."""
    from sendcorpus.warehouse.db import DatabaseBusy, connect
    from sendcorpus.warehouse.reference import refresh_reference

    with suppress(DatabaseBusy):  # a reader holds it: the flow's own open waits for readers
        con = connect(db)
        try:
            refresh_reference(con)
        finally:
            con.close()


def _quiet_prefect_failures() -> None:
    """The command reports a failure itself, in one line (or with a traceback when it is a bug);
    Prefect's own copy of every traceback would bury that line. Called once Prefect is imported:
    importing it configures its loggers afresh."""
    import logging

    # "prefect.engine": its "Crash detected! Execution was aborted by an interrupt signal." after a Ctrl-C
    # that the command reports as "sendcorpus: interrupted" (seen in clean-clone CI, 4 Dec 2026)
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # "Still processing items" while Prefect flushes its events at exit: progress of Prefect's, not ours
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)


def _run_ingest_flow(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sendcorpus.flows.analyse import chunks_in_flight, default_workers, discard_prestarted, prestart
    from sendcorpus.flows.plan import plan_before_flow
    from sendcorpus.flows.temporary_server import ServerFailed, start_temporary_server
    from sendcorpus.seeds.build_registry import REGISTRY
    from sendcorpus.seeds.seed_reports import seed_inputs

    sources = list(args.source)
    seeds = seed_inputs(settings.default_seed_reports()) if not args.no_registry and not sources else []
    registry = None if args.no_registry else REGISTRY
    # planned before Prefect: with nothing to do, no server starts and spaCy is not loaded
    plan, summary = plan_before_flow(args.db, sources, registry, args.mirror, args.rebuild, seeds)
    if summary is not None:
        return summary
    server = start_temporary_server()  # first: the longest start-up, it runs beside all that follows
    if plan.todo or plan.to_fetch:
        # the workers load spaCy and analyse the first chunks while Prefect's server starts
        workers = args.workers or default_workers()
        prestart(workers, plan.todo[: chunks_in_flight(workers) * max(1, args.chunk_size)])
    try:
        _check_database(args.db)  # while the server starts
        return _call_ingest_flow(args, server, seeds)
    except ServerFailed as error:
        raise CommandError(str(error)) from None
    finally:
        discard_prestarted()


def _call_ingest_flow(args: argparse.Namespace, server, seeds):  # type: ignore[no-untyped-def]
    # Prefect was configured and checked by _ingest before the lock was taken
    from sendcorpus.flows.analyse import open_prestart_gate
    from sendcorpus.flows.ingest import DatabaseHeld, ingest, warm_up

    _quiet_prefect_failures()
    if server is not None:
        warm_up()
        server.wait_until_healthy()
    open_prestart_gate()
    try:
        return ingest(
            db=args.db,
            sources=list(args.source),
            use_registry=not args.no_registry,
            mirror=args.mirror,
            cache=args.cache,
            rebuild=args.rebuild,
            inputs=seeds,
            workers=args.workers,
            chunk_size=args.chunk_size,
        )
    except DatabaseHeld as error:
        raise CommandError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    if value > 2**31 - 1:
        raise argparse.ArgumentTypeError(f"too large: {value}")
    return value


def _recorded(db: Path, run_flow: Callable[[], Any]) -> Any:
    """Run the ingest flow and record it in `runs` (and as a Prefect artifact), failed or not."""
    from contextlib import suppress
    from datetime import datetime

    started = datetime.now()
    try:
        run = run_flow()
    except BaseException as error:
        from sendcorpus.flows.interrupts import INTERRUPTED, caused_by_interrupt
        from sendcorpus.flows.run_report import record_and_publish
        from sendcorpus.warehouse.runs import RunRecord

        record = RunRecord("ingest", started)
        why = INTERRUPTED if caused_by_interrupt(error) else _one_line(error)
        record.status = f"failed: {why or type(error).__name__}"
        with suppress(Exception):  # the history is best effort; the run's own error is what to report
            record_and_publish(db, record, [], [record.status])
        raise
    # imported only now: Polars' import would have delayed Prefect's server start
    from sendcorpus.flows.run_report import record_and_publish
    from sendcorpus.flows.summary import FAILURE_REASONS
    from sendcorpus.warehouse.runs import RunRecord

    record = RunRecord("ingest", started)
    record.flow_run_id, record.new, record.unchanged = run.flow_run_id, run.new, run.unchanged + run.duplicate
    record.rejected, record.failed, record.reprocessed = run.rejected, run.failed, run.reprocessed
    record.discovered = run.new + run.reprocessed + run.unchanged + run.duplicate + run.rejected + run.failed
    lines = [(r.reason in FAILURE_REASONS, f"{r.file}: {r.reason} — {r.detail}") for r in run.rejections]
    failures = [line for failed, line in lines if failed]
    record_and_publish(db, record, [line for failed, line in lines if not failed], failures)
    return run


def _read_only(args: argparse.Namespace, allow_files: bool = False, search: bool = True):  # type: ignore[no-untyped-def]
    from sendcorpus.warehouse.db import DatabaseBusy, DatabaseUnusable, connect

    try:
        return connect(
            args.db, read_only=True, wait_seconds=READ_WAIT_SECONDS, allow_files=allow_files, search=search
        )
    except (FileNotFoundError, DatabaseBusy, DatabaseUnusable, ValueError) as error:
        raise CommandError(str(error)) from None


def _write_output(frame, fmt: str, output: Path | None, blocks=None) -> None:  # type: ignore[no-untyped-def]
    from sendcorpus.queries.export import ExportError, export, export_blocks

    try:
        text = export_blocks(blocks, fmt, output, raw=frame) if blocks else export(frame, fmt, output)
    except ExportError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write {output}: {error.strerror or error}") from None
    if text is not None:
        print(text, end="" if text.endswith("\n") else "\n")  # CSV ends in a newline: no blank row
    elif output is not None:
        print(f"wrote {output}", file=sys.stderr)


def _sql(args: argparse.Namespace) -> int:
    import duckdb

    from sendcorpus.warehouse.db import explain
    from sendcorpus.warehouse.sandbox import (
        SqlRefused,
        check_read_only,
        limit_resources,
        restore_address_space,
        uses_search,
    )

    con = _read_only(args, allow_files=True, search=uses_search(args.query))
    try:
        check_read_only(con, args.query)
        address_space = limit_resources(con, args.memory_limit, allow_files=args.allow_files)
    except SqlRefused as error:
        con.close()
        raise CommandError(str(error)) from None
    stop = _Watchdog(con, args.timeout)
    # the terminal table prints from plain rows; only the other formats need a Polars frame
    as_rows = args.format == "table" and args.output is None
    try:
        if as_rows:
            text = _rows_text(con, args.query)
        else:
            from sendcorpus.warehouse.db import query_frame

            frame = query_frame(con, args.query)
    except duckdb.InterruptException:
        raise CommandError(stop.message) from None
    except (duckdb.OutOfMemoryException, MemoryError):
        raise CommandError(
            f"the query needed more than {args.memory_limit:g} GB of memory and was stopped "
            "(see --memory-limit)"
        ) from None
    except duckdb.Error as error:
        message = explain(error, args.db) or _one_line(error)
        if "file system operations are disabled" in message and not args.allow_files:
            message += " (other files are read only with --allow-files)"
        raise CommandError(message) from None
    finally:
        stop.cancel()
        _stop_and_close(con)
        restore_address_space(address_space)
    if as_rows:
        print(text)
    else:
        _write_output(frame, args.format, args.output)
    return 0


def _rows_text(con, sql: str) -> str:  # type: ignore[no-untyped-def]
    """The result as a terminal table, fetched as rows: the first screenful kept, the rest counted."""
    from sendcorpus.queries.table_text import MAX_TABLE_ROWS, is_numeric_type, rows_table

    con.execute(sql)
    if con.description is None:  # a statement with no result set
        return rows_table([], [], [], 0)
    names = [column[0] for column in con.description]
    numeric = [is_numeric_type(str(column[1])) for column in con.description]
    rows = con.fetchmany(MAX_TABLE_ROWS)
    total = len(rows)
    while len(batch := con.fetchmany(10_000)):
        total += len(batch)
    return rows_table(names, numeric, rows, total)


def _stop_and_close(con) -> None:  # type: ignore[no-untyped-def]
    """Close a reading connection, first stopping any query still running on it: a Ctrl-C that lands just
    as DuckDB starts a query leaves it running, and closing would wait for it to finish (minutes)."""
    con.interrupt()
    con.close()


class _Watchdog:
    """Interrupt the query at the timeout; if DuckDB cannot stop it (one expression that does not
    check for interrupts, such as a huge repeat()), end the process: the connection only reads."""

    GRACE_SECONDS = 3.0

    def __init__(self, con, timeout: float) -> None:  # type: ignore[no-untyped-def]
        self.message = f"the query ran longer than {timeout:g} s and was stopped (see --timeout)"
        self._soft = threading.Timer(timeout, con.interrupt)
        self._hard = threading.Timer(timeout + self.GRACE_SECONDS, self._exit)
        for timer in (self._soft, self._hard):
            timer.daemon = True
            timer.start()

    def _exit(self) -> None:
        print(f"sendcorpus: {self.message}", file=sys.stderr, flush=True)
        os._exit(1)

    def cancel(self) -> None:
        self._soft.cancel()
        self._hard.cancel()


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _queries(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import list_queries

    for info in list_queries():
        print(f"{info.name:<18} {info.description}  {' '.join(info.parameters)}".rstrip())
    return 0


def _query(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import QueryError, get_query, run_query
    from sendcorpus.queries.present import present
    from sendcorpus.warehouse.reference import UnknownAuthority
    from sendcorpus.warehouse.sandbox import uses_search

    params = {
        key: value
        for key, value in {
            "la": args.la,
            "theme": args.theme,
            "region": args.region,
            "text": args.text,
        }.items()
        if value is not None
    }
    if args.all_reports:
        params["all_reports"] = "true"
    if args.include_partial:
        params["include_partial"] = "true"
    try:
        sql = get_query(args.name).sql
    except QueryError as error:
        raise CommandError(str(error)) from None
    con = _read_only(args, search=uses_search(sql))  # full-text search costs ≈ 70 ms to load
    try:
        frame = run_query(con, args.name, params)
        blocks = present(con, args.name, frame, params) if args.format in HUMAN_FORMATS else None
    except (QueryError, UnknownAuthority) as error:
        raise CommandError(str(error)) from None
    finally:
        _stop_and_close(con)
    _write_output(frame, args.format, args.output, blocks)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import QueryError
    from sendcorpus.queries.export import ExportError
    from sendcorpus.queries.report import write_report
    from sendcorpus.warehouse.reference import UnknownAuthority

    if args.output.suffix.lower() not in (".html", ".xlsx"):
        raise CommandError("--output must end in .html or .xlsx")
    con = _read_only(args)
    try:
        path = write_report(con, args.la, args.output)
    except (QueryError, UnknownAuthority, ExportError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error.strerror or error}") from None
    finally:
        _stop_and_close(con)
    print(f"wrote {path}")
    return 0


def _themes(args: argparse.Namespace) -> int:
    from sendcorpus.queries.export import terminal_width
    from sendcorpus.queries.taxonomy import taxonomy_text

    print(taxonomy_text(terminal_width()))
    return 0


def _reference(args: argparse.Namespace) -> int:
    from sendcorpus.flows.lock import IngestLock, LockBusy
    from sendcorpus.queries.export import render
    from sendcorpus.warehouse import official_stats
    from sendcorpus.warehouse.db import DatabaseBusy, connect

    files = list(args.load)
    if args.defaults:
        folder = official_stats.default_folder()
        files += [folder / dataset.default_file for dataset in official_stats.DATASETS]
    if not files:
        con = _read_only(args)
        try:
            loaded = official_stats.loaded_sources(con)
        finally:
            con.close()
        if loaded.is_empty():
            print("no official statistics are loaded: run `sendcorpus reference --defaults` or --load CSV")
        else:
            print(render(loaded, "table"))
        return 0
    try:
        published = [official_stats.read_published(path) for path in files]  # every file checked first
    except official_stats.OfficialStatsError as error:
        raise CommandError(str(error)) from None
    datasets = [dataset.name for dataset, _ in published]
    twice = sorted({name for name in datasets if datasets.count(name) > 1})
    if twice:
        given = "--defaults and --load" if args.defaults and args.load else "the files"
        raise CommandError(f"{given} both load {', '.join(twice)}: give one file per dataset")
    try:
        with IngestLock(args.db, wait=False):
            con = connect(args.db)
            try:
                if not args.allow_fewer_areas:
                    for path, (dataset, frame) in zip(files, published, strict=True):
                        official_stats.check_replacement(con, path, dataset, frame)
                for path in files:
                    done = official_stats.load_file(con, path)
                    print(f"loaded {done.dataset}: {done.rows} rows, {done.release} ({done.file})")
                official_stats.load_inspection_outcomes(con)  # packaged with sendcorpus: always current
            finally:
                con.close()
    except (LockBusy, DatabaseBusy, official_stats.OfficialStatsError) as error:
        raise CommandError(str(error)) from None
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    if args.folds is not None or args.cues_only:
        if args.folds is not None and args.cues_only:
            raise CommandError("--folds and --cues-only exclude each other")
        from sendcorpus.extract.cross_validation import cross_validation_command

        bars = {"min_f1": args.min_f1, "min_facts": args.min_facts, "min_theme_f1": args.min_theme_f1}
        return cross_validation_command(args.gold, args.folds, args.seed, bars, reports=args.reports)
    from sendcorpus.extract.evaluate import evaluate_command

    return evaluate_command(args.db, args.gold, args.min_f1, args.min_facts, min_theme_f1=args.min_theme_f1)


def _train(args: argparse.Namespace) -> int:
    from sendcorpus.extract.evaluate import GoldError
    from sendcorpus.extract.train import ModelFolderError
    from sendcorpus.extract.training_command import train_command

    try:
        return train_command(args.gold, args.seed, args.output, reports=args.reports)
    except (GoldError, ModelFolderError) as error:
        raise CommandError(str(error)) from None


def _benchmark(args: argparse.Namespace) -> int:
    settings.configure_prefect()
    from sendcorpus.flows.benchmark import run_benchmark, run_scale_benchmark

    if args.scale:
        return run_scale_benchmark(
            args.scale,
            args.reports,
            args.workers,
            args.kill_at,
            args.compare_runners,
            args.memory_log,
            running_server=args.one_server,
        )
    return run_benchmark(args.reports)


def _cron(text: str) -> str:
    """Checked before any server starts (a bad expression used to fail ≈ 7 s later, after one had)."""
    from datetime import datetime

    from cronsim import CronSim, CronSimError  # Prefect's own cron parser

    try:
        if len(text.split()) not in (5, 6):
            raise CronSimError("wrong number of fields")
        CronSim(text, datetime(2026, 1, 1))
    except CronSimError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a cron expression of five fields, or six with seconds last ({error})"
        ) from None
    return text


def _share(text: str) -> float:
    """A bar on a score: 0 to 1."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a score is between 0 and 1, not {text}")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _check_update_args(args: argparse.Namespace) -> None:
    from urllib.parse import urlsplit

    from sendcorpus.flows.lock import IngestLock, LockBusy
    from sendcorpus.warehouse.db import check_name

    try:
        check_name(args.db)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if urlsplit(args.site).scheme not in ("http", "https") or not urlsplit(args.site).hostname:
        raise CommandError(f"--site must be an http(s) address, not {args.site!r}")
    if not 0 <= args.delay <= MAX_DELAY or args.max_pages < 1:  # NaN too: it would mean no delay at all
        raise CommandError(f"--delay must be 0 to {MAX_DELAY:g} seconds and --max-pages at least 1")
    # a database the update cannot use would otherwise fail only after the whole site has been crawled
    _check_corpus_file(args.db)
    with suppress(LockBusy), IngestLock(args.db):  # a folder where the lock cannot be made
        pass


def _update(args: argparse.Namespace) -> int:
    from sendcorpus.flows.http import SiteUnreachable, probe

    _check_update_args(args)
    try:
        probe(args.site)
    except SiteUnreachable as error:
        raise CommandError(f"update failed: {error}") from None
    settings.configure_prefect(args.db)
    from sendcorpus.flows.temporary_server import ServerFailed, start_temporary_server

    # Prefect's temporary server as ingest starts it, out of the terminal's process group, so Ctrl-C
    # stops the update in one line rather than the server first (Prefect's own started in the group)
    server = start_temporary_server()
    try:
        from sendcorpus.flows.update import update

        _quiet_prefect_failures()
        if server is not None:
            server.wait_until_healthy()
        state = update(
            db=args.db,
            site=args.site,
            delay=args.delay,
            cache=args.cache,
            max_pages=args.max_pages,
            return_state=True,
        )
    except ServerFailed as error:
        raise CommandError(str(error)) from None
    if not state.is_completed():
        raise CommandError(f"update failed: {state.message}")
    summary = state.result()
    for line in summary.rejections:
        print(f"  rejected {line}", file=sys.stderr)
    for line in summary.failures:
        print(f"  failed {line}", file=sys.stderr)
    print(summary.line())
    return 0


def _schedule(args: argparse.Namespace) -> int:
    _check_update_args(args)
    settings.configure_prefect(args.db)
    from sendcorpus.flows.lock import LockBusy, LockUnavailable, ScheduleLock
    from sendcorpus.flows.prefect_server import (
        ServerFailed,
        exit_on_sigterm,
        prefect_server,
        spawn_deaf_to_ctrl_c,
        stop_flow_runs,
    )

    exit_on_sigterm()
    spawn_deaf_to_ctrl_c()
    home = Path(os.environ["PREFECT_HOME"])
    try:
        with ScheduleLock(home), prefect_server(home) as api_url:
            try:
                _serve(args, api_url)
            finally:
                stop_flow_runs()
    except (ServerFailed, LockBusy, LockUnavailable) as error:
        raise CommandError(str(error)) from None
    return 0


def _not_a_cancelled_task(record: logging.LogRecord) -> bool:  # a filter of the "asyncio" logger
    """Prefect's runner exits on SIGTERM from inside its event loop; a control-channel connection open at
    that moment is cancelled, and asyncio logs that as "Exception in callback" with a traceback. A
    cancellation at shutdown is not an error."""
    import asyncio

    return not (record.exc_info and record.exc_info[0] is asyncio.CancelledError)


def _serve(args: argparse.Namespace, api_url: str) -> None:
    import logging

    from prefect.schedules import Cron

    from sendcorpus.flows.serve import serve_update

    try:
        cron = Cron(args.cron, timezone="Europe/London")
    except ValueError as error:
        raise CommandError(f"--cron: {error}") from None
    print(
        f"serving update/{args.name} on cron {args.cron!r} (Europe/London) against {args.site}; "
        f"Prefect UI at {api_url.removesuffix('/api')}; Ctrl-C to stop",
        file=sys.stderr,
    )
    logging.getLogger("asyncio").addFilter(_not_a_cancelled_task)
    parameters = {
        "db": str(args.db.resolve()),
        "site": args.site,
        "delay": args.delay,
        "cache": str(args.cache.resolve()),
        "max_pages": args.max_pages,
    }
    serve_update(args.name, cron, parameters)


def _runs(args: argparse.Namespace) -> int:
    import duckdb

    from sendcorpus.warehouse.runs import recent_runs

    con = _read_only(args)
    try:
        frame = recent_runs(con, args.limit)
    except duckdb.CatalogException:
        raise CommandError(f"{args.db} has no run history yet: run `sendcorpus ingest` or `update`") from None
    finally:
        con.close()
    _write_output(frame, args.format, args.output)
    return 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main(os.sys.argv[1:]))
