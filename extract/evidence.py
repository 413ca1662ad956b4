"""The evidence quote of a theme: the sentence that carries it, readable on its own."""

from __future__ import annotations

import re
from typing import NamedTuple

from spacy.tokens import Span

BULLETS = "•▪◼●◦‣·"
# a sentence opening with a reference or a consequence leans on the sentence before it ("As a result, these
# children...", "This is also supported by evidence from..."), so the quote starts one sentence earlier
ANAPHORIC_START = re.compile(
    r"^(this|these|that|those|they|their|it|its|such|he|she|as a result|consequently|therefore|"
    r"despite this|as such|because of this|in turn)\b",
    re.IGNORECASE,
)
# a connective alone does not ("However, the local offer is hard to find." reads on its own; the sentence
# before it is often the opposite finding), only when a reference follows it ("However, they are ...")
CONNECTIVE_START = re.compile(
    r"^(however|in addition|additionally|furthermore|moreover|also|similarly|likewise|nevertheless|even so)"
    r",?\s+(\w+\s+){0,2}?(this|these|that|those|they|their|it|its|such|he|she)\b",
    re.IGNORECASE,
)


MAX_ANTECEDENTS = 2


def leans_back(sentence: str) -> bool:
    return bool(ANAPHORIC_START.match(sentence) or CONNECTIVE_START.match(sentence))


def clean_sentence(sentence: Span) -> str:
    # an opening quotation mark the sentencizer left at the end of the sentence before its quotation
    return re.sub(r"\s+[‘“]$", "", sentence.text.strip().lstrip(BULLETS).strip())


def is_bullet(sentence: Span) -> bool:
    return sentence.text.lstrip()[:1] in BULLETS


class Evidence(NamedTuple):
    text: str  # the quote
    start: int  # where its first sentence begins in the item's text (the page is looked up from it)


def evidence_for(sentences: list[Span], number: int) -> Evidence:
    """Sentence `number`; a sub-bullet that continues a lead-in ("...should ensure that:") comes after
    its lead-in, and a sentence that opens with an anaphor after the sentence it leans on."""
    quote = clean_sentence(sentences[number])
    if is_bullet(sentences[number]):
        lead_in = next((n for n in range(number - 1, -1, -1) if not is_bullet(sentences[n])), None)
        if lead_in is not None and (clean_sentence(sentences[lead_in]).endswith(":") or quote[:1].islower()):
            before = _with_antecedents(sentences, lead_in)
            return Evidence(f"{before.text} {quote}", before.start)
        return Evidence(quote, sentences[number].start_char)
    return _with_antecedents(sentences, number)


def _with_antecedents(sentences: list[Span], number: int) -> Evidence:
    """The sentence, after up to MAX_ANTECEDENTS sentences before it while each opens with an anaphor
    ("This should include: ..." after "Leaders should improve ...")."""
    start = number
    while (
        start > 0
        and number - start < MAX_ANTECEDENTS
        and leans_back(clean_sentence(sentences[start]))
        and not is_bullet(sentences[start - 1])
    ):
        start -= 1
    text = " ".join(clean_sentence(sentence) for sentence in sentences[start : number + 1])
    return Evidence(text, sentences[start].start_char)
