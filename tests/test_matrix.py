"""The failure matrix: each case is a real `sendcorpus` process against a broken environment, asserting
the message (one line, no traceback), the exit code and the database (its report count, and its bytes
where nothing should change). One small database is built once and copied for each case.

Cases needing root (a tmpfs for a full disk or a read-only file system) are skipped without it;
permission-denied cases run as root with the capability to bypass file permissions dropped (setpriv).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from sendcorpus.flows.lock import IngestLock
from sendcorpus.flows.sources import sha256_of

from bigfiles import make_cut_pdf, make_long_paragraph, make_long_word
from conftest import REPORTS

SMALL = ["bury.pdf", "rutland.pdf"]
IS_ROOT = os.geteuid() == 0
HAS_SETPRIV = shutil.which("setpriv") is not None
needs_root = pytest.mark.skipif(not IS_ROOT, reason="mounting a tmpfs needs root")
# root reads and writes through any permission bits; without these capabilities it is an ordinary owner
NO_BYPASS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if IS_ROOT else []
needs_permissions = pytest.mark.skipif(
    IS_ROOT and not HAS_SETPRIV, reason="as root, permission bits only hold with setpriv"
)

RESULTS: list[tuple[str, str, int, float]] = []


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def message(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("sendcorpus:")]
        return lines[-1] if lines else ""


def _cli(case: str, *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None) -> Run:
    started = time.monotonic()
    result = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "sendcorpus.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    run = Run(result.returncode, result.stdout, result.stderr, time.monotonic() - started)
    summary = (run.stdout.strip().splitlines() or [""])[-1]
    RESULTS.append((case, run.message or summary, run.returncode, run.seconds))
    assert "Traceback" not in run.stderr, run.stderr
    return run


def _ingest_one(case: str, tmp_path: Path, db: Path, **options) -> Run:  # type: ignore[no-untyped-def]
    """An ingest of one report that is not in the small database yet."""
    return _cli(
        case,
        "ingest",
        "--no-registry",
        "--source",
        str(_another_report(tmp_path)),
        "--db",
        str(db),
        **options,
    )


_PROGRESS = re.compile(r"^ingest: \d+ of \d+ reports done$")


def _one_line_failure(run: Run, *phrases: str) -> None:
    assert run.returncode == 1, run.stderr
    lines = [line for line in run.stderr.strip().splitlines() if not _PROGRESS.match(line)]
    assert lines == [run.message], run.stderr
    for phrase in phrases:
        assert phrase in run.message


def _reports(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM corpus.reports").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module", autouse=True)
def _print_the_matrix() -> Iterator[None]:
    yield
    print("\n| case | message | exit | seconds |\n|---|---|---|---|")
    for case, message, code, seconds in RESULTS:
        print(f"| {case} | {message} | {code} | {seconds:.1f} |")


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    inbox = folder / "inbox"
    inbox.mkdir()
    for name in SMALL:
        shutil.copy(REPORTS / name, inbox / name)
    db = folder / "small.duckdb"
    run = _cli("build small db", "ingest", "--no-registry", "--source", str(inbox), "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert _reports(db) == len(SMALL)
    return db


@pytest.fixture
def db(small_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "area.duckdb"
    shutil.copy(small_db, copy)
    return copy


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _another_report(tmp_path: Path) -> Path:
    """A folder with one report that is not in the small database."""
    source = tmp_path / "more"
    source.mkdir(exist_ok=True)
    shutil.copy(REPORTS / "haringey.pdf", source / "haringey.pdf")
    return source


# The database is the problem


@pytest.mark.parametrize(
    ("case", "damage", "phrase"),
    [
        ("db zero bytes", lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
        ("db truncated", lambda path: path.write_bytes(path.read_bytes()[:300_000]), "is damaged"),
        ("db not duckdb", lambda path: path.write_text("garbage,10\n"), "not a DuckDB database"),
    ],
)
def test_a_file_that_is_not_a_usable_database(
    db: Path, tmp_path: Path, case: str, damage, phrase: str
) -> None:  # type: ignore[no-untyped-def]
    damage(db)
    before = db.read_bytes()
    for command in (
        ["sql", "SELECT 1"],
        ["ingest", "--no-registry", "--source", str(_another_report(tmp_path))],
        ["update", "--site", "http://127.0.0.1:9"],  # found before the site (a closed port) is tried
    ):
        run = _cli(f"{case}: {command[0]}", *command, "--db", str(db))
        _one_line_failure(run, str(db), phrase, "--db")
    assert db.read_bytes() == before
    assert not Path(f"{db.resolve()}.ingest.lock").exists()  # refused before any lock was taken beside it


def test_a_folder_given_as_the_database(tmp_path: Path) -> None:
    folder = tmp_path / "area.duckdb"
    folder.mkdir()
    run = _cli("db is a folder", "sql", "SELECT 1", "--db", str(folder))
    _one_line_failure(run, "is a folder, not a database file")
    run = _ingest_one(
        "db is a folder: ingest",
        tmp_path,
        folder,
    )
    _one_line_failure(run, "is a folder, not a database file")
    assert list(folder.iterdir()) == []


def test_a_checksum_error_is_damage_not_a_lock(db: Path) -> None:
    data = bytearray(db.read_bytes())
    for offset in range(len(data) // 2, len(data) - 4096):  # every data block after the header
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))
    run = _cli(
        "db checksum error", "sql", "SELECT count(*) FROM corpus.pages WHERE text <> ''", "--db", str(db)
    )
    _one_line_failure(run, "is damaged")
    assert "in use" not in run.message
    assert run.seconds < 20  # no 30 s wait for a writer that does not exist


@needs_root
def test_a_read_only_file_system(db: Path, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "20m") as mount:
        shutil.copy(db, mount / "area.duckdb")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        target = mount / "area.duckdb"
        before = target.read_bytes()
        run = _ingest_one(
            "read-only file system: ingest",
            tmp_path,
            target,
        )
        _one_line_failure(run, "Read-only file system", "--db")
        reader = _cli(
            "read-only file system: sql",
            "sql",
            "SELECT count(*) AS n FROM reports",
            "--format",
            "csv",
            "--db",
            str(target),
        )
        assert reader.returncode == 0 and reader.stdout.split() == ["n", str(len(SMALL))]
        assert target.read_bytes() == before


@needs_permissions
def test_a_folder_where_the_lock_cannot_be_created(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    target = folder / "area.duckdb"
    shutil.copy(db, target)
    before = target.read_bytes()
    folder.chmod(0o555)
    try:
        run = _ingest_one(
            "lock folder unwritable",
            tmp_path,
            target,
            prefix=NO_BYPASS,
        )
    finally:
        folder.chmod(0o755)
    _one_line_failure(run, "cannot create the ingest lock", "Permission denied", "--db")
    assert target.read_bytes() == before


@needs_permissions
@pytest.mark.parametrize("command", ["update", "schedule"])
def test_update_and_schedule_find_an_unwritable_database_folder_first(command: str, tmp_path: Path) -> None:
    """Before reaching the site (here a closed port, which would be the message otherwise) and before a
    schedule starts its server: else the whole site would be crawled before the load found it out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        site = f"http://127.0.0.1:{listener.getsockname()[1]}"
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    try:
        run = _cli(
            f"{command}: database folder unwritable",
            command,
            "--site",
            site,
            "--db",
            str(folder / "sendcorpus.duckdb"),
            "--cache",
            str(tmp_path / "cache"),
            prefix=NO_BYPASS,
        )
    finally:
        folder.chmod(0o755)
    _one_line_failure(run, "cannot create the ingest lock", "Permission denied")
    assert list(folder.iterdir()) == []


