"""Scoring a corpus database against the hand-checked answers in the gold folder.

Facts: per-field exact-match accuracy of `reports` against gold/report_facts.csv.
Themes: report level (the set of themes per report and section) and item level (gold items matched to
database items by their opening text, so segmentation errors count too), as precision, recall and F1.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb

FACT_FIELDS = (
    "outcome",
    "inspection_start",
    "inspection_end",
    "previous_inspection_start",
    "previous_inspection_end",
)
SCORED_SECTIONS = ("strength", "weakness", "recommendation")
OPENING_CHARS = 60


class GoldError(Exception):
    """The gold folder is missing or unreadable."""


def opening(text: str, length: int = OPENING_CHARS) -> str:
    """The key that matches an item to its gold item: lower case, non-alphanumerics as single spaces."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()[:length]


# ---------------------------------------------------------------------------------------------- scores


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    kind: str  # FN (gold has it, database does not) | FP (database has it, gold does not)
    file: str
    section: str
    theme: str
    item: str = ""  # the item's opening text; empty at report level


@dataclass
class ThemeScore:
    by_section: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_theme: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overall: Counts = field(default_factory=Counts)
    misses: list[Miss] = field(default_factory=list)
    unmatched_items: list[tuple[str, str, str]] = field(default_factory=list)  # (file, section, opening)

    def add(self, file: str, section: str, gold: set[str], predicted: set[str], item: str = "") -> None:
        self.by_section[section].add(gold, predicted)
        self.overall.add(gold, predicted)
        for theme in gold | predicted:
            self.by_theme[theme].add(gold & {theme}, predicted & {theme})
        self.misses += [Miss("FN", file, section, theme, item) for theme in sorted(gold - predicted)]
        self.misses += [Miss("FP", file, section, theme, item) for theme in sorted(predicted - gold)]


@dataclass
class FactScore:
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FACT_FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FACT_FIELDS, 0))
    misses: list[tuple[str, str, str | None, str | None]] = field(
        default_factory=list
    )  # file, field, gold, db

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.total[name] if self.total[name] else 0.0

    @property
    def overall(self) -> float:
        total = sum(self.total.values())
        return sum(self.correct.values()) / total if total else 0.0


@dataclass(frozen=True)
class GoldItem:
    file: str
    section: str
    text: str
    themes: frozenset[str]


@dataclass(frozen=True)
class PredictedItem:
    file: str
    section: str
    text: str
    themes: frozenset[str]


def score_facts(
    gold: Iterable[Mapping[str, str]], predicted: Mapping[str, Mapping[str, object]]
) -> FactScore:
    """Exact match per field; blank gold expects NULL; a report missing from `predicted` misses all."""
    score = FactScore()
    for row in gold:
        ours = predicted.get(row["file"])
        for name in FACT_FIELDS:
            expected = (row.get(name) or "").strip() or None
            value = ours.get(name) if ours is not None else None
            got = None if value is None else str(value)
            score.total[name] += 1
            if ours is not None and got == expected:
                score.correct[name] += 1
            else:
                score.misses.append((row["file"], name, expected, got))
    return score


def score_report_level(
    gold: Mapping[tuple[str, str], set[str]], predicted: Mapping[tuple[str, str], set[str]]
) -> ThemeScore:
    """Both keyed by (file, section); only the gold files and the scored sections count."""
    score = ThemeScore()
    files = sorted({file for file, _ in gold})
    for file in files:
        for section in SCORED_SECTIONS:
            score.add(
                file, section, set(gold.get((file, section), ())), set(predicted.get((file, section), ()))
            )
    return score


def join_continued_rows(gold: Sequence[GoldItem], items: Iterable[tuple[str, str, str]]) -> list[GoldItem]:
    """The gold as the segmentation cuts items, given (file, section, full text) of the segmented items.

    A table row continued over a page break is one item (the spec's rule; halton's and nottinghamshire's
    gold cut such rows in two). A gold item that opens no segmented item but is found inside one, after its
    start, is the rest of the gold item that opens it: its themes join that item's and it is dropped."""
    openings: set[tuple[str, str, str]] = set()
    bodies: dict[tuple[str, str], list[str]] = defaultdict(list)
    for file, section, text in items:
        openings.add((file, section, opening(text)))
        bodies[(file, section)].append(opening(text, length=len(text)))
    keys = [(item.file, item.section, opening(item.text)) for item in gold]
    first_with: dict[tuple[str, str, str], int] = {}
    for n, key in enumerate(keys):
        first_with.setdefault(key, n)
    themes = [set(item.themes) for item in gold]
    dropped = set()
    for n, key in enumerate(keys):
        if key in openings:
            continue
        body = next((b for b in bodies[key[:2]] if b.find(key[2]) > 0), None)
        host = first_with.get((*key[:2], body[:OPENING_CHARS])) if body else None
        if host is not None and host != n:
            themes[host] |= themes[n]
            dropped.add(n)
    return [
        GoldItem(item.file, item.section, item.text, frozenset(themes[n]))
        for n, item in enumerate(gold)
        if n not in dropped
    ]


