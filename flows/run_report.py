"""What a run changed, as Markdown: new reports with their outcome, outcomes that changed from the area's
previous report, rejections and failures. Published as a Prefect artifact on the run's flow run."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from uuid import UUID

import duckdb

from sendcorpus.warehouse.db import WRITER_WAIT_SECONDS, connect
from sendcorpus.warehouse.runs import RunRecord, record_run

log = logging.getLogger(__name__)

# Reports loaded since `since`, each with the outcome of the same area's latest earlier inspection.
_NEW_REPORTS = """
SELECT n.local_authority, n.la_code, n.outcome, n.published, n.source_url, n.file,
       (SELECT p.outcome FROM reports AS p
        WHERE p.la_code = n.la_code AND p.report_id <> n.report_id
          AND coalesce(p.inspection_start, p.published) < coalesce(n.inspection_start, n.published)
        ORDER BY p.inspection_start DESC NULLS LAST, p.published DESC NULLS LAST
        LIMIT 1) AS previous_outcome
FROM reports AS n
WHERE n.loaded_at >= ?
ORDER BY n.local_authority, n.published
"""


def new_reports(con: duckdb.DuckDBPyConnection, since: datetime) -> list[dict[str, object]]:
    cursor = con.execute(_NEW_REPORTS, [since])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_markdown(
    title: str, reports: list[dict[str, object]], rejections: list[str], failures: list[str]
) -> str:
    lines = [f"# {title}", "", f"## New reports ({len(reports)})", ""]
    if reports:
        lines += ["| area | outcome | published | source |", "|---|---|---|---|"]
        for report in reports:
            source = report["source_url"] or report["file"]
            lines.append(
                f"| {report['local_authority']} | {report['outcome'] or '—'} | {report['published'] or '—'} "
                f"| {source} |"
            )
    else:
        lines.append("None.")
    changes = [r for r in reports if r["previous_outcome"] and r["previous_outcome"] != r["outcome"]]
    lines += ["", f"## Outcome changed from the area's previous report ({len(changes)})", ""]
    lines += [f"- {r['local_authority']}: {r['previous_outcome']} → {r['outcome']}" for r in changes] or [
        "None."
    ]
    lines += ["", f"## Rejected ({len(rejections)})", ""]
    lines += [f"- {line}" for line in rejections] or ["None."]
    lines += ["", f"## Failed ({len(failures)})", ""]
    lines += [f"- {line}" for line in failures] or ["None."]
    return "\n".join(lines) + "\n"


def publish(markdown: str, key: str, flow_run_id: str) -> None:
    """Attach the Markdown to the flow run. A Prefect API that has gone away must not fail a run whose
    data is already written, so problems are logged, not raised."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate

    try:
        with get_client(sync_client=True) as client:
            client.create_artifact(
                ArtifactCreate(
                    key=key,
                    type="markdown",
                    data=markdown,
                    description="what this run changed",
                    flow_run_id=UUID(flow_run_id),
                )
            )
    except Exception as error:
        log.warning("could not publish the run's artifact: %s", error)


def record_and_publish(db: Path, record: RunRecord, rejections: list[str], failures: list[str]) -> None:
    """The run's row in `runs`, then its artifact on the flow run: the reports it loaded, their outcome
    changes, what it rejected and what failed."""
    con = connect(db, wait_seconds=WRITER_WAIT_SECONDS)
    try:
        record.finished = record.finished or datetime.now()
        record_run(con, record)
        reports = new_reports(con, record.started)
    finally:
        con.close()
    if record.flow_run_id is None:
        return  # no flow run to attach it to (nothing to do, or it failed before starting): no server either
    title = f"{record.kind} run {record.run_id}: {record.status}"
    publish(run_markdown(title, reports, rejections, failures), f"{record.kind}-run", record.flow_run_id)
