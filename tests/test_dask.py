"""The path past one machine: the same ingest flow on Prefect's Dask task runner (prefect-dask).

Here the cluster is a `distributed.LocalCluster` of two worker processes; pointed at a remote
scheduler (`DaskTaskRunner(address="tcp://host:8786")`) the code is the same (see README).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import REPORTS


@pytest.mark.slow
def test_ingest_runs_its_chunks_on_a_dask_local_cluster(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect_dask import DaskTaskRunner

    from sendcorpus.flows.ingest import ingest

    runner = DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )
    sources = [REPORTS / name for name in ("rutland.pdf", "bury.pdf", "haringey.pdf")]
    db = tmp_path / "dask.duckdb"
    summary = ingest.with_options(task_runner=runner)(
        db=db, sources=sources, use_registry=False, workers=2, chunk_size=1
    )
    assert (summary.new, summary.rejected, summary.failed) == (3, 0, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(row[0] for row in con.execute("SELECT file FROM reports").fetchall()) == sorted(
        path.name for path in sources
    )
    assert con.execute("SELECT count(*) FROM items WHERE page IS NULL").fetchone()[0] == 0
    con.close()
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[summary.flow_run_id])), limit=50
        )
    names = [task_run.name.rsplit("-", 1)[0] for task_run in task_runs]
    assert names.count("read, clean, segment, extract") == 3
    assert {task_run.state_name for task_run in task_runs} == {"Completed"}