def score_item_level(gold: Iterable[GoldItem], predicted: Iterable[PredictedItem]) -> ThemeScore:
    """Each gold item takes the first unused predicted item of the same file and section with the same
    opening text; a gold item with no partner counts all its themes as missed. Gold halves of a row the
    segmentation keeps whole are joined first (`join_continued_rows`)."""
    predicted = list(predicted)
    candidates: dict[tuple[str, str, str], list[PredictedItem]] = defaultdict(list)
    for item in predicted:
        candidates[(item.file, item.section, opening(item.text))].append(item)
    gold = join_continued_rows(list(gold), ((item.file, item.section, item.text) for item in predicted))
    score = ThemeScore()
    for item in gold:
        key = (item.file, item.section, opening(item.text))
        partner = candidates[key].pop(0) if candidates.get(key) else None
        if partner is None:
            score.unmatched_items.append(key)
        themes = set(partner.themes) if partner else set()
        score.add(item.file, item.section, set(item.themes), themes, item=opening(item.text))
    return score


# ------------------------------------------------------------------------------------------------ gold


def cannot_run(message: str) -> int:
    """An evaluation that cannot run: one line on stderr, exit code 2 (1 is a bar not met)."""
    print(f"sendcorpus: {message}", file=sys.stderr)
    return 2


