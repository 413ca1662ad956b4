"""The path past one machine: the README's example, the same ingest flow on Prefect's Dask task runner
(prefect-dask), run as written against a Dask scheduler on 127.0.0.1 (a `distributed.LocalCluster` of
two worker processes) instead of the README's remote one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import REPORTS

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_dask_example() -> str:
    after = README.read_text(encoding="utf-8").split(
        "The workers must see the input files at the same paths:"
    )[1]
    block = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert block, "the README's Dask example is missing"
    return block.group(1)


@pytest.mark.slow
def test_the_readme_dask_example_runs_the_ingest_on_a_dask_scheduler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    reports = tmp_path / "reports"
    reports.mkdir()
    names = ("rutland.pdf", "bury.pdf", "haringey.pdf")
    for name in names:
        shutil.copy(REPORTS / name, reports)
    db = tmp_path / "dask.duckdb"
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        example = _readme_dask_example()
        for written, here in (
            ("tcp://scheduler.example:8786", cluster.scheduler_address),
            ('Path("data/sendcorpus.duckdb")', f"Path({str(db)!r})"),
            ('Path("/shared/reports")', f"Path({str(reports)!r})"),
        ):
            assert written in example
            example = example.replace(written, here)
        assert cluster.scheduler.transition_counter == 0
        namespace: dict[str, object] = {}
        exec(compile(example, str(README), "exec"), namespace)
        tasks_on_dask = cluster.scheduler.transition_counter
    finally:
        cluster.close()
    assert capsys.readouterr().out.strip().startswith("ingest: 3 new, 0 unchanged, 0 duplicate, 0 rejected")
    assert tasks_on_dask > 0  # the scheduler ran the flow's tasks
    summary = namespace["summary"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert sorted(row[0] for row in con.execute("SELECT file FROM reports").fetchall()) == sorted(names)
        assert con.execute("SELECT count(*) FROM items WHERE page IS NULL").fetchone() == (0,)
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[summary.flow_run_id])),  # type: ignore[attr-defined]
            limit=50,
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    stages = [task_run.name.rsplit("-", 1)[0] for task_run in task_runs]
    assert "read, clean, segment, extract" in stages
    assert {task_run.state_name for task_run in task_runs} == {"Completed"}
