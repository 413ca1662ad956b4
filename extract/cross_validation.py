"""`sendcorpus evaluate --folds K`: the theme tagger scored on reports it was not fitted on.

The gold reports are segmented straight from their files (no database, no Prefect); the classifier and its
thresholds are fitted on K-1 folds of reports and tag the held-out fold; the pooled predictions are scored
as `evaluate` scores a database (report level from the union of a section's matched items)."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from sendcorpus.extract.evaluate import (
    FACT_FIELDS,
    Counts,
    Evaluation,
    GoldError,
    PredictedItem,
    cannot_run,
    print_evaluation,
    read_gold_facts,
    read_gold_themes,
    score_facts,
    score_item_level,
    score_report_level,
)
from sendcorpus.extract.facts import extract_facts
from sendcorpus.extract.train import cross_validate, cues_from_other_folds, examples_of
from sendcorpus.extract.training_data import labelled_items, parse_gold_reports, report_sources

CUE_DEVELOPMENT = resources.files("sendcorpus.extract") / "patterns" / "cue_development_reports.txt"


def cue_development_reports() -> frozenset[str]:
    """The gold report files the rule cues were written from (see the file's header)."""
    lines = CUE_DEVELOPMENT.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass
class CrossValidation:
    """The evaluation on every gold report; on the reports the rule cues were not written from (None
    when there are none); and, when cross-validating, of the cues as if written from the training folds
    alone (`cues_from_other_folds`). The last two are the fairest estimates of a report nobody here has
    read."""

    evaluation: Evaluation
    unseen_by_cues: Evaluation | None
    unseen_reports: int
    cues_from_training_folds: Evaluation | None = None
    model_effect: ModelEffect | None = None


@dataclass(frozen=True)
class ModelEffect:
    """What the trained classifier changed against the rule cues alone, in the same cross-validation."""

    used: list[tuple[int, str]]  # (fold, theme) whose thresholds read its score
    theme_folds: int
    items: int  # gold items matched to an item
    changed: int  # of those, the items whose themes differ from the cues'
    added: int
    removed: int
    cues_alone: Counts  # item level, micro


def cross_validated_evaluation(
    gold_dir: Path, folds: int | None, seed: int, reports: Path | None = None
) -> CrossValidation:
    """With `folds` None the rule cues alone are scored on every report (there is nothing to fit)."""
    gold_report_level, gold_items = read_gold_themes(gold_dir)
    files = {item.file for item in gold_items}
    if folds is not None and folds > len(files):
        raise GoldError(f"--folds {folds} is more than the {len(files)} gold reports: each fold needs one")
    gold_facts = read_gold_facts(gold_dir)
    parsed = parse_gold_reports(gold_items, report_sources(gold_dir, reports))
    examples = examples_of(labelled_items(gold_items, parsed))
    cues = [set(example.cues) for example in examples]
    fitted = None if folds is None else cross_validate(examples, folds, seed)
    predicted = cues if fitted is None else fitted.predicted
    facts = {
        file: {name: _text(getattr(extract_facts(report), name)) for name in FACT_FIELDS}
        for file, report in parsed.items()
    }
    unseen = set(parsed) - cue_development_reports()

    def evaluate(predicted: list[set[str]], files: Collection[str]) -> Evaluation:
        items = [
            PredictedItem(e.item.file, e.item.section, e.item.text, frozenset(themes))
            for e, themes in zip(examples, predicted, strict=True)
            if e.item.matched and e.item.file in files
        ]
        report_level: dict[tuple[str, str], set[str]] = defaultdict(set)
        for item in items:
            report_level[(item.file, item.section)] |= item.themes
        return Evaluation(
            facts=score_facts([row for row in gold_facts if row["file"] in files], facts),
            report_level=score_report_level(
                {key: themes for key, themes in gold_report_level.items() if key[0] in files}, report_level
            ),
            item_level=score_item_level([item for item in gold_items if item.file in files], items),
        )

    evaluation = evaluate(predicted, set(parsed))
    on_unseen = evaluate(predicted, unseen) if unseen else None
    if fitted is None:
        return CrossValidation(evaluation, on_unseen, len(unseen))
    matched = [n for n, example in enumerate(examples) if example.item.matched]
    effect = ModelEffect(
        used=fitted.model_used(),
        theme_folds=sum(len(chosen) for chosen in fitted.thresholds),
        items=len(matched),
        changed=sum(1 for n in matched if predicted[n] != cues[n]),
        added=sum(len(predicted[n] - cues[n]) for n in matched),
        removed=sum(len(cues[n] - predicted[n]) for n in matched),
        cues_alone=evaluate(cues, set(parsed)).item_level.overall,
    )
    return CrossValidation(
        evaluation,
        on_unseen,
        len(unseen),
        evaluate(cues_from_other_folds(examples, folds, seed), set(parsed)),
        effect,
    )


def _prf(counts: Counts) -> str:
    return f"P {counts.precision:.3f}  R {counts.recall:.3f}  F1 {counts.f1:.3f}"


def _weakest(by_theme: dict[str, Counts], shown: int = 4) -> str:
    ranked = sorted(by_theme.items(), key=lambda pair: (pair[1].f1, pair[0]))[:shown]
    return ", ".join(f"{theme} {counts.f1:.3f}" for theme, counts in ranked)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def cross_validation_command(
    gold_dir: Path,
    folds: int | None,
    seed: int,
    bars: dict[str, float | None],
    out: TextIO = sys.stdout,
    reports: Path | None = None,
) -> int:
    """0 when every bar is met, 1 when one is not, 2 when it cannot run."""
    if folds is not None and folds < 2:
        return cannot_run("--folds needs at least 2 folds")
    if not gold_dir.is_dir():
        return cannot_run(f"no gold folder at {gold_dir}")
    started = time.perf_counter()
    try:
        result = cross_validated_evaluation(gold_dir, folds, seed, reports)
    except GoldError as error:
        return cannot_run(str(error))
    evaluation = result.evaluation
    how = "rule cues only, every report" if folds is None else f"{folds}-fold cross-validation by report"
    print(f"Evaluated by {how} (seed {seed}) in {time.perf_counter() - started:.1f} s", file=out)
    print_evaluation(evaluation, out)
    if result.unseen_by_cues is not None:
        unseen = result.unseen_by_cues
        reports = "report" if result.unseen_reports == 1 else "reports"
        print(
            f"\nOn the {result.unseen_reports} gold {reports} the rule cues were not written from "
            "(extract/patterns/cue_development_reports.txt):\n"
            f"  item level    {_prf(unseen.item_level.overall)}\n"
            f"  report level  {_prf(unseen.report_level.overall)}",
            file=out,
        )
    if result.cues_from_training_folds is not None:
        strict = result.cues_from_training_folds
        print(
            "\nThe rule cues alone, each fold with only the cue lines that found a right theme in the other "
            "folds' reports\n(as if written from the training reports; the vetoes and exceptions are still "
            "in-sample):\n"
            f"  item level    {_prf(strict.item_level.overall)}\n"
            f"  report level  {_prf(strict.report_level.overall)}\n"
            f"  weakest themes, item level: {_weakest(strict.item_level.by_theme)}",
            file=out,
        )
    if result.model_effect is not None:
        _print_model_effect(result.model_effect, evaluation.item_level.overall, out)
    failed = evaluation.failures(bars["min_f1"], bars["min_facts"], bars["min_theme_f1"])
    for failure in failed:
        print(f"FAIL: {failure}", file=out)
    if not failed and any(value is not None for value in bars.values()):
        print("OK: every bar is met", file=out)
    return 1 if failed else 0


def _print_model_effect(effect: ModelEffect, with_model: Counts, out: TextIO) -> None:
    used = ", ".join(f"{theme} in fold {fold}" for fold, theme in effect.used)
    print(
        "\nWhat the trained classifier adds over the rule cues (the same folds; the thresholds keep the cues "
        "alone\nunless its score beats them on the training folds' inner cross-validation):\n"
        f"  thresholds reading its score  {len(effect.used)} of {effect.theme_folds} theme-folds"
        f"{f' ({used})' if used else ''}\n"
        f"  items whose themes it changed {effect.changed} of {effect.items} "
        f"({effect.added} themes added, {effect.removed} removed)\n"
        f"  item level F1                 {with_model.f1:.3f} with it, "
        f"{effect.cues_alone.f1:.3f} with the cues alone",
        file=out,
    )


__all__ = ["cross_validated_evaluation", "cross_validation_command"]
