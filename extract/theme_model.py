"""The trained theme classifier at tagging time: the shipped spaCy pipeline (extract/model/pipeline, made by
`sendcorpus train`) and the per-theme thresholds that combine its scores with the rule cues."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import spacy
from spacy.language import Language

MODEL_DIR = resources.files("sendcorpus.extract") / "model"
PIPELINE = "pipeline"
THRESHOLDS = "thresholds.json"
# every file of the pipeline with its sha256: the pipeline version digests the package's .json files,
# so this manifest makes a retrained model (binary weights) change the version and re-tag the corpus
MANIFEST = "manifest.json"
MODEL_FILES = frozenset({PIPELINE, THRESHOLDS, MANIFEST})  # everything a model folder holds
CUE_WEIGHT = 3  # 5-fold CV item F1 0.817 / 0.810 (seeds 0 / 1) against 0.814 / 0.808 for a single token


class ModelMissing(RuntimeError):
    """No trained theme model in the package: run `sendcorpus train`."""


@dataclass(frozen=True)
class Thresholds:
    """A theme is tagged when a cue finds it and the model scores it at least `with_cue`, or when the
    model alone scores it at least `alone` (above 1 means never)."""

    with_cue: float
    alone: float

    def tags(self, score: float, cue: bool) -> bool:
        return score >= self.alone or (cue and score >= self.with_cue)

    @property
    def reads_score(self) -> bool:
        """False for the cues alone: every cue theme is tagged (with_cue 0) and none without one."""
        return self.with_cue > 0 or self.alone <= 1


def feature_text(
    section: str | None, text: str, cue_themes: Iterable[str], cue_rules: Iterable[int] = ()
) -> str:
    """What the classifier reads: the section and the cue themes as tokens of their own, then the text
    in lower case (the corpus is small, so case would split the counts of every word). Each cue token is
    repeated CUE_WEIGHT times: a bag of words weighs counts, and the heavier cue measured better."""
    cues = [f"cue_{theme}" for theme in sorted(cue_themes) for _ in range(CUE_WEIGHT)]
    rules = [f"rule_{number}" for number in sorted(cue_rules)]
    return " ".join([f"section_{section or 'none'}", *cues, *rules, text.lower()])


@dataclass
class ThemeModel:
    pipeline: Language | Path  # the classifier, or the folder it is loaded from when it first has to score
    thresholds: dict[str, Thresholds]

    @cached_property
    def nlp(self) -> Language:
        return self.pipeline if isinstance(self.pipeline, Language) else spacy.load(self.pipeline)

    def scores(self, texts: Iterable[str]) -> list[dict[str, float]]:
        return [doc.cats for doc in self.nlp.pipe(texts, batch_size=256)]

    def decide(self, scores: Mapping[str, float], cue_themes: set[str]) -> set[str]:
        limits = self.thresholds
        return {theme for theme in limits if limits[theme].tags(scores[theme], theme in cue_themes)}

    def reads_scores(self) -> bool:
        """Whether any theme's decision depends on the classifier's score. When none does, the decision
        is the cue themes, and tagging neither loads nor runs the classifier."""
        return any(limits.reads_score for limits in self.thresholds.values())


def save_thresholds(thresholds: Mapping[str, Thresholds], folder: Path) -> None:
    rows = {theme: {"with_cue": t.with_cue, "alone": t.alone} for theme, t in sorted(thresholds.items())}
    (folder / THRESHOLDS).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def read_thresholds(folder) -> dict[str, Thresholds]:  # type: ignore[no-untyped-def]
    rows = json.loads((folder / THRESHOLDS).read_text(encoding="utf-8"))
    return {theme: Thresholds(**row) for theme, row in rows.items()}


def write_manifest(folder: Path) -> None:
    pipeline = folder / PIPELINE
    digests = {
        path.relative_to(pipeline).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(pipeline.rglob("*"))
        if path.is_file()
    }
    (folder / MANIFEST).write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")


def load_model_from(folder) -> ThemeModel:  # type: ignore[no-untyped-def]
    if not (folder / THRESHOLDS).is_file():
        raise ModelMissing(f"no trained theme model in {folder}: run `sendcorpus train`")
    return ThemeModel(pipeline=Path(str(folder / PIPELINE)), thresholds=read_thresholds(folder))


@cache
def shipped_model() -> ThemeModel:
    """The packaged model, loaded once per process."""
    return load_model_from(MODEL_DIR)
