"""`sendcorpus train`: the shipped theme classifier, reproduced from the gold."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from sendcorpus.extract.evaluate import GoldError, read_gold_themes
from sendcorpus.extract.theme_model import MODEL_DIR, PIPELINE
from sendcorpus.extract.train import check_model_folder, examples_of, train_model
from sendcorpus.extract.training_data import labelled_items, parse_gold_reports, report_sources


def train_command(
    gold_dir: Path, seed: int, output: Path | None, out: TextIO = sys.stdout, reports: Path | None = None
) -> int:
    if not gold_dir.is_dir():
        raise GoldError(f"no gold folder at {gold_dir}")
    folder = output if output is not None else Path(str(MODEL_DIR))
    check_model_folder(folder)  # before the training, not after it
    started = time.perf_counter()
    _, gold_items = read_gold_themes(gold_dir)
    parsed = parse_gold_reports(gold_items, report_sources(gold_dir, reports))
    examples = examples_of(labelled_items(gold_items, parsed))
    model = train_model(examples, seed, folder)
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in (folder / PIPELINE).rglob("*") if path.is_file())
    print(
        f"trained on {len(examples)} items of {len(parsed)} reports in {seconds:.1f} s (seed {seed})",
        file=out,
    )
    print(f"wrote {folder} ({size / 1e6:.1f} MB); thresholds per theme (with cue / alone):", file=out)
    for theme, limits in model.thresholds.items():
        alone = "never" if limits.alone > 1 else f"{limits.alone:.2f}"
        print(f"  {theme:<27} {limits.with_cue:.2f} / {alone}", file=out)
    return 0
