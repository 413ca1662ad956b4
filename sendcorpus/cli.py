"""The `sendcorpus` command line."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sendcorpus import __version__, settings

FORMATS = ["table", "csv", "json", "parquet", "xlsx", "md", "html"]
READ_WAIT_SECONDS = 30.0


class CommandError(Exception):
    """An expected failure: printed as one line, exit code 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except CommandError as error:
        print(f"sendcorpus: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sendcorpus: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendcorpus", description="Area SEND inspection reports as data.")
    parser.add_argument("--version", action="version", version=f"sendcorpus {__version__}")
    commands = parser.add_subparsers(title="commands")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--db", type=Path, default=settings.default_db(), help="DuckDB file (env SENDCORPUS_DB)"
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

    sql = command("sql", _sql, "Run ad-hoc SQL on a read-only connection.")
    sql.add_argument("query")
    sql.add_argument("--format", choices=FORMATS, default="table")
    sql.add_argument("--output", type=Path)
    sql.add_argument(
        "--allow-files", action="store_true", help="let the SQL read and write files on this machine"
    )
    sql.add_argument("--timeout", type=float, default=60.0, help="stop the query after this many seconds")

    command("queries", _queries, "List the named queries.")

    query = command("query", _query, "Run a named query from queries/.")
    query.add_argument("name")
    query.add_argument("--la", help="local authority name or code")
    query.add_argument("--theme", help="theme id from themes.yaml")
    query.add_argument("--region", help="region name")
    query.add_argument("--text", help="words to search for")
    query.add_argument("--all-reports", action="store_true", help="include superseded inspections")
    query.add_argument("--format", choices=FORMATS, default="table")
    query.add_argument("--output", type=Path)

    report = command("report", _report, "Write the comparison report for an area (.html or .xlsx).")
    report.add_argument("--la", required=True)
    report.add_argument("--output", type=Path, required=True)

    evaluate = command("evaluate", _evaluate, "Score the corpus against hand-checked gold files.")
    evaluate.add_argument("--gold", type=Path, default=settings.shared_dir() / "gold")
    evaluate.add_argument("--min-f1", type=float)
    evaluate.add_argument("--min-facts", type=float)

    benchmark = command("benchmark", _benchmark, "Measure the speed of each stage on the corpus.")
    benchmark.add_argument("--reports", type=Path, default=settings.shared_dir() / "corpus" / "reports")

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
        sub.add_argument("--max-pages", type=int, default=2000, help="cap on pages read per run")
    schedule.add_argument("--cron", default="0 6 * * 1", help="cron expression (default Mondays 06:00)")
    schedule.add_argument("--name", default="weekly", help="deployment name (default weekly)")
    runs = command("runs", _runs, "List the recent ingest and update runs.")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--format", choices=FORMATS, default="table")
    runs.add_argument("--output", type=Path)


def _ingest(args: argparse.Namespace) -> int:
    from sendcorpus.flows.lock import IngestLock, LockBusy
    from sendcorpus.warehouse.db import check_name

    try:
        check_name(args.db)
    except ValueError as error:
        raise CommandError(str(error)) from None
    missing = [str(path) for path in args.source if not path.exists()]
    if missing:
        raise CommandError(f"no such file or folder: {', '.join(missing)}")
    try:
        with IngestLock(args.db, wait=args.wait):
            run = _recorded(args.db, lambda: _run_ingest_flow(args))
    except LockBusy as error:
        raise CommandError(str(error)) from None
    for rejection in run.rejections:
        print(f"  rejected {rejection.file}: {rejection.reason} — {rejection.detail}", file=sys.stderr)
    print(run.line())
    return 0


