"""Generated inputs for the budget, completeness and failure-matrix tests: each `make_*` writes one file."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter

from conftest import HACKNEY_TXT, REPORTS

_STRENGTHS = "What is the area partnership doing that is effective?"
SENTENCE = "Leaders work well together to improve the lives of children and young people with SEND. "


def _hackney_with(body: str) -> str:
    """The real Hackney text report with `body` added at the start of its strengths section."""
    text = HACKNEY_TXT.read_text(encoding="utf-8")
    cut = text.index(_STRENGTHS) + len(_STRENGTHS)
    return f"{text[:cut]}\n\n{body}\n\n{text[cut:]}"


def make_long_paragraph(folder: Path, chars: int, name: str = "long-paragraph.txt", wrap: int = 0) -> Path:
    """One paragraph of `chars` characters of ordinary sentences, on one line or hard-wrapped."""
    paragraph = (SENTENCE * (chars // len(SENTENCE) + 1))[: chars - 1] + "."
    if wrap:
        paragraph = "\n".join(paragraph[start : start + wrap] for start in range(0, chars, wrap))
    path = folder / name
    path.write_text(_hackney_with(paragraph), encoding="utf-8")
    return path


def make_long_word(folder: Path, chars: int, symbol: str = "£") -> Path:
    """A paragraph that is one run of symbols without a space (spaCy's tokenizer is quadratic on it)."""
    path = folder / "long-word.txt"
    path.write_text(_hackney_with(symbol * chars), encoding="utf-8")
    return path


def make_many_items(folder: Path, count: int) -> Path:
    path = folder / "many-items.txt"
    items = "\n\n".join(f"Leaders improved service {number} for children." for number in range(count))
    path.write_text(_hackney_with(items), encoding="utf-8")
    return path


def make_huge_text(folder: Path, megabytes: int) -> Path:
    """A plain-text report padded with sentences to `megabytes` MB (under the 50 MB file cap)."""
    path = folder / "huge.txt"
    block = (SENTENCE * (2**20 // len(SENTENCE) + 1))[: 2**20]
    with path.open("w", encoding="utf-8") as handle:
        handle.write(_hackney_with(""))
        for _ in range(megabytes - 1):
            handle.write(block)
    return path


def make_many_pages_pdf(folder: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    path = folder / "many-pages.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_cut_pdf(folder: Path, keep: int, source: Path = REPORTS / "bury.pdf") -> Path:
    """The first `keep` pages of a real report: the rest was lost."""
    writer = PdfWriter(clone_from=PdfReader(source))
    while len(writer.pages) > keep:
        del writer.pages[-1]
    path = folder / f"cut-{source.name}"
    writer.write(path)
    return path


def make_blank_page_pdf(folder: Path, blank: int, source: Path = REPORTS / "bury.pdf") -> Path:
    """A real report whose page `blank` (1-based) came out without text."""
    reader = PdfReader(source)
    writer = PdfWriter()
    for number, page in enumerate(reader.pages, start=1):
        if number == blank:
            writer.add_blank_page(width=page.mediabox.width, height=page.mediabox.height)
        else:
            writer.add_page(page)
    path = folder / f"blank-page-{source.name}"
    writer.write(path)
    return path


def make_symbol_runs(folder: Path, runs: int, length: int, symbol: str = "$") -> Path:
    """`runs` runs of `length` symbols, each short enough to pass as a 'word'."""
    path = folder / "symbol-runs.txt"
    path.write_text(_hackney_with(" ".join([symbol * length] * runs)), encoding="utf-8")
    return path
