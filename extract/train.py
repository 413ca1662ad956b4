"""Training the theme classifier with spaCy's training loop (what `spacy train` runs) from the project's
config, choosing its per-theme thresholds by inner cross-validation, and cross-validating the whole recipe
grouped by report."""

from __future__ import annotations

import io
import itertools
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import spacy
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training.initialize import init_nlp
from spacy.training.loop import train as train_loop

from sendcorpus.extract.evaluate import Counts
from sendcorpus.extract.theme_model import (
    MANIFEST,
    MODEL_FILES,
    PIPELINE,
    ThemeModel,
    Thresholds,
    feature_text,
    save_thresholds,
    write_manifest,
)
from sendcorpus.extract.themes import cue_pipeline, theme_ids
from sendcorpus.extract.training_data import LabelledItem

CONFIG = resources.files("sendcorpus.extract") / "textcat" / "config.cfg"
INNER_FOLDS = 3
# candidate thresholds; above 1 means "never" (cue-only for with_cue=0, alone=NEVER)
GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
NEVER = 1.01
CUES_ONLY = Thresholds(0.0, NEVER)
MARGIN = 0.02


@dataclass(frozen=True)
class Example:
    item: LabelledItem
    cues: frozenset[str]  # the themes the rule cues find in the item
    rules: frozenset[int] = frozenset()  # the cue lines that found them

    @property
    def text(self) -> str:
        return feature_text(self.item.section, self.item.text, self.cues, self.rules)


def examples_of(items: Sequence[LabelledItem]) -> list[Example]:
    nlp = cue_pipeline()
    tagger = nlp.get_pipe("send_themes")
    examples = []
    for item in items:
        cues = tagger.cue_sentences(_cue_doc(nlp, item))
        examples.append(Example(item, frozenset(cues.found), cues.rules))
    return examples


def _cue_doc(nlp: Language, item: LabelledItem) -> Doc:
    """The item's doc with every pipe before the theme tagger run on it."""
    doc = nlp.make_doc(item.text)
    doc._.section = item.section
    for _, pipe in nlp.pipeline[:-1]:
        doc = pipe(doc)
    return doc


def cues_from_other_folds(examples: Sequence[Example], k: int, seed: int) -> list[set[str]]:
    """Each example's cue themes when only the cue lines that found a right theme in a report of the other
    folds count: the cues as if they had been written from the training reports alone. They were written
    from every gold report, so the usual cross-validation is in-sample for them; this is not (though the
    vetoes and exceptions, all kept, still are)."""
    nlp = cue_pipeline()
    tagger = nlp.get_pipe("send_themes")
    theme_of = [cue.theme for cue in tagger.patterns.cues]
    folds = fold_of([e.item.file for e in examples], k, seed)
    right_in: list[set[int]] = [set() for _ in range(k)]  # fold -> the lines that found a right theme in it
    for example in examples:
        fold = right_in[folds[example.item.file]]
        fold.update(line for line in example.rules if theme_of[line] in example.item.themes)
    allowed = [set().union(*(right_in[other] for other in range(k) if other != fold)) for fold in range(k)]
    return [
        set(tagger.cue_sentences(_cue_doc(nlp, e.item), allowed[folds[e.item.file]]).found) for e in examples
    ]


def fold_of(files: Sequence[str], k: int, seed: int) -> dict[str, int]:
    """Reports shuffled with the seed and dealt into k folds: every item of a report in one fold."""
    ordered = sorted(set(files))
    random.Random(seed).shuffle(ordered)
    return {file: number % k for number, file in enumerate(ordered)}


def train_classifier(examples: Sequence[Example], seed: int, workdir: Path) -> Language:
    """spaCy's training loop over the examples, from the packaged config, quietly."""
    blank = spacy.blank("en")
    corpus = DocBin()
    for example in examples:
        doc = blank.make_doc(example.text)
        doc.cats = {theme: float(theme in example.item.themes) for theme in theme_ids()}
        corpus.add(doc)
    path = workdir / "train.spacy"
    corpus.to_disk(path)
    # the loop scores the dev corpus once, at the end, and nothing reads that score (patience 0, no output
    # path): one document keeps it from costing a fifth of the training time
    dev = workdir / "dev.spacy"
    DocBin(docs=[next(iter(corpus.get_docs(blank.vocab)))]).to_disk(dev)
    overrides = {"paths.train": str(path), "paths.dev": str(dev), "system.seed": seed}
    config = util.load_config(Path(str(CONFIG)), overrides=overrides, interpolate=False)
    # the labels in the order the examples give them, without the pass over the corpus that finds them
    config["initialize"]["components"]["textcat_multilabel"] = {"labels": list(theme_ids())}
    nlp = init_nlp(config)
    nlp, _ = train_loop(nlp, None, stdout=io.StringIO(), stderr=io.StringIO())
    return nlp


