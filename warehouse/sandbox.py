"""Ad-hoc SQL that can only read: statements are checked by type before anything runs.

DuckDB lets a connection write to its own database file even with external access off
(`COPY ... TO '<the database>'`), so the connection's settings are not the only guard: every
statement is parsed with DuckDB's own parser and only read statements are let through.
"""

from __future__ import annotations

import resource
from pathlib import Path

import duckdb

READ_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
# headroom between DuckDB's own limit and the process's address-space cap, for Python, Arrow and Polars
ADDRESS_SPACE_HEADROOM_GB = 2.0


# SQL that may call full-text search: the BM25 macros live in the fts_* schema and call the
# extension's functions (stem and the like), so the extension is loaded for it
_SEARCH_WORDS = ("fts_", "match_bm25", "stem(", "stem (")


def uses_search(sql: str) -> bool:
    lowered = sql.lower()
    return any(word in lowered for word in _SEARCH_WORDS)


class SqlRefused(Exception):
    """A statement that could change the database or the machine's files."""


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse the text unless it is one statement that only reads (of several, only the last one's
    result could be shown, so they are refused rather than run with the others' results dropped)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise SqlRefused(" ".join(str(error).split())) from None
    if not statements:
        raise SqlRefused("no SQL statement given")
    for statement in statements:
        _check(con, statement)
    if len(statements) > 1:
        raise SqlRefused(f"one statement at a time: this text holds {len(statements)}")


def _check(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> None:
    kind = statement.type
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs the statement it explains, so that statement is checked too
        check_read_only(con, explained(statement.query))
        return
    if kind not in READ_TYPES:
        first_word = statement.query.split(maxsplit=1)[0].upper() if statement.query.strip() else kind.name
        if first_word in ("WITH", "(") or first_word.startswith(("--", "/*")):  # "WITH a AS (...) INSERT ..."
            first_word = kind.name
        raise SqlRefused(
            f"{first_word} statements are refused: `sendcorpus sql` only reads "
            "(SELECT, WITH, FROM, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE)"
        )


def explained(query: str) -> str:
    """The statement an EXPLAIN explains, found with DuckDB's tokenizer (which skips comments, so
    "-- note\nEXPLAIN ANALYZE COPY ..." still yields the COPY): after EXPLAIN, ANALYZE and an option
    list in parentheses. Anything else is refused rather than let through unchecked."""
    positions = [position for position, _ in duckdb.tokenize(query)]
    # a token's text: up to the next token, less what follows it (spaces, a comment)
    words = [
        query[position:end].split(None, 1)[0].split("--", 1)[0].split("/*", 1)[0].lower()
        for position, end in zip(positions, [*positions[1:], len(query)], strict=True)
    ]
    if not words or words[0] != "explain":
        raise SqlRefused("this EXPLAIN could not be checked: write it as EXPLAIN [ANALYZE] SELECT ...")
    at = 1
    if at < len(words) and words[at] in ("analyze", "analyse"):
        at += 1
    options = at
    if at < len(words) and words[at] == "(":
        depth = 0
        while at < len(words):
            depth += {"(": 1, ")": -1}.get(words[at], 0)
            at += 1
            if depth == 0:
                break
    if at >= len(words) and options < len(words):
        at = options  # no options after all: the parentheses hold the query, "EXPLAIN (SELECT 1)"
    if at >= len(words):
        raise SqlRefused("EXPLAIN of nothing")
    return query[positions[at] :]


def limit_resources(con: duckdb.DuckDBPyConnection, memory_gb: float, allow_files: bool) -> tuple[int, int]:
    """Bound memory (DuckDB's limit, and the process's address space for what DuckDB does not count,
    such as one huge string from repeat()), keep spills off the disk, then lock the settings. Returns
    the address-space limit before, for `restore_address_space` (only the soft limit is lowered, so
    the process may raise it back)."""
    con.execute(f"SET memory_limit = '{memory_gb:g}GB'")
    con.execute("SET temp_directory = ''")  # no spill files beside the database
    if not allow_files:
        con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    cap = int((memory_gb + ADDRESS_SPACE_HEADROOM_GB) * (1 << 30))
    # never below what the process has mapped already (plus the headroom): a process that embeds
    # sendcorpus may be far larger than the command line, and could then not even start a thread
    cap = max(cap, _mapped_bytes() + int(ADDRESS_SPACE_HEADROOM_GB * (1 << 30)))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return soft, hard


def _mapped_bytes() -> int:
    """The process's virtual size now (the first field of /proc/self/statm, in pages); read here rather
    than through psutil, whose import (≈ 50–70 ms) `sql "select 1"` would pay."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def restore_address_space(before: tuple[int, int]) -> None:
    """Lift the cap once the query is done: whatever runs next in the process (the output's Polars
    frame, or the next command when `main` is called in-process) is not bound by it."""
    resource.setrlimit(resource.RLIMIT_AS, before)
