"""The Prefect flow `update`: discover area SEND publications on Ofsted's site, download the new full
inspection reports, ingest them, and record what was seen (`sources`) and the run (`runs`).

No `from __future__ import annotations` here: a served deployment validates the flow's parameters
from its annotations in another process, and pydantic cannot resolve them when they are strings."""

import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import prefect.runtime
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal
from prefect.states import Failed
from prefect.utilities.annotations import quote

from sendcorpus.flows.discover import READABLE_KINDS, Discovery, Publication, discover
from sendcorpus.flows.fetch import CONNECTION, FetchError
from sendcorpus.flows.http import PoliteClient, Politeness, SiteUnreachable
from sendcorpus.flows.ingest import DatabaseHeld, RunSummary, ingest
from sendcorpus.flows.interrupts import INTERRUPTED, caused_by_interrupt
from sendcorpus.flows.lock import IngestLock
from sendcorpus.flows.run_report import record_and_publish
from sendcorpus.flows.sources import InputFile, sha256_of
from sendcorpus.warehouse.db import WRITER_WAIT_SECONDS, DatabaseBusy, connect
from sendcorpus.warehouse.runs import RunRecord, new_run_id
from sendcorpus.warehouse.sources import (
    LOADED,
    PENDING,
    SKIPPED_KIND,
    loaded_urls,
    record_seen,
    set_status,
    statuses,
)

DOWNLOAD_FAILED = "download failed"


@dataclass
class Plan:
    to_fetch: list[Publication] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    already_loaded: dict[str, str] = field(default_factory=dict)  # url → report_id loaded by other means


@dataclass
class UpdateSummary:
    run_id: str
    flow_run_id: str | None
    providers: int = 0
    discovered: int = 0
    downloaded: int = 0
    new: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    requests: int = 0
    seconds: float = 0.0
    rejections: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"update: {self.providers} providers, {self.discovered} area SEND publications: "
            f"{self.new} new, {self.unchanged} unchanged, {self.skipped} skipped kind, "
            f"{self.rejected} rejected, {self.failed} failed; "
            f"{self.downloaded} downloads, {self.requests} requests in {self.seconds:.1f} s"
        )


# what a bad download leaves (an error page served as the file, an empty or cut-off body): fetched again
RETRIED_STATUSES = frozenset(f"rejected: {reason}" for reason in ("wrong_type", "empty", "corrupt"))


def plan_downloads(publications: list[Publication], seen: dict[str, str], loaded: dict[str, str]) -> Plan:
    """Only readable kinds never loaded before are fetched: a URL already in the corpus, or already
    loaded or rejected by an earlier update, is not fetched again; failed or unfinished downloads are."""
    plan = Plan()
    for publication in publications:
        status = seen.get(publication.url, PENDING)
        if publication.kind not in READABLE_KINDS:
            plan.skipped += 1
        elif publication.url in loaded:
            plan.unchanged += 1
            if status != LOADED:
                plan.already_loaded[publication.url] = loaded[publication.url]
        elif status == PENDING or status.startswith(DOWNLOAD_FAILED) or status in RETRIED_STATUSES:
            plan.to_fetch.append(publication)
        else:
            plan.unchanged += 1
    return plan


def seen_frame(publications: list[Publication]) -> pl.DataFrame:
    rows = [
        {
            "url": p.url,
            "ofsted_urn": p.ofsted_urn,
            "la_code": p.la_code,
            "local_authority": p.local_authority,
            "kind": p.kind,
            "title": p.title,
            "published": p.published,
            "status": PENDING if p.kind in READABLE_KINDS else SKIPPED_KIND,
        }
        for p in publications
    ]
    schema = {name: pl.String for name in rows[0]} if rows else None
    if schema:
        schema["published"] = pl.Date
    return pl.DataFrame(rows, schema=schema or _EMPTY_SEEN, orient="row")


_EMPTY_SEEN = {
    **dict.fromkeys(["url", "ofsted_urn", "la_code", "local_authority", "kind", "title"], pl.String),
    "published": pl.Date,
    "status": pl.String,
}


