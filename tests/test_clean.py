from __future__ import annotations

from sendcorpus.extract.clean import clean_text


def test_hyphen_marks_join_words_the_document_uses_whole() -> None:
    assert clean_text("infor\x02mation", {"information"}) == "information"
    assert clean_text("multi\x02agency", {"multi", "agency"}) == "multi-agency"
    assert clean_text("web\ufffebased") == "web-based"


def test_bullets_and_control_characters() -> None:
    assert clean_text("▪  Leaders\u00a0know") == "◼ Leaders know"
    assert clean_text("• sub item") == "• sub item"
    assert clean_text("abc\x07def\ufeff") == "abcdef"


def test_html_fragments_are_stripped() -> None:
    assert clean_text('<p>Leaders should:</p> <ul style="x"> ▪ reduce &amp; improve') == (
        "Leaders should: ▪ reduce & improve"
    )
