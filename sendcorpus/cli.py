"""The `sendcorpus` command line."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

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
    evaluate.add_argument("--min-theme-f1", type=float, help="bar for every theme's item-level F1")
    evaluate.add_argument(
        "--folds", type=int, help="cross-validate the tagger by report over K folds (no database needed)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the fold split and the training")
    evaluate.add_argument(
        "--cues-only", action="store_true", help="score the rule cues alone on every gold report"
    )

    train = commands.add_parser(
        "train", help="Train the theme classifier on the gold.", description="Train the theme classifier."
    )
    train.add_argument("--gold", type=Path, default=settings.shared_dir() / "gold")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--output", type=Path, help="model folder (default: the one shipped in the package)")
    train.set_defaults(handler=_train)

    benchmark = command("benchmark", _benchmark, "Measure the speed of each stage on the corpus.")
    benchmark.add_argument("--reports", type=Path, default=settings.shared_dir() / "corpus" / "reports")

    schedule = command("schedule", _schedule, "Serve the ingest flow on a cron schedule (Europe/London).")
    schedule.add_argument("--cron", default="0 6 * * 1", help="cron expression (default Mondays 06:00)")
    schedule.add_argument("--mirror", type=Path, default=settings.default_mirror())
    return parser


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
            run = _run_ingest_flow(args)
    except LockBusy as error:
        raise CommandError(str(error)) from None
    for rejection in run.rejections:
        print(f"  rejected {rejection.file}: {rejection.reason} — {rejection.detail}", file=sys.stderr)
    print(run.line())
    return 0


def _run_ingest_flow(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    settings.configure_prefect()
    from sendcorpus.flows.ingest import ingest

    sources = list(args.source)
    if not args.no_registry and not sources:
        sources = settings.default_seed_reports()
    return ingest(
        db=args.db,
        sources=sources,
        use_registry=not args.no_registry,
        mirror=args.mirror,
        cache=args.cache,
        rebuild=args.rebuild,
    )


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
    if args.folds is not None or args.cues_only:
        if args.folds is not None and args.cues_only:
            raise CommandError("--folds and --cues-only exclude each other")
        from sendcorpus.extract.cross_validation import cross_validation_command

        bars = {"min_f1": args.min_f1, "min_facts": args.min_facts, "min_theme_f1": args.min_theme_f1}
        return cross_validation_command(args.gold, args.folds, args.seed, bars)
    from sendcorpus.extract.evaluate import evaluate_command

    return evaluate_command(args.db, args.gold, args.min_f1, args.min_facts, min_theme_f1=args.min_theme_f1)


def _train(args: argparse.Namespace) -> int:
    from sendcorpus.extract.evaluate import GoldError
    from sendcorpus.extract.training_command import train_command

    try:
        return train_command(args.gold, args.seed, args.output)
    except GoldError as error:
        raise CommandError(str(error)) from None


def _benchmark(args: argparse.Namespace) -> int:
    settings.configure_prefect()
    from sendcorpus.flows.benchmark import run_benchmark

    return run_benchmark(args.reports, args.db)


def _schedule(args: argparse.Namespace) -> int:
    settings.configure_prefect()
    from sendcorpus.flows.ingest import ingest

    print(f"serving ingest on cron {args.cron!r} (Europe/London); Ctrl-C to stop", file=sys.stderr)
    ingest.serve(
        name="weekly-ingest",
        cron=args.cron,
        timezone="Europe/London",
        parameters={"db": str(args.db), "mirror": str(args.mirror) if args.mirror else None},
    )
    return 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main(os.sys.argv[1:]))
