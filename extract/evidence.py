"""The evidence quote of a theme: the sentence that carries it, readable on its own."""

from __future__ import annotations

import re

from spacy.tokens import Span

BULLETS = "•▪◼●◦‣·"
# a sentence opening with one of these leans on the sentence before it ("As a result, these children...",
# "This is also supported by evidence from..."), so the quote starts one sentence earlier
ANAPHORIC_START = re.compile(
    r"^(this|these|that|those|they|their|it|its|such|he|she|as a result|consequently|therefore|"
    r"however|despite this|in addition|additionally|furthermore|moreover|also|as such|because of this|"
    r"in turn|similarly|likewise|nevertheless|even so)\b",
    re.IGNORECASE,
)


def clean_sentence(sentence: Span) -> str:
    return sentence.text.strip().lstrip(BULLETS).strip()


def is_bullet(sentence: Span) -> bool:
    return sentence.text.lstrip()[:1] in BULLETS


def evidence_for(sentences: list[Span], number: int) -> str:
    """Sentence `number`; a sub-bullet that continues a lead-in ("...should ensure that:") comes after
    its lead-in, and a sentence that opens with an anaphor after the sentence before it."""
    quote = clean_sentence(sentences[number])
    if is_bullet(sentences[number]):
        lead_in = next((s for s in reversed(sentences[:number]) if not is_bullet(s)), None)
        if lead_in is not None and (clean_sentence(lead_in).endswith(":") or quote[:1].islower()):
            return f"{clean_sentence(lead_in)} {quote}"
        return quote
    if number > 0 and ANAPHORIC_START.match(quote):
        return f"{clean_sentence(sentences[number - 1])} {quote}"
    return quote