def download_all(
    client: PoliteClient, publications: list[Publication], cache: Path
) -> tuple[list[tuple[Publication, InputFile]], list[tuple[Publication, str]]]:
    """Each publication's file, ready to ingest with its provenance; failures with the reason. Once a
    host refuses connections through every retry, its other files are not tried this run."""
    ready, failures = [], []
    lost: dict[str, str] = {}  # host → why
    for publication in publications:
        host = urlsplit(publication.url).netloc
        if host in lost:
            failures.append((publication, f"not tried: {lost[host]}"))
            continue
        try:
            path = client.download(publication.url, cache)
        except FetchError as error:
            failures.append((publication, error.detail))
            if error.reason == CONNECTION:
                lost[host] = f"{host} stopped answering"
            continue
        item = InputFile(
            name=path.name,
            path=path,
            url=publication.url,
            published=publication.published,
            la_code=publication.la_code,
        )
        ready.append((publication, item))
    return ready, failures


@task(name="discover", cache_policy=NO_CACHE)
def discover_publications(client: PoliteClient) -> Discovery:
    """An unreachable site is an expected outcome, returned rather than raised: Prefect would log a
    raised error with its traceback, and the command promises one line."""
    try:
        return discover(client)
    except SiteUnreachable as error:
        return Discovery(unreachable=str(error), requests=client.requests)


@task(name="download", cache_policy=NO_CACHE)
def download_publications(
    client: PoliteClient, publications: list[Publication], cache: Path
) -> tuple[list[tuple[Publication, InputFile]], list[tuple[Publication, str]]]:
    return download_all(client, publications, cache)


@flow(name="update", log_prints=False)
def update(
    db: Path,
    site: str,
    delay: float = 1.0,
    cache: Path | None = None,
    max_pages: int = 2000,
) -> UpdateSummary:
    """Discover → download what is new → ingest it; `sources` and `runs` record what happened.

    A site that cannot be reached or read fails the run before anything is discovered; an existing database
    records that failure in `runs` (a scheduled run has no terminal to say it in), a missing one is not
    created for it."""
    clock, started = time.perf_counter(), datetime.now()
    flow_run_id = prefect.runtime.flow_run.id
    summary = UpdateSummary(run_id=new_run_id(), flow_run_id=str(flow_run_id) if flow_run_id else None)
    with PoliteClient(site, Politeness(delay=delay, max_pages=max_pages)) as client:
        discovery = discover_publications(quote(client))
        why = discovery.unreachable
        if not why and discovery.providers == 0 and discovery.failures:
            why = f"no providers found on {site}: {discovery.failures[0]}"
        if why:
            if db.exists():
                with IngestLock(db, wait=True), contextlib.suppress(DatabaseBusy):
                    _record_failure(db, summary, started, why)  # held by a reader: the failure says it
            return Failed(message=why)  # type: ignore[return-value]
        summary.providers, summary.failures = discovery.providers, list(discovery.failures)
        summary.discovered = len(discovery.publications)
        with IngestLock(db, wait=True):
            try:
                con = connect(db, wait_seconds=WRITER_WAIT_SECONDS)
            except DatabaseBusy:
                why = _held_message(db, "nothing was written")
                with contextlib.suppress(DatabaseBusy):  # a scheduled run has no terminal: say it in `runs`
                    _record_failure(db, summary, started, why)  # once the reader lets go, if it does soon
                return Failed(message=why)  # type: ignore[return-value]
            try:
                record_seen(con, seen_frame(discovery.publications), started)
                plan = plan_downloads(discovery.publications, statuses(con), loaded_urls(con))
                for url, report_id in plan.already_loaded.items():
                    set_status(con, url, LOADED, report_id)
            finally:
                con.close()
            try:
                ready, download_failures = download_publications(
                    quote(client), quote(plan.to_fetch), cache or db.parent / "cache"
                )
                inputs = [item for _, item in ready]
                ingested = _ingest_quietly(db, inputs) if inputs else None
            except DatabaseHeld:
                held = _held_message(db, _KEPT)  # the ingest's own wording says "run ingest again"
                with contextlib.suppress(DatabaseBusy):
                    _record_failure(db, summary, started, held)
                return Failed(message=held)  # type: ignore[return-value]
            except BaseException as error:
                with contextlib.suppress(DatabaseBusy):
                    _record_failure(db, summary, started, _failure_reason(error))
                raise
            summary.requests = client.requests
            try:
                _finish(db, summary, plan, ready, download_failures, ingested, started, clock)
            except DatabaseBusy:
                return Failed(message=_held_message(db, _KEPT))  # type: ignore[return-value]
    return summary


