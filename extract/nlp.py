"""The spaCy pipeline: a blank English pipeline plus the project's registered components."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# importing the modules registers their factories ("send_themes", "send_figures")
from sendcorpus.extract import figures as _figures
from sendcorpus.extract import themes as _themes
from sendcorpus.extract.layout import Item

ANALYSED_SECTIONS = ("context", "strength", "weakness", "recommendation")
BATCH_SIZE = 256

if not Doc.has_extension("section"):
    Doc.set_extension("section", default=None)


@cache
def build_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    _themes.add_theme_pipes(nlp)
    nlp.add_pipe("send_figures")
    nlp.initialize()
    return nlp


def annotate(items: Iterable[Item]) -> Iterator[tuple[Item, Doc]]:
    """Run the pipeline over the items of the analysed sections, in batches."""
    nlp = build_nlp()
    chosen = [item for item in items if item.section in ANALYSED_SECTIONS]
    docs = []
    for item in chosen:
        doc = nlp.make_doc(item.text)
        doc._.section = item.section
        docs.append(doc)
    yield from zip(chosen, nlp.pipe(docs, batch_size=BATCH_SIZE), strict=True)


__all__ = ["ANALYSED_SECTIONS", "_figures", "annotate", "build_nlp"]
