"""The theme tagger: a spaCy component that tags each item with the themes of patterns/themes.yaml.

The cues are data (patterns/theme_patterns.jsonl, phrases in the form of theme_matcher.py). Each line is:
  {"theme": id, "phrase": ...}   a cue: the theme is tagged in the sentence the phrase matches, unless
      "with": [group, ...]       ... none of these groups also matches in the same sentence
      "without": [group, ...]    ... one of these groups matches in the same sentence
      "unless": [theme, ...]     ... the item has one of these (more specific) themes from other cues
  {"group": name, "phrase": ...}           a named context cue that theme cues require or forbid
  {"veto": theme|"*", "phrase": ...}       text where cues of that theme (or any) do not count, e.g.
      "education, health and social care" is a stock phrase, not a finding about social care
  {"every_cue_of": theme, "without": [group, ...]}   a "without" that every cue of the theme has, such
      as a move to adult services for social care, so a cue added later cannot miss it
  "theme" and "veto" also take a list of ids, for a phrase that means the same for several themes
      (an agency's contributions to plans are health_services and social_care alike)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import spacy
import yaml
from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from sendcorpus.extract.evidence import BULLETS, clean_sentence, evidence_for
from sendcorpus.extract.stance import stance
from sendcorpus.extract.theme_matcher import PhraseError, PhraseMatcher, compile_phrase
from sendcorpus.extract.theme_model import feature_text, shipped_model

PATTERNS = resources.files("sendcorpus.extract") / "patterns"
BULLET_CHAR = re.compile(f"[{BULLETS}]")

Doc.set_extension("section", default=None, force=True)
Doc.set_extension("themes", default=[], force=True)
# (first token of a sentence, themes found in it), so other components can tie things to a theme
Doc.set_extension("sentence_themes", default=[], force=True)
Doc.set_extension("theme_hits", default=[], force=True)
Doc.set_extension("theme_positions", default={}, force=True)


class ThemePatternError(ValueError):
    """A line of theme_patterns.jsonl that cannot be understood."""


@cache
def _vocabulary() -> dict[str, Any]:
    return yaml.safe_load((PATTERNS / "themes.yaml").read_text(encoding="utf-8"))


def theme_ids() -> list[str]:
    """The theme ids of the packaged themes.yaml, in its order."""
    return [theme["id"] for theme in _vocabulary()["themes"]]


def theme_labels() -> dict[str, str]:
    """Theme id -> label for tables."""
    return {theme["id"]: theme["label"] for theme in _vocabulary()["themes"]}


@dataclass
class Cue:
    theme: str
    with_groups: tuple[str, ...] = ()
    without_groups: tuple[str, ...] = ()
    unless_themes: tuple[str, ...] = ()


@dataclass
class PatternSet:
    """The compiled cues: matcher keys are 'cue:<n>', 'group:<name>' and 'veto:<theme>'."""

    matcher: PhraseMatcher
    cues: list[Cue] = field(default_factory=list)


def load_patterns(tokenize: Callable[[str], Iterable[object]]) -> PatternSet:
    known = set(theme_ids())
    patterns = PatternSet(matcher=PhraseMatcher())
    text = (PATTERNS / "theme_patterns.jsonl").read_text(encoding="utf-8")
    theme_wide: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"theme_patterns.jsonl line {number}"
        try:
            entry = json.loads(line)
            if "every_cue_of" in entry:
                theme_wide[entry["every_cue_of"]] = tuple(entry["without"])
                if entry["every_cue_of"] not in known:
                    raise ThemePatternError(f"{where}: unknown theme {entry['every_cue_of']!r}")
                continue
            slots = compile_phrase(entry["phrase"], tokenize)
        except (json.JSONDecodeError, KeyError, PhraseError) as error:
            raise ThemePatternError(f"{where}: {error}") from None
        themes, vetoes = ids_of(entry.get("theme")), ids_of(entry.get("veto"))
        for theme in [*themes, *vetoes, *entry.get("unless", ())]:
            if theme != "*" and theme not in known:
                raise ThemePatternError(f"{where}: unknown theme {theme!r}")
        if themes:
            keys = [f"cue:{len(patterns.cues) + n}" for n in range(len(themes))]
            patterns.cues.extend(
                Cue(
                    theme=theme,
                    with_groups=tuple(entry.get("with", ())),
                    without_groups=tuple(entry.get("without", ())),
                    unless_themes=tuple(entry.get("unless", ())),
                )
                for theme in themes
            )
        elif "group" in entry:
            keys = [f"group:{entry['group']}"]
        elif vetoes:
            keys = [f"veto:{theme}" for theme in vetoes]
        else:
            raise ThemePatternError(f"{where}: needs 'theme', 'group' or 'veto'")
        for key in keys:
            patterns.matcher.add(key, slots)
    for cue in patterns.cues:
        cue.without_groups += theme_wide.get(cue.theme, ())
    return patterns


def ids_of(value: str | list[str] | None) -> list[str]:
    """A line's "theme" or "veto": one id or a list of them."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class ThemeHit:
    """A theme of an item: the sentence that carries it (with the one before when it opens with an
    anaphor), that sentence's stance, and the number of the sentence in the item."""

    theme: str
    evidence: str
    stance: str
    sentence: int
    start: int  # where the evidence begins in the item's text