# what the ingest committed stays; the next update finds it in corpus.reports and marks its sources loaded
# (plan_downloads), so nothing loaded is fetched twice
_KEPT = "the reports this run loaded are kept and the next update records them"


def _held_message(db: Path, outcome: str) -> str:
    return (
        f"another process (a `sql` or `report` reader, or another program) held {db} for more than "
        f"{WRITER_WAIT_SECONDS:g} s; {outcome}: run update again when it is free"
    )


def _ingest_quietly(db: Path, inputs: list[InputFile]) -> RunSummary:
    """The ingest subflow without Prefect's parameter validation: in a served deployment's run process
    the subflow's string annotations (`from __future__ import annotations` in flows/ingest.py) cannot be
    resolved, and validation fails with "IngestModel is not fully defined". The values are ours and typed."""
    return ingest.with_options(validate_parameters=False)(db=db, use_registry=False, inputs=inputs)


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, TerminationSignal):  # the schedule was stopped while this run was going
        return "stopped by SIGTERM before it finished"
    if caused_by_interrupt(error):
        return INTERRUPTED
    return " ".join(str(error).split()) or type(error).__name__


def _record_failure(db: Path, summary: UpdateSummary, started: datetime, why: str) -> None:
    failed = RunRecord("update", started, status=f"failed: {why}", flow_run_id=summary.flow_run_id)
    failed.run_id, failed.discovered = summary.run_id, summary.discovered
    record_and_publish(db, failed, summary.rejections, [*summary.failures, why])


def _another_area(publication: Publication, la_code: str | None) -> bool:
    return publication.la_code is not None and la_code is not None and publication.la_code != la_code


def _finish(
    db: Path,
    summary: UpdateSummary,
    plan: Plan,
    ready: list[tuple[Publication, InputFile]],
    download_failures: list[tuple[Publication, str]],
    ingested: RunSummary | None,
    started: datetime,
    clock: float,
) -> None:
    """Statuses for what was fetched, the run's row and its artifact."""
    rejected_by_name = {r.file: r for r in ingested.rejections} if ingested else {}
    con = connect(db, wait_seconds=WRITER_WAIT_SECONDS)
    try:
        report_by_sha = {
            sha: (report_id, file, la_code, local_authority)
            for sha, report_id, file, la_code, local_authority in con.execute(
                "SELECT sha256, report_id, file, la_code, local_authority FROM reports"
            ).fetchall()
        }
        for publication, error in download_failures:
            set_status(con, publication.url, f"{DOWNLOAD_FAILED}: {error}")
            summary.failures.append(f"{publication.local_authority} {publication.url}: {error}")
        another_area = 0
        for publication, item in ready:
            assert item.path is not None
            loaded = report_by_sha.get(sha256_of(item.path))
            if loaded and not _another_area(publication, loaded[2]):
                set_status(con, publication.url, LOADED, loaded[0])
                continue
            if loaded:  # the site's link for one area served a report already loaded for another
                another_area += 1  # the ingest counted it a duplicate
                reason = "another area's report"
                detail = f"the same file as {loaded[1]}, the report of {loaded[3]}"
            else:
                rejection = rejected_by_name.get(item.name)
                reason = rejection.reason if rejection else "not loaded"
                detail = rejection.detail if rejection else "the ingest did not load it"
            set_status(con, publication.url, f"rejected: {reason}")
            summary.rejections.append(f"{publication.local_authority} {publication.url}: {reason} — {detail}")
        summary.downloaded = len(ready)
        summary.new = ingested.new if ingested else 0
        summary.unchanged = plan.unchanged + (ingested.unchanged + ingested.duplicate if ingested else 0)
        summary.unchanged -= another_area
        summary.skipped = plan.skipped
        summary.rejected = len(summary.rejections)
        summary.failed = len(summary.failures)
        summary.seconds = time.perf_counter() - clock
    finally:
        con.close()
    record = RunRecord(
        "update",
        started,
        flow_run_id=summary.flow_run_id,
        discovered=summary.discovered,
        new=summary.new,
        unchanged=summary.unchanged,
        rejected=summary.rejected,
        failed=summary.failed,
        run_id=summary.run_id,
    )
    record_and_publish(db, record, summary.rejections, summary.failures)
