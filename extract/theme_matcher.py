"""A small anchored phrase matcher for the theme cues.

spaCy's Matcher tries every pattern at every token and checks each `IN` set in Python, so with the 442
cue phrases of theme_patterns.jsonl it runs at a few thousand tokens/s. Here every phrase starts with an
exact word, so the phrases are indexed by that word and only tried where it occurs. `sendcorpus
benchmark` times both on the same items (on 3 Dec 2026, 183,566 tokens/s against 2,685), and a test checks
that they find the same matches (`spacy_matcher` builds spaCy's from the same phrases). The vocabulary:

  word      the token in lower case; a hyphenated word also matches without its hyphen ("part-time")
  a|b|c     any one of the alternatives (each may itself be hyphenated); a_b is the two words "a b"
  word?     optional (single-token words only)
  ~N        up to N tokens of anything
  ABC       case-sensitive abbreviation (AP, ADHD, SaLT: two or more capitals), a plural "s" allowed

The one difference from spaCy's Matcher: a mixed-case abbreviation still matches with the full stop that
the tokenizer leaves on it at a sentence end ("PfA.").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from spacy.attrs import ORTH
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

ABBREVIATION = re.compile(r"[A-Z][A-Za-z0-9’']*[A-Z][A-Za-z0-9’']*")
HYPHENS = frozenset({"-", "‑", "–"})
GAP = re.compile(r"~(\d+)")

# one token of an alternative: (case_sensitive, text, optional)
Token = tuple[bool, str, bool]


class PhraseError(ValueError):
    """A phrase that cannot be compiled."""


@dataclass(frozen=True)
class Slot:
    """One word of a phrase: alternative token sequences, or a gap of up to `gap` tokens."""

    alternatives: tuple[tuple[Token, ...], ...] = ()
    optional: bool = False
    gap: int = 0


def compile_phrase(phrase: str, tokenize: Callable[[str], Iterable[object]]) -> tuple[Slot, ...]:
    slots = tuple(_slot(word, tokenize) for word in phrase.split())
    if not slots or slots[0].gap or slots[0].optional:
        raise PhraseError(f"a phrase must start with a required word: {phrase!r}")
    return slots


def _slot(word: str, tokenize: Callable[[str], Iterable[object]]) -> Slot:
    gap = GAP.fullmatch(word)
    if gap:
        return Slot(gap=int(gap.group(1)))
    optional = word.endswith("?") and len(word) > 1
    word = word[:-1] if optional else word
    if "*" in word:
        raise PhraseError(f"write the word forms out as alternatives (a|b|c), not {word!r}")
    alternatives: list[tuple[Token, ...]] = []
    for alternative in word.split("|"):
        if ABBREVIATION.fullmatch(alternative):
            alternatives += [((True, alternative, False),), ((True, alternative + "s", False),)]
            continue
        pieces = [getattr(piece, "text", str(piece)) for piece in tokenize(alternative.replace("_", " "))]
        alternatives.append(tuple((False, piece.lower(), piece in HYPHENS) for piece in pieces))
    if optional and any(len(alternative) != 1 for alternative in alternatives):
        raise PhraseError(f"only a single-token word can be optional: {word!r}")
    return Slot(alternatives=tuple(alternatives), optional=optional)


class PhraseMatcher:
    """Finds (key, start, end) for the phrases added under keys: the first match from each anchor."""

    def __init__(self) -> None:
        self._phrases: list[tuple[str, tuple[Slot, ...]]] = []
        # phrases by their first word: in lower case, and (abbreviations) as written
        self._by_lower: dict[str, list[int]] = {}
        self._by_text: dict[str, list[int]] = {}
        # per phrase, the words (lower case, as written) of which each later required slot needs one
        self._required: list[list[tuple[frozenset[str], frozenset[str]]]] = []

    def add(self, key: str, slots: tuple[Slot, ...]) -> None:
        index = len(self._phrases)
        self._phrases.append((key, slots))
        self._required.append(_required_words(slots))
        for case_sensitive, text, _ in {alternative[0] for alternative in slots[0].alternatives}:
            anchors = self._by_text if case_sensitive else self._by_lower
            anchors.setdefault(text, []).append(index)

    def __len__(self) -> int:
        return len(self._phrases)

    @property
    def phrases(self) -> list[tuple[str, tuple[Slot, ...]]]:
        """(key, slots) of every phrase, in the order they were added."""
        return list(self._phrases)

    def __call__(self, doc: Doc) -> Iterator[tuple[str, int, int]]:
        strings = doc.vocab.strings
        texts = [_without_full_stop(strings[orth]) for orth in doc.to_array(ORTH).tolist()]
        lowers = [text.lower() for text in texts]
        by_lower, by_text = self._by_lower, self._by_text
        if by_lower.keys().isdisjoint(lowers) and by_text.keys().isdisjoint(texts):
            return
        words = (set(lowers), set(texts))
        possible: dict[int, bool] = {}  # phrase -> whether the doc has a word for each of its required slots
        for position, (text, lower) in enumerate(zip(texts, lowers, strict=True)):
            for index in (*by_lower.get(lower, ()), *by_text.get(text, ())):
                if index not in possible:
                    possible[index] = _has_words(self._required[index], *words)
                if not possible[index]:
                    continue
                key, slots = self._phrases[index]
                end = _match(slots, 0, position, texts, lowers)
                if end >= 0:
                    yield key, position, end


def _required_words(slots: tuple[Slot, ...]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """For each slot after the first that every match consumes a token for: the first tokens of its
    alternatives, (lower case, as written). A slot whose alternative may begin with an optional token
    (a hyphen) is left out, so the list only ever rules out phrases that cannot match."""
    required = []
    for slot in slots[1:]:
        alternatives = slot.alternatives
        if slot.gap or slot.optional or not alternatives or any(not alt or alt[0][2] for alt in alternatives):
            continue
        firsts = [alternative[0] for alternative in alternatives]
        lowers = frozenset(text for case_sensitive, text, _ in firsts if not case_sensitive)
        texts = frozenset(text for case_sensitive, text, _ in firsts if case_sensitive)
        required.append((lowers, texts))
    return required


def _has_words(
    required: list[tuple[frozenset[str], frozenset[str]]], lowers: set[str], texts: set[str]
) -> bool:
    return all(
        not wanted_lower.isdisjoint(lowers) or not wanted_text.isdisjoint(texts)
        for wanted_lower, wanted_text in required
    )


def _without_full_stop(text: str) -> str:
    """The tokenizer keeps the full stop on mixed-case abbreviations at a sentence end ("PfA.")."""
    if len(text) > 2 and text.endswith(".") and "." not in text[:-1]:
        return text[:-1]
    return text


def _match(slots: tuple[Slot, ...], slot_no: int, position: int, texts: list[str], lowers: list[str]) -> int:
    """The end of a match of slots[slot_no:] starting at `position`, or -1."""
    if slot_no == len(slots):
        return position
    slot = slots[slot_no]
    if slot.gap:
        for skip in range(min(slot.gap, len(texts) - position) + 1):
            end = _match(slots, slot_no + 1, position + skip, texts, lowers)
            if end >= 0:
                return end
        return -1
    for alternative in slot.alternatives:
        after = _match_tokens(alternative, position, texts, lowers)
        if after >= 0:
            end = _match(slots, slot_no + 1, after, texts, lowers)
            if end >= 0:
                return end
    if slot.optional:
        return _match(slots, slot_no + 1, position, texts, lowers)
    return -1


def _match_tokens(tokens: tuple[Token, ...], position: int, texts: list[str], lowers: list[str]) -> int:
    for case_sensitive, value, optional in tokens:
        if position < len(texts) and (texts[position] if case_sensitive else lowers[position]) == value:
            position += 1
        elif not optional:
            return -1
    return position


def spacy_matcher(matcher: PhraseMatcher, vocab: Vocab) -> Matcher:
    """spaCy's Matcher for the same phrases under the same keys: it finds the same (key, start) pairs,
    every end of each rather than the first."""
    spacy = Matcher(vocab)
    for key, slots in matcher.phrases:
        spacy.add(key, spacy_patterns(slots))
    return spacy


def spacy_patterns(slots: tuple[Slot, ...]) -> list[list[dict[str, object]]]:
    """A phrase as spaCy token patterns: one per combination of its multi-token alternatives."""
    choices = [_spacy_choices(slot) for slot in slots]
    return [[token for part in combination for token in part] for combination in itertools.product(*choices)]


def _spacy_choices(slot: Slot) -> list[list[dict[str, object]]]:
    """The token sequences one slot can be: single words gathered into `IN` sets, the rest one by one."""
    if slot.gap:
        return [[{"OP": f"{{0,{slot.gap}}}"}]]
    single = [
        alternative[0] for alternative in slot.alternatives if len(alternative) == 1 and not alternative[0][2]
    ]
    choices: list[list[dict[str, object]]] = []
    for attribute, case_sensitive in (("LOWER", False), ("ORTH", True)):
        words = sorted({text for sensitive, text, _ in single if sensitive is case_sensitive})
        if words:
            choices.append([{attribute: {"IN": words}}])
    for alternative in slot.alternatives:
        if len(alternative) > 1 or alternative[0][2]:
            choices.append([_spacy_token(token) for token in alternative])
    if slot.optional:  # only single-token words can be optional
        choices = [[{**choice[0], "OP": "?"}] for choice in choices]
    return choices


def _spacy_token(token: Token) -> dict[str, object]:
    case_sensitive, text, optional = token
    pattern: dict[str, object] = {"ORTH" if case_sensitive else "LOWER": text}
    if optional:
        pattern["OP"] = "?"
    return pattern