@dataclass(frozen=True)
class CueResult:
    sentences: list[Span]
    found: dict[str, int]  # theme -> number of the first sentence a cue finds it in
    rules: frozenset[int] = frozenset()  # the cue lines (numbers in PatternSet.cues) that counted
    positions: dict[str, list[int]] = field(default_factory=dict)  # theme -> first token of each cue hit


class ThemeTagger:
    """Sets Doc._.theme_hits ([ThemeHit, ...], one per theme in theme order) and Doc._.themes
    ([(theme_id, evidence), ...]). The rule cues find themes per sentence; with `use_model` the trained
    classifier (theme_model.py) then decides per item, reading the text and the cue themes, unless its
    thresholds leave every decision to the cues (as the shipped ones do), when it is not run."""

    def __init__(self, nlp: Language, name: str, use_model: bool) -> None:
        self.name = name
        self.patterns = load_patterns(nlp.tokenizer)
        self.order = {theme: index for index, theme in enumerate(theme_ids())}
        self.model = shipped_model() if use_model else None

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, batch_size):
            cue_found = [self.cue_sentences(doc) for doc in batch]
            if self.model is None:
                chosen = [dict(cues.found) for cues in cue_found]
            elif not self.model.reads_scores():
                decided = self.model.thresholds
                chosen = [{t: at for t, at in cues.found.items() if t in decided} for cues in cue_found]
            else:
                chosen = self._with_model(batch, cue_found)
            for doc, cues, themes in zip(batch, cue_found, chosen, strict=True):
                self._annotate(doc, cues.sentences, themes, cues.positions)
                yield doc

    def cue_sentences(self, doc: Doc, lines: Container[int] | None = None) -> CueResult:
        """The item's sentences, and theme -> number of the first sentence a cue finds it in; with `lines`,
        only those cue lines (numbers in PatternSet.cues) may find one."""
        sentences = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        sentence_of = [number for number, sentence in enumerate(sentences) for _ in range(len(sentence))]
        groups: dict[str, set[int]] = {}
        vetoes: dict[str, list[tuple[int, int]]] = {}
        cue_hits: list[tuple[int, int, int]] = []
        for key, start, end in self.patterns.matcher(doc):
            kind, _, name = key.partition(":")
            if kind == "cue":
                if lines is None or int(name) in lines:
                    cue_hits.append((int(name), start, end))
            elif kind == "group":
                groups.setdefault(name, set()).add(sentence_of[start])
            else:
                vetoes.setdefault(name, []).append((start, end))

        found: dict[str, int] = {}
        rules: set[int] = set()
        deferred: list[tuple[int, Cue, int, int]] = []
        positions: dict[str, list[int]] = {}
        for cue_no, start, end in sorted(cue_hits, key=lambda hit: hit[1]):
            cue = self.patterns.cues[cue_no]
            if _vetoed(vetoes.get(cue.theme, ()), start, end) or _vetoed(vetoes.get("*", ()), start, end):
                continue
            sentence = sentence_of[start]
            if cue.with_groups and not any(sentence in groups.get(g, ()) for g in cue.with_groups):
                continue
            if any(sentence in groups.get(g, ()) for g in cue.without_groups):
                continue
            if cue.unless_themes:
                deferred.append((cue_no, cue, sentence, start))
            else:
                found.setdefault(cue.theme, sentence)
                rules.add(cue_no)
                positions.setdefault(cue.theme, []).append(start)
        for cue_no, cue, sentence, start in deferred:
            if cue.theme not in found and not any(theme in found for theme in cue.unless_themes):
                found[cue.theme] = sentence
                rules.add(cue_no)
                positions[cue.theme] = [start]
        return CueResult(sentences, found, frozenset(rules), positions)

    def _with_model(self, docs: list[Doc], cue_found: list[CueResult]) -> list[dict[str, int]]:
        """theme -> evidence sentence per doc: the cue's sentence, or for a theme only the model finds,
        the sentence the model scores highest for it."""
        assert self.model is not None
        texts = [
            feature_text(d._.section, d.text, c.found, c.rules) for d, c in zip(docs, cue_found, strict=True)
        ]
        chosen, model_only = [], []
        for cues, scores in zip(cue_found, self.model.scores(texts), strict=True):
            themes = self.model.decide(scores, set(cues.found))
            chosen.append({theme: cues.found[theme] for theme in themes if theme in cues.found})
            model_only.append(sorted(themes - set(cues.found)))
        # one batch of every sentence of the items that need one
        wanted = [
            (n, number)
            for n, themes in enumerate(model_only)
            if themes
            for number in range(len(cue_found[n].sentences))
        ]
        sentence_texts = (
            feature_text(
                docs[n]._.section,
                cue_found[n].sentences[number].text,
                [theme for theme, at in cue_found[n].found.items() if at == number],
            )
            for n, number in wanted
        )
        per_sentence: dict[int, list[dict[str, float]]] = {}
        for (n, _), scores in zip(wanted, self.model.scores(sentence_texts), strict=True):
            per_sentence.setdefault(n, []).append(scores)
        for n, themes in enumerate(model_only):
            for theme in themes:
                chosen[n][theme] = max(range(len(per_sentence[n])), key=lambda k: per_sentence[n][k][theme])
        return chosen

    def _annotate(
        self, doc: Doc, sentences: list[Span], themes: dict[str, int], positions: dict[str, list[int]]
    ) -> None:
        hits = []
        for theme in sorted(themes, key=lambda t: self.order[t]):
            quote = evidence_for(sentences, themes[theme])
            # the stance of the sentence that carries the theme, not of the sentences quoted before it
            carrier = clean_sentence(sentences[themes[theme]])
            found = stance(carrier, doc._.section)
            hits.append(ThemeHit(theme, quote.text, found, themes[theme], quote.start))
        doc._.theme_hits = hits
        doc._.themes = [(hit.theme, hit.evidence) for hit in hits]
        in_sentence: dict[int, list[str]] = {}
        for hit in hits:
            in_sentence.setdefault(hit.sentence, []).append(hit.theme)
        doc._.sentence_themes = [(sentences[n].start, in_sentence[n]) for n in sorted(in_sentence)]
        doc._.theme_positions = {theme: positions.get(theme, []) for theme in themes}


