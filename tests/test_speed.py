"""The shortcuts that make the ingest fast give the same answers as the long way round, and the processes
started early (Prefect's temporary server, the prestarted workers) are used and never left behind."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from test_ingest_scale import _inputs

from sendcorpus.extract.figures import may_hold_figure
from sendcorpus.extract.nlp import build_nlp
from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.pdf_text import _horizontal_rules
from sendcorpus.extract.theme_matcher import (
    PhraseMatcher,
    _required_words,
    _without_full_stop,
    compile_phrase,
    spacy_matcher,
)
from sendcorpus.flows import analyse
from sendcorpus.flows.temporary_server import start_temporary_server

from conftest import HACKNEY_TXT, REPORTS


def _rules_by_wrapped_objects(page: pdfium.PdfPage) -> list[tuple[float, float, float]]:
    """What `_horizontal_rules` did before: pypdfium2's own object iteration."""
    rules = []
    for path in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3):
        left, bottom, right, top = path.get_bounds()
        if top - bottom < 2.0 and right - left > 50.0:
            rules.append(((top + bottom) / 2, left, right))
    return rules


def test_table_rules_read_with_pdfiums_calls_are_those_of_pypdfiums_objects() -> None:
    pages_with_rules = 0
    for path in sorted(REPORTS.glob("*.pdf")):
        document = pdfium.PdfDocument(str(path))
        try:
            for page in document:
                rules = _horizontal_rules(page)
                assert rules == _rules_by_wrapped_objects(page), (path.name, page)
                pages_with_rules += bool(rules)
                page.close()
        finally:
            document.close()
    assert pages_with_rules > 10  # the comparison covered real tables


@pytest.mark.parametrize(
    ("text", "may"),
    [
        ("Leaders work well together.", False),
        ("Most children wait 18 weeks.", True),
        ("Some wait twenty-four months.", True),
        ("Plans took over a year.", True),
        ("A year ago leaders met.", True),  # "a year" may be a figure; the rules decide later
        ("Leaders met this year.", False),  # no "a"/"an"/"one" before it can make it one
        ("The 40–50% of plans.", True),
    ],
)
def test_items_without_a_number_skip_the_figure_matcher(text: str, may: bool) -> None:
    assert may_hold_figure(build_nlp().make_doc(text)) is may


def test_a_phrase_whose_later_word_is_absent_is_never_tried() -> None:
    tokenize = build_nlp().tokenizer
    matcher = PhraseMatcher()
    matcher.add("cue", compile_phrase("waiting ~2 list|lists", tokenize))
    matcher.add("hyphen", compile_phrase("part-time timetable|timetables", tokenize))
    assert list(matcher(tokenize("The waiting times are long."))) == []
    assert list(matcher(tokenize("The waiting lists are long."))) == [("cue", 1, 3)]
    assert list(matcher(tokenize("Some use part time timetables."))) == [("hyphen", 2, 5)]
    # gaps and optional words are never required; a slot starting with a hyphen is left out
    assert _required_words(compile_phrase("waiting ~2 a? list", tokenize)) == [
        (frozenset({"list"}), frozenset())
    ]


def test_the_temporary_server_is_only_started_where_prefect_would_start_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import prefect  # noqa: F401 -- Prefect has read its settings: a flow run here would start its own server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert start_temporary_server() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # a configured server is used as it is
    assert start_temporary_server() is None


@pytest.mark.slow
def test_reports_prestarted_before_the_flow_are_taken_over_not_analysed_again() -> None:
    sources = _inputs(REPORTS / "bury.pdf", REPORTS / "rutland.pdf", HACKNEY_TXT)
    analyse.prestart(2, sources[:2])
    deadline = time.monotonic() + 120
    while len(analyse._early) < 2 or not all(f.done() for _, _, f in analyse._early.values()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # until Prefect's server is up (the gate opens) one core is left to it: one analysis at a time
    assert analyse._gate.peak == 1
    with analyse.Analyser(2) as analyser:
        analyser.submit(sources[:0])()  # waits for the prestart
        early = [future for _, _, future in analyse._early.values()]
        assert len(early) == 2
        results = analyser.submit(sources)()
    assert not analyse._early
    assert all(future.done() for future in early)
    expected = [analyse.analyse_report(source) for source in sources]
    assert [result.rows for result in results] == [record.rows for record in expected]  # type: ignore[union-attr]
    analyse.prestart(2, sources)  # a flow that fails before its Analyser: the command line discards these
    analyse.discard_prestarted()
    assert not analyse._early and not analyse._started


@pytest.mark.slow
def test_a_sigkilled_ingest_takes_its_prefect_server_and_workers_down_with_it(
    tmp_path: Path, prefect_without_a_server: None
) -> None:
    args = [
        sys.executable,
        "-m",
        "sendcorpus.cli",
        "ingest",
        "--no-registry",
        "--db",
        str(tmp_path / "k.duckdb"),
    ]
    process = psutil.Popen([*args, "--source", str(REPORTS / "bury.pdf")], stderr=subprocess.DEVNULL)
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            tree = process.children(recursive=True)
            if any("uvicorn" in " ".join(child.cmdline()) for child in tree) and len(tree) >= 3:
                break  # the server, the fork server and the resource tracker at least
            time.sleep(0.1)
        assert any("uvicorn" in " ".join(child.cmdline()) for child in tree), "no server of its own"
        process.kill()
        process.wait()
        _, alive = psutil.wait_procs(tree, timeout=20)
        assert not alive, [" ".join(child.cmdline())[:80] for child in alive]
    finally:
        for leftover in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()


def test_the_cue_matcher_finds_what_spacys_matcher_finds_with_the_same_phrases() -> None:
    """The cues' own matcher is kept only because it is much faster (`sendcorpus benchmark`): on real
    items it finds the same (phrase, start) pairs as spaCy's Matcher built from the same phrases, plus
    matches on an abbreviation that keeps its full stop at a sentence end ("PfA.")."""
    nlp = build_nlp()
    cue_matcher = nlp.get_pipe("send_themes").patterns.matcher
    spacy = spacy_matcher(cue_matcher, nlp.vocab)
    strings = nlp.vocab.strings
    compared = full_stop_only = 0
    for path in (HACKNEY_TXT, REPORTS / "bedford.pdf", REPORTS / "east-sussex.pdf"):
        for item in parse_report(path).items:
            doc = nlp.make_doc(item.text)
            ours = {key: end for key, start, end in cue_matcher(doc) for key in [(key, start)]}
            theirs = {(strings[key], start) for key, start, _ in spacy(doc)}
            assert theirs <= ours.keys(), (item.text, theirs - ours.keys())
            for key, start in ours.keys() - theirs:
                span = doc[start : ours[key, start]]
                assert any(_without_full_stop(token.text) != token.text for token in span), (key, span.text)
                full_stop_only += 1
            compared += len(ours)
    assert compared > 1000 and full_stop_only < compared / 100