def _run_ingest_flow(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    settings.configure_prefect()
    from sendcorpus.flows.ingest import ingest
    from sendcorpus.seeds.seed_reports import seed_inputs

    sources = list(args.source)
    seeds = seed_inputs(settings.default_seed_reports()) if not args.no_registry and not sources else []
    return ingest(
        db=args.db,
        sources=sources,
        use_registry=not args.no_registry,
        mirror=args.mirror,
        cache=args.cache,
        rebuild=args.rebuild,
        inputs=seeds,
    )


def _recorded(db: Path, run_flow: Callable[[], Any]) -> Any:
    """Run the ingest flow and record it in `runs` (and as a Prefect artifact), failed or not."""
    from datetime import datetime

    from sendcorpus.flows.run_report import record_and_publish
    from sendcorpus.warehouse.runs import RunRecord

    record = RunRecord("ingest", datetime.now())
    try:
        run = run_flow()
    except BaseException as error:
        record.status = f"failed: {_one_line(error) or type(error).__name__}"
        record_and_publish(db, record, [], [record.status])
        raise
    record.flow_run_id, record.new, record.unchanged = run.flow_run_id, run.new, run.unchanged + run.duplicate
    record.rejected, record.failed = run.rejected, run.failed
    record.discovered = run.new + run.unchanged + run.duplicate + run.rejected + run.failed
    lines = [f"{r.file}: {r.reason} — {r.detail}" for r in run.rejections]
    record_and_publish(
        db,
        record,
        [line for line in lines if ": failed —" not in line],
        [line for line in lines if ": failed —" in line],
    )
    return run


def _read_only(args: argparse.Namespace, allow_files: bool = False):  # type: ignore[no-untyped-def]
    from sendcorpus.warehouse.db import DatabaseBusy, connect

    try:
        return connect(args.db, read_only=True, wait_seconds=READ_WAIT_SECONDS, allow_files=allow_files)
    except (FileNotFoundError, DatabaseBusy, ValueError) as error:
        raise CommandError(str(error)) from None


def _write_output(frame, fmt: str, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    from sendcorpus.queries.export import ExportError, export

    try:
        text = export(frame, fmt, output)
    except ExportError as error:
        raise CommandError(str(error)) from None
    if text is not None:
        print(text)
    elif output is not None:
        print(f"wrote {output}", file=sys.stderr)


def _sql(args: argparse.Namespace) -> int:
    import duckdb

    con = _read_only(args, allow_files=args.allow_files)
    timer = threading.Timer(args.timeout, con.interrupt)
    timer.start()
    try:
        frame = con.execute(args.query).pl()
    except duckdb.InterruptException:
        raise CommandError(
            f"the query ran longer than {args.timeout:g} s and was stopped (see --timeout)"
        ) from None
    except duckdb.Error as error:
        raise CommandError(_one_line(error)) from None
    finally:
        timer.cancel()
        con.close()
    _write_output(frame, args.format, args.output)
    return 0


def _queries(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import list_queries

    for info in list_queries():
        print(f"{info.name:<18} {info.description}  {' '.join(info.parameters)}".rstrip())
    return 0


def _query(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import QueryError, run_query
    from sendcorpus.warehouse.reference import UnknownAuthority

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
    con = _read_only(args)
    try:
        frame = run_query(con, args.name, params)
    except (QueryError, UnknownAuthority) as error:
        raise CommandError(str(error)) from None
    finally:
        con.close()
    _write_output(frame, args.format, args.output)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sendcorpus.queries.catalog import QueryError
    from sendcorpus.queries.report import write_report
    from sendcorpus.warehouse.reference import UnknownAuthority

    if args.output.suffix.lower() not in (".html", ".xlsx"):
        raise CommandError("--output must end in .html or .xlsx")
    con = _read_only(args)
    try:
        path = write_report(con, args.la, args.output)
    except (QueryError, UnknownAuthority) as error:
        raise CommandError(str(error)) from None
    finally:
        con.close()
    print(f"wrote {path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from sendcorpus.extract.evaluate import evaluate_command

    return evaluate_command(args.db, args.gold, args.min_f1, args.min_facts)


def _benchmark(args: argparse.Namespace) -> int:
    settings.configure_prefect()
    from sendcorpus.flows.benchmark import run_benchmark

    return run_benchmark(args.reports, args.db)


def _check_update_args(args: argparse.Namespace) -> None:
    from urllib.parse import urlsplit

    from sendcorpus.warehouse.db import check_name

    try:
        check_name(args.db)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if urlsplit(args.site).scheme not in ("http", "https") or not urlsplit(args.site).hostname:
        raise CommandError(f"--site must be an http(s) address, not {args.site!r}")
    if args.delay < 0 or args.max_pages < 1:
        raise CommandError("--delay must be 0 or more and --max-pages at least 1")


def _update(args: argparse.Namespace) -> int:
    from sendcorpus.flows.http import SiteUnreachable, probe

    _check_update_args(args)
    try:
        probe(args.site)
    except SiteUnreachable as error:
        raise CommandError(f"update failed: {error}") from None
    settings.configure_prefect()
    from sendcorpus.flows.update import update

    state = update(
        db=args.db,
        site=args.site,
        delay=args.delay,
        cache=args.cache,
        max_pages=args.max_pages,
        return_state=True,
    )
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
    import signal
    import warnings

    _check_update_args(args)
    # Prefect 3.8.8's runner calls its async stop without awaiting it on SIGTERM; the warning is noise.
    warnings.filterwarnings("ignore", message="coroutine 'Runner.astop' was never awaited")
    settings.configure_prefect()
    # Until Prefect's runner installs its own handler, SIGTERM must unwind like Ctrl-C so the server stops.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from sendcorpus.flows.prefect_server import ServerFailed, prefect_server

    try:
        with prefect_server(Path(os.environ["PREFECT_HOME"])) as api_url:
            _serve(args, api_url)
    except ServerFailed as error:
        raise CommandError(str(error)) from None
    return 0


def _serve(args: argparse.Namespace, api_url: str) -> None:
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from sendcorpus.flows.update import update

    try:
        cron = Cron(args.cron, timezone="Europe/London")
    except ValueError as error:
        raise CommandError(f"--cron: {error}") from None
    print(
        f"serving update/{args.name} on cron {args.cron!r} (Europe/London) against {args.site}; "
        f"Prefect UI at {api_url.removesuffix('/api')}; Ctrl-C to stop",
        file=sys.stderr,
    )
    update.serve(
        name=args.name,
        schedules=[cron],
        parameters={
            "db": str(args.db.resolve()),
            "site": args.site,
            "delay": args.delay,
            "cache": str(args.cache.resolve()),
            "max_pages": args.max_pages,
        },
        entrypoint_type=EntrypointType.MODULE_PATH,
        limit=1,  # one update at a time: a slow run and the next tick must not both download
        print_starting_message=False,
    )


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