@needs_root
def test_too_little_free_space_stops_before_the_load(db: Path, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small-disk", str(db.stat().st_size + 2**20)) as mount:
        target = mount / "area.duckdb"
        shutil.copy(db, target)
        before = target.read_bytes()
        run = _ingest_one(
            "disk nearly full: preflight",
            tmp_path,
            target,
        )
        _one_line_failure(run, "MB free on the disk holding", "an ingest needs about 64 MB")
        assert target.read_bytes() == before


@needs_root
@pytest.mark.slow
def test_the_disk_filling_mid_load_keeps_the_earlier_reports(db: Path, tmp_path: Path) -> None:
    more = tmp_path / "more-reports"
    more.mkdir()
    for name in ("haringey.pdf", "halton.pdf", "medway.pdf", "oldham.pdf"):
        shutil.copy(REPORTS / name, more / name)
    size = db.stat().st_size + 512 * 2**10  # room for the database and not much more
    with _tmpfs(tmp_path / "full-disk", str(size)) as mount:
        target = mount / "area.duckdb"
        shutil.copy(db, target)
        run = _cli(
            "disk full mid-load",
            "ingest",
            "--no-registry",
            "--source",
            str(more),
            "--db",
            str(target),
            env={"SENDCORPUS_MIN_FREE_MB": "0"},
        )
        _one_line_failure(run, "is full (No space left on device)", "loaded before this one are intact")
        kept = tmp_path / "kept.duckdb"
        shutil.copy(target, kept)
        if Path(f"{target}.wal").exists():
            shutil.copy(f"{target}.wal", f"{kept}.wal")
    assert _reports(kept) >= len(SMALL)


# Prefect's state is the problem


def test_prefect_home_is_a_file(db: Path, tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    home.write_text("not a folder")
    before = db.read_bytes()
    run = _ingest_one(
        "PREFECT_HOME is a file",
        tmp_path,
        db,
        env={"PREFECT_HOME": str(home)},
    )
    _one_line_failure(run, f"PREFECT_HOME {home} is a file, not a folder")
    assert db.read_bytes() == before


@needs_permissions
def test_prefect_home_is_not_writable(db: Path, tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    home.mkdir(mode=0o555)
    before = db.read_bytes()
    try:
        run = _ingest_one(
            "PREFECT_HOME unwritable",
            tmp_path,
            db,
            env={"PREFECT_HOME": str(home)},
            prefix=NO_BYPASS,
        )
    finally:
        home.chmod(0o755)
    _one_line_failure(run, "is not a writable folder (Permission denied)")
    assert db.read_bytes() == before


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """Accepts connections on 127.0.0.1 and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.mark.parametrize("kind", ["dead", "silent"])
def test_a_prefect_api_that_does_not_answer(db: Path, tmp_path: Path, kind: str) -> None:
    before = db.read_bytes()
    with _silent_server() as silent_port:
        port = silent_port if kind == "silent" else _closed_port()
        url = f"http://127.0.0.1:{port}/api"
        run = _ingest_one(
            f"PREFECT_API_URL {kind}",
            tmp_path,
            db,
            env={"PREFECT_API_URL": url},
        )
    phrase = "did not answer within 3 s" if kind == "silent" else "cannot be reached"
    _one_line_failure(run, f"PREFECT_API_URL {url} {phrase}")
    assert run.seconds < 15
    assert db.read_bytes() == before
    with IngestLock(db):  # released
        pass


# The lock


def test_a_symlink_to_the_database_meets_the_same_lock(db: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "link.duckdb"
    link.parent.mkdir()
    link.symlink_to(db)
    before = db.read_bytes()
    with IngestLock(db):
        run = _ingest_one(
            "symlinked db while locked",
            tmp_path,
            link,
        )
    _one_line_failure(run, "another ingest is writing")
    assert db.read_bytes() == before


# Outputs


@needs_permissions
def test_output_into_a_read_only_folder(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir(mode=0o555)
    try:
        run = _cli(
            "--output read-only folder",
            "sql",
            "SELECT * FROM reports",
            "--format",
            "csv",
            "--output",
            str(folder / "x.csv"),
            "--db",
            str(db),
            prefix=NO_BYPASS,
        )
        report = _cli(
            "report --output read-only folder",
            "report",
            "--la",
            "Bury",
            "--output",
            str(folder / "bury.html"),
            "--db",
            str(db),
            prefix=NO_BYPASS,
        )
    finally:
        folder.chmod(0o755)
    _one_line_failure(run, f"cannot write {folder / 'x.csv'}", "Permission denied")
    _one_line_failure(report, f"cannot write {folder / 'bury.html'}: Permission denied")
    assert list(folder.iterdir()) == []


@needs_root
def test_output_onto_a_full_device_leaves_the_previous_file(db: Path, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "tiny", "64k") as mount:
        output = mount / "pages.csv"
        output.write_text("the previous export\n")
        run = _cli(
            "--output full device",
            "sql",
            "SELECT repeat(text, 20) AS t FROM corpus.pages",
            "--format",
            "csv",
            "--output",
            str(output),
            "--db",
            str(db),
        )
        _one_line_failure(run, f"cannot write {output}", "No space left on device")
        assert output.read_text() == "the previous export\n"  # the new one is written beside it first
        assert list(mount.iterdir()) == [output]


@pytest.mark.parametrize("own", ["", ".wal", ".ingest.lock"])
def test_an_output_that_is_the_database_or_a_file_beside_it_is_refused(db: Path, own: str) -> None:
    target = db.parent / ".." / db.parent.name / f"{db.name}{own}"  # another spelling of the same path
    before = db.read_bytes()
    runs = [
        _cli(
            f"sql --output database{own}",
            "sql",
            "SELECT 1",
            "--format",
            "csv",
            "--output",
            str(target),
            "--db",
            str(db),
        ),
        _cli(
            f"query --output database{own}",
            "query",
            "outcomes",
            "--format",
            "xlsx",
            "--output",
            str(target),
            "--db",
            str(db),
        ),
        _cli(
            f"runs --output database{own}",
            "runs",
            "--format",
            "json",
            "--output",
            str(target),
            "--db",
            str(db),
        ),
    ]
    for run in runs:
        _one_line_failure(run, f"--output {target} is the database's own file")
    assert db.read_bytes() == before
    assert _reports(db) == len(SMALL)


# Sources: one bad input is rejected, the rest of the run goes on


@pytest.mark.slow
@needs_permissions
def test_a_mixed_run_rejects_each_bad_input_and_loads_the_good(db: Path, tmp_path: Path) -> None:
    beside = tmp_path / "beside"
    beside.mkdir()
    for name in ("haringey.pdf", "halton.pdf", "medway.pdf"):
        shutil.copy(REPORTS / name, beside / name)
    unreadable = beside / "locked.pdf"
    shutil.copy(REPORTS / "dudley.pdf", unreadable)
    unreadable.chmod(0o000)
    shutil.copy(REPORTS / "oldham.pdf", beside / os.fsdecode(b"oldham-\xff.pdf"))
    make_long_paragraph(beside, 3_000_000, name="long-paragraph.txt")
    make_long_word(beside, 50_000)
    make_cut_pdf(beside, keep=7, source=REPORTS / "bolton.pdf")
    halton, medway = sha256_of(REPORTS / "halton.pdf"), sha256_of(REPORTS / "medway.pdf")
    (beside / "manifest.csv").write_text(
        "file,la_code,source_url,published,sha256\n"
        f"haringey.pdf,309,javascript:alert(1),2024-01-01,{sha256_of(REPORTS / 'haringey.pdf')}\n"
        f"halton.pdf,876,https://files.ofsted.gov.uk/v1/file/1,2024-01-01,{medway}\n"
        f"medway.pdf,887,https://files.ofsted.gov.uk/v1/file/2,2024-01-01,{medway}\n"
    )
    above = tmp_path / "above"
    (above / "reports").mkdir(parents=True)
    shutil.copy(REPORTS / "plymouth.pdf", above / "reports" / "plymouth.pdf")
    (above / "manifest.csv").write_text('file,published\n"plymouth.pdf,2024-01-01\n')
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    run = _cli(
        "mixed run of bad inputs",
        "ingest",
        "--no-registry",
        "--db",
        str(db),
        "--source",
        str(beside),
        "--source",
        str(above / "reports"),
        "--source",
        str(fifo),
        prefix=NO_BYPASS,
    )
    unreadable.chmod(0o644)
    assert run.returncode == 0, run.stderr
    assert (
        run.stdout.strip().splitlines()[-1].startswith("ingest: 4 new, 0 unchanged, 0 duplicate, 7 rejected")
    )
    con = duckdb.connect(str(db), read_only=True)
    loaded = {row[0] for row in con.execute("SELECT file FROM corpus.reports").fetchall()}
    rejected = dict(con.execute("SELECT file, reason FROM corpus.rejected").fetchall())
    marked = dict(con.execute("SELECT file, completeness FROM reports").fetchall())
    haringey_url = con.execute(
        "SELECT source_url FROM corpus.reports WHERE file = 'haringey.pdf'"
    ).fetchone()[0]
    con.close()
    assert loaded == {*SMALL, "haringey.pdf", "medway.pdf", "plymouth.pdf", "cut-bolton.pdf"}
    assert marked.pop("cut-bolton.pdf") == "partial: no local area partnership details"
    assert set(marked.values()) == {"complete"}
    assert rejected == {
        "locked.pdf": "unreadable",
        "oldham-\ufffd.pdf": "bad_name",
        "long-paragraph.txt": "too_complex",
        "long-word.txt": "too_complex",
        "halton.pdf": "checksum",
        str(above / "manifest.csv"): "bad_manifest",
        "pipe.pdf": "unreadable",
    }
    assert haringey_url.startswith("https://")  # the registry's, found by content; never the javascript: one
    assert "not http(s): 'javascript:alert(1)'" in run.stderr
    assert f"expected sha256 {medway}, got {halton}" in run.stderr
    assert run.seconds < 120