def _vetoed(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(veto_start < end and start < veto_end for veto_start, veto_end in spans)


def mark_bullet_sentences(doc: Doc) -> Doc:
    """A sub-bullet of a lead-in starts a sentence of its own, whether or not the line before ends with a
    full stop, so evidence is the bullet rather than the whole list."""
    starts = [match.start() for match in BULLET_CHAR.finditer(doc.text)]
    if not starts:
        return doc
    token_at = {idx: i for i, idx in enumerate(doc.to_array(IDX).tolist())}
    for char in starts:
        i = token_at.get(char)
        if i:  # a token that begins with the bullet, not the first
            doc[i].is_sent_start = True
    return doc


@Language.factory("send_themes", default_config={"use_model": True})
def make_theme_tagger(nlp: Language, name: str, use_model: bool) -> ThemeTagger:
    return ThemeTagger(nlp, name, use_model)


@Language.component("send_bullet_sentences")
def bullet_sentences(doc: Doc) -> Doc:
    return mark_bullet_sentences(doc)


def add_theme_pipes(nlp: Language, use_model: bool = True) -> None:
    """Add the theme pipes after the sentencizer: bullet sentence breaks, then the tagger (the rule
    cues alone when `use_model` is false, as training and the cue tests need)."""
    nlp.add_pipe("send_bullet_sentences")
    nlp.add_pipe("send_themes", config={"use_model": use_model})


def cue_pipeline() -> Language:
    """A pipeline that tags with the rule cues only."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    add_theme_pipes(nlp, use_model=False)
    nlp.initialize()
    return nlp
