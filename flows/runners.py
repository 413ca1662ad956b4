"""`benchmark --compare-runners`: the analysis of a folder of reports on concurrent.futures (what the
ingest uses) and on Prefect's ProcessPoolTaskRunner, with the same chunks and the same worker count.

Run as `python -m sendcorpus.flows.runners MODE FOLDER WORKERS CHUNK`; prints the seconds from the start
of the analysis to its end (Prefect's server start-up is outside both numbers).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sendcorpus.flows.analyse import Analyser, Result, analyse_report
from sendcorpus.flows.plan import cached_sha256
from sendcorpus.flows.sources import InputFile


def _chunks(folder: Path, size: int) -> list[list[InputFile]]:
    inputs = []
    for path in sorted(folder.iterdir()):
        item = InputFile(name=path.name, path=path)
        item.sha256 = cached_sha256(path)
        inputs.append(item)
    return [inputs[start : start + size] for start in range(0, len(inputs), size)]


def with_futures(chunks: list[list[InputFile]], workers: int) -> float:
    started = time.perf_counter()
    with Analyser(workers) as analyser:
        waits = [analyser.submit(chunk) for chunk in chunks]
        for wait in waits:
            wait()
    return time.perf_counter() - started


def with_prefect_process_pool(chunks: list[list[InputFile]], workers: int) -> float:
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ProcessPoolTaskRunner

    @task(cache_policy=NO_CACHE)
    def analyse(chunk: list[InputFile]) -> list[Result]:
        return [analyse_report(source) for source in chunk]

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=workers))
    def analyse_all() -> float:
        started = time.perf_counter()
        for future in [analyse.submit(chunk) for chunk in chunks]:
            future.result()
        return time.perf_counter() - started

    return analyse_all()


def main(argv: list[str]) -> None:
    from sendcorpus import settings

    mode, folder, workers, size = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    chunks = _chunks(folder, size)
    if mode == "futures":
        print(f"{with_futures(chunks, workers):.2f}")
    else:
        settings.configure_prefect()
        print(f"{with_prefect_process_pool(chunks, workers):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