def choose_thresholds(
    examples: Sequence[Example], scores: Sequence[dict[str, float]]
) -> dict[str, Thresholds]:
    """Per theme, the (with_cue, alone) pair with the best F1 on out-of-fold scores. The cues alone stay
    unless a pair beats them by MARGIN (on a rare theme a lucky threshold is noise); ties go to the
    earlier pair of the grid, so the choice is deterministic."""
    chosen = {}
    for theme in theme_ids():
        best, best_f1 = CUES_ONLY, _f1(CUES_ONLY, theme, examples, scores) + MARGIN
        for with_cue, alone in itertools.product(GRID, (*GRID, NEVER)):
            limits = Thresholds(with_cue, alone)
            if alone >= with_cue and (f1 := _f1(limits, theme, examples, scores)) > best_f1:
                best, best_f1 = limits, f1
        chosen[theme] = best
    return chosen


def _f1(
    limits: Thresholds, theme: str, examples: Sequence[Example], scores: Sequence[dict[str, float]]
) -> float:
    counts = Counts()
    for example, score in zip(examples, scores, strict=True):
        tagged = limits.tags(score[theme], theme in example.cues)
        counts.add(example.item.themes & {theme}, {theme} if tagged else set())
    return counts.f1


def out_of_fold_scores(
    examples: Sequence[Example], k: int, seed: int, workdir: Path
) -> list[dict[str, float]]:
    """Each example scored by a classifier trained on the folds it is not in."""
    folds = fold_of([e.item.file for e in examples], k, seed)
    scores: list[dict[str, float]] = [{} for _ in examples]
    for fold in range(k):
        train = [e for e in examples if folds[e.item.file] != fold]
        held = [n for n, e in enumerate(examples) if folds[e.item.file] == fold]
        nlp = train_classifier(train, seed, workdir)
        for n, doc in zip(held, nlp.pipe(examples[n].text for n in held), strict=True):
            scores[n] = doc.cats
    return scores


def fit(examples: Sequence[Example], seed: int, workdir: Path) -> ThemeModel:
    """Thresholds by inner cross-validation, then the classifier trained on every example."""
    thresholds = choose_thresholds(examples, out_of_fold_scores(examples, INNER_FOLDS, seed, workdir))
    return ThemeModel(pipeline=train_classifier(examples, seed, workdir), thresholds=thresholds)


@dataclass(frozen=True)
class CrossValidated:
    predicted: list[set[str]]  # per example, by the recipe fitted on the other folds
    thresholds: list[dict[str, Thresholds]]  # per fold, as fitted on the other folds

    def model_used(self) -> list[tuple[int, str]]:
        """The (fold, theme) pairs whose thresholds read the classifier's score, not the cues alone."""
        return [
            (fold, theme)
            for fold, chosen in enumerate(self.thresholds)
            for theme, limits in sorted(chosen.items())
            if limits != CUES_ONLY
        ]


def cross_validate(examples: Sequence[Example], k: int, seed: int) -> CrossValidated:
    """The themes of every example, predicted by the recipe fitted on the other k-1 folds."""
    folds = fold_of([e.item.file for e in examples], k, seed)
    predicted: list[set[str]] = [set() for _ in examples]
    thresholds: list[dict[str, Thresholds]] = []
    with tempfile.TemporaryDirectory(prefix="sendcorpus-cv-") as tmp:
        for fold in range(k):
            train = [e for e in examples if folds[e.item.file] != fold]
            held = [n for n, e in enumerate(examples) if folds[e.item.file] == fold]
            model = fit(train, seed, Path(tmp))
            thresholds.append(model.thresholds)
            for n, scores in zip(held, model.scores(examples[n].text for n in held), strict=True):
                predicted[n] = model.decide(scores, set(examples[n].cues))
    return CrossValidated(predicted, thresholds)


class ModelFolderError(ValueError):
    """A folder `train` will not write a model into."""


def check_model_folder(folder: Path) -> None:
    """Saving replaces the whole folder, so it must be new, empty, or a model folder saved before: never
    a folder of other files that a mistyped --output would otherwise delete."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} is not a folder: give --output a new or empty folder")
    names = sorted(entry.name for entry in folder.iterdir())
    others = [name for name in names if name not in MODEL_FILES]
    if others or (names and MANIFEST not in names):
        shown = ", ".join((others or names)[:3]) + (" …" if len(others or names) > 3 else "")
        raise ModelFolderError(
            f"{folder} holds files that are not a theme model ({shown}); train writes only into a new or "
            "empty folder, or over a model it wrote before"
        )


def save_model(model: ThemeModel, folder: Path) -> None:
    """The pipeline, its thresholds and the manifest of its files, replacing the folder. They are written
    into a new folder beside it, which then takes its place, so a run stopped midway leaves the model that
    was there (the shipped one tags every ingest)."""
    check_model_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # hidden, so the pipeline version (which digests the package's files) never reads a leftover
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-new-", dir=folder.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide a shipped model from other users
        for name in ("train", "dev"):  # the temporary training corpus would make every copy differ
            model.nlp.config["paths"][name] = None
        model.nlp.to_disk(staging / PIPELINE)
        save_thresholds(model.thresholds, staging)
        write_manifest(staging)
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
        if folder.exists():
            folder.rename(old / folder.name)
        staging.rename(folder)
        shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def train_model(examples: Sequence[Example], seed: int, folder: Path) -> ThemeModel:
    with tempfile.TemporaryDirectory(prefix="sendcorpus-train-") as tmp:
        model = fit(examples, seed, Path(tmp))
    save_model(model, folder)
    return model
