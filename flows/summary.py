"""What one ingest run did, as counts and a line for the terminal (no Prefect needed to print it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sendcorpus.warehouse.load import Rejection


@dataclass
class RunSummary:
    new: int = 0  # reports not in the corpus before
    unchanged: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0  # inputs that hit an error in the pipeline itself, not a bad input
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    flow_run_id: str | None = None  # None when the plan found nothing to do and no flow ran
    reprocessed: int = 0  # reports already in the corpus, read again (--rebuild, or the extraction changed)

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        again = f", {self.reprocessed} reprocessed" if self.reprocessed else ""
        return (
            f"ingest: {self.new} new{again}, {self.unchanged} unchanged, {self.duplicate} duplicate, "
            f"{self.rejected} rejected{failed} in {self.seconds:.1f} s"
        )


FAILURE_REASONS = frozenset({"failed", "load_failed"})


def summarise(
    new: int,
    unchanged: int,
    rejections: list[Rejection],
    seconds: float,
    flow_run_id: str | None,
    reprocessed: int = 0,
) -> RunSummary:
    duplicates = sum(rejection.reason == "duplicate" for rejection in rejections)
    failed = sum(rejection.reason in FAILURE_REASONS for rejection in rejections)
    return RunSummary(
        new=new,
        unchanged=unchanged,
        duplicate=duplicates,
        rejected=len(rejections) - duplicates - failed,
        failed=failed,
        seconds=seconds,
        rejections=rejections,
        flow_run_id=flow_run_id,
        reprocessed=reprocessed,
    )