def read_gold_facts(gold_dir: Path) -> list[dict[str, str]]:
    """The rows of report_facts.csv, with every column scored and each date a real date."""
    path = gold_dir / "report_facts.csv"
    if not path.is_file():
        raise GoldError(f"no gold facts at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in ("file", *FACT_FIELDS) if name not in (reader.fieldnames or ())]
        if missing:
            raise GoldError(f"{path} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        for name in FACT_FIELDS[1:]:
            value = (row.get(name) or "").strip()
            try:
                if value:
                    date.fromisoformat(value)
            except ValueError:
                raise GoldError(f"{path} line {line}: {name} {value!r} is not a date (YYYY-MM-DD)") from None
    return rows


def read_gold_themes(gold_dir: Path) -> tuple[dict[tuple[str, str], set[str]], list[GoldItem]]:
    """(report-level sets keyed by (file, section), items) from gold/themes/*.json."""
    paths = sorted((gold_dir / "themes").glob("*.json"))
    if not paths:
        raise GoldError(f"no gold theme files in {gold_dir / 'themes'}")
    report_level: dict[tuple[str, str], set[str]] = {}
    items: list[GoldItem] = []
    for path in paths:
        try:
            gold = json.loads(path.read_text(encoding="utf-8"))
            file = gold["file"]
            for section in SCORED_SECTIONS:
                report_level[(file, section)] = set(gold.get("report_level", {}).get(section, ()))
            items += [
                GoldItem(file, item["section"], item["text"], frozenset(item["themes"]))
                for item in gold["items"]
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise GoldError(f"cannot read gold theme file {path}: {error}") from None
    return report_level, items


# ------------------------------------------------------------------------------------------ database


def read_db_facts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    columns = ", ".join(FACT_FIELDS)
    rows = con.execute(f"SELECT file, {columns} FROM reports ORDER BY loaded_at").fetchall()
    return {row[0]: dict(zip(FACT_FIELDS, row[1:], strict=True)) for row in rows}


def read_db_report_themes(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for file, section, theme in con.execute(
        "SELECT DISTINCT file, section, theme FROM report_themes"
    ).fetchall():
        found[(file, section)].add(theme)
    return found


def read_db_items(con: duckdb.DuckDBPyConnection) -> list[PredictedItem]:
    rows = con.execute(
        """
        SELECT i.file, i.section, i.text, list(t.theme) FILTER (WHERE t.theme IS NOT NULL)
        FROM items AS i
        LEFT JOIN item_themes AS t USING (report_id, section, item_no)
        GROUP BY i.report_id, i.file, i.section, i.item_no, i.text
        ORDER BY i.file, i.section, i.item_no
        """
    ).fetchall()
    return [
        PredictedItem(file, section, text, frozenset(themes or ())) for file, section, text, themes in rows
    ]


# ------------------------------------------------------------------------------------------- report


@dataclass
class Evaluation:
    facts: FactScore
    report_level: ThemeScore
    item_level: ThemeScore

    def failures(
        self, min_f1: float | None, min_facts: float | None, min_theme_f1: float | None = None
    ) -> list[str]:
        """The bars this evaluation falls below, as sentences."""
        failed = []
        if min_theme_f1 is not None:
            for theme, counts in sorted(self.item_level.by_theme.items()):
                if counts.f1 < min_theme_f1:
                    failed.append(f"item-level F1 for {theme} is {counts.f1:.3f}, below {min_theme_f1:.3f}")
        if min_f1 is not None:
            for section in SCORED_SECTIONS:
                f1 = self.report_level.by_section[section].f1
                if f1 < min_f1:
                    failed.append(f"report-level F1 for {section} is {f1:.3f}, below {min_f1:.3f}")
            if self.item_level.overall.f1 < min_f1:
                failed.append(f"item-level micro-F1 is {self.item_level.overall.f1:.3f}, below {min_f1:.3f}")
        if min_facts is not None and self.facts.overall < min_facts:
            failed.append(f"fact accuracy is {self.facts.overall:.3f}, below {min_facts:.3f}")
        return failed


def evaluate(con: duckdb.DuckDBPyConnection, gold_dir: Path) -> Evaluation:
    gold_report_level, gold_items = read_gold_themes(gold_dir)
    return Evaluation(
        facts=score_facts(read_gold_facts(gold_dir), read_db_facts(con)),
        report_level=score_report_level(gold_report_level, read_db_report_themes(con)),
        item_level=score_item_level(gold_items, read_db_items(con)),
    )


def _prf(counts: Counts) -> str:
    return (
        f"P {counts.precision:5.3f}  R {counts.recall:5.3f}  F1 {counts.f1:5.3f}"
        f"   (tp {counts.tp}, fp {counts.fp}, fn {counts.fn})"
    )


def _theme_table(title: str, score: ThemeScore, out: TextIO) -> None:
    print(f"\n{title}", file=out)
    for section in SCORED_SECTIONS:
        print(f"  {section:<16} {_prf(score.by_section[section])}", file=out)
    print(f"  {'micro (all)':<16} {_prf(score.overall)}", file=out)
    print("  per theme:", file=out)
    for theme in sorted(score.by_theme):
        print(f"    {theme:<27} {_prf(score.by_theme[theme])}", file=out)


def print_evaluation(evaluation: Evaluation, out: TextIO) -> None:
    facts = evaluation.facts
    print(f"Facts: {facts.overall:.3f} of fields exactly right", file=out)
    for name in FACT_FIELDS:
        print(
            f"  {name:<27} {facts.accuracy(name):5.3f}  ({facts.correct[name]}/{facts.total[name]})", file=out
        )
    _theme_table("Themes, report level (per report and section)", evaluation.report_level, out)
    _theme_table("Themes, item level (gold items matched by opening text)", evaluation.item_level, out)

    item_level = evaluation.item_level
    if item_level.unmatched_items:
        print(f"\nGold items with no matching database item ({len(item_level.unmatched_items)}):", file=out)
        for file, section, text in item_level.unmatched_items:
            print(f"  {file}  {section}  “{text}”", file=out)
    if facts.misses:
        print(f"\nFact misses ({len(facts.misses)}):", file=out)
        for file, name, expected, got in facts.misses:
            print(f"  {file}  {name}: expected {expected or 'NULL'}, got {got or 'NULL'}", file=out)
    if item_level.misses:
        print(f"\nTheme misses at item level ({len(item_level.misses)}):", file=out)
        for miss in sorted(item_level.misses, key=lambda m: (m.file, m.section, m.item, m.kind, m.theme)):
            print(f"  {miss.kind}  {miss.file}  {miss.section}  {miss.theme:<26} “{miss.item}”", file=out)


def evaluate_command(
    db_path: Path,
    gold_dir: Path,
    min_f1: float | None,
    min_facts: float | None,
    out: TextIO = sys.stdout,
    min_theme_f1: float | None = None,
) -> int:
    """`sendcorpus evaluate`: 0 when every bar is met, 1 when one is not, 2 when it cannot run."""
    from sendcorpus.warehouse.db import DatabaseBusy, connect

    if not gold_dir.is_dir():
        return cannot_run(f"no gold folder at {gold_dir}")
    try:
        con = connect(db_path, read_only=True)
    except (FileNotFoundError, DatabaseBusy) as error:
        return cannot_run(str(error))
    try:
        evaluation = evaluate(con, gold_dir)
    except GoldError as error:
        return cannot_run(str(error))
    except duckdb.CatalogException as error:
        return cannot_run(f"{db_path} is not a sendcorpus database ({error})")
    finally:
        con.close()
    print_evaluation(evaluation, out)
    failed = evaluation.failures(min_f1, min_facts, min_theme_f1)
    for failure in failed:
        print(f"FAIL: {failure}", file=out)
    if not failed and (min_f1 is not None or min_facts is not None or min_theme_f1 is not None):
        print("OK: every bar is met", file=out)
    return 1 if failed else 0
