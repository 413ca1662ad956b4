"""What to ingest: the registry in seeds/, or files and folders given on the command line.

A source that cannot be used (unreadable, not a regular file, a name that is not UTF-8, bytes that
differ from its manifest row) becomes an `InputFile` with a `rejection` instead of stopping the run;
so does a malformed manifest.csv, whose rows are then ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sendcorpus.flows.manifest import MANIFEST, ManifestError, read_manifest
from sendcorpus.seeds.build_registry import REGISTRY

log = logging.getLogger(__name__)


@dataclass
class InputFile:
    """One report to ingest: a local file, or a URL still to fetch; `rejection` (reason, detail) when
    it cannot be used at all."""

    name: str
    path: Path | None = None
    url: str | None = None
    expected_sha256: str | None = None
    published: date | None = None
    la_code: str | None = None
    sha256: str | None = field(default=None, compare=False)
    rejection: tuple[str, str] | None = field(default=None, compare=False)


def registry_inputs(mirror: Path | None, registry: Path = REGISTRY) -> list[InputFile]:
    """Every registry report, taken from the mirror folder when a file there has the expected bytes."""
    inputs = []
    for row in _read_provenance(registry).values():
        candidate = mirror / row.name if mirror else None
        usable = candidate is not None and _unusable(candidate) is None
        if candidate and usable and sha256_of(candidate) == row.expected_sha256:
            row.path = candidate
        inputs.append(row)
    return inputs


def source_inputs(sources: list[Path]) -> list[InputFile]:
    """Files, or every file in a folder; a manifest.csv beside them adds provenance."""
    inputs: list[InputFile] = []
    manifests: dict[Path, dict[str, InputFile]] = {}
    for source in sources:
        if source.is_dir():
            try:
                entries = sorted(p for p in source.iterdir() if _is_candidate(p))
            except OSError as error:
                inputs.append(_rejected(source, "unreadable", f"the folder cannot be listed ({_why(error)})"))
                continue
            folder = source
        else:
            entries, folder = [source], source.parent
        provenance = _manifest_beside(folder, manifests, inputs)
        for path in entries:
            inputs.append(_local_input(path, provenance))
    return inputs


def add_provenance(item: InputFile, known: InputFile) -> None:
    item.url, item.published, item.la_code = known.url, known.published, known.la_code
    item.expected_sha256 = known.expected_sha256


def registry_by_sha256(registry: Path = REGISTRY) -> dict[str, InputFile]:
    """The registry keyed by content, so a report given by path still gets its URL and codes."""
    return {row.expected_sha256: row for row in _read_provenance(registry).values() if row.expected_sha256}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_input(path: Path, provenance: dict[str, InputFile]) -> InputFile:
    """The file as an input, or its rejection: checked before anything reads more than a byte of it."""
    name = _printable(path.name)
    if name != path.name:
        detail = f"the file name is not valid UTF-8 ({path.name!r}): rename it and ingest it again"
        return InputFile(name=name, rejection=("bad_name", detail))
    problem = _unusable(path)
    if problem:
        return InputFile(name=name, rejection=("unreadable", problem))
    item = InputFile(name=name, path=path)
    known = provenance.get(name)
    if known:
        add_provenance(item, known)
        if known.expected_sha256:
            item.sha256 = sha256_of(path)
            if item.sha256 != known.expected_sha256:
                item.rejection = ("checksum", _mismatch(known.expected_sha256, item.sha256))
    return item


def _mismatch(expected: str, actual: str) -> str:
    return (
        f"the file's content does not match its manifest row: expected sha256 {expected}, got {actual}; "
        "it is not the report the row describes, so it is not loaded (fix the file or the row)"
    )


def _unusable(path: Path) -> str | None:
    """Why a path cannot be read as a report, or None. A FIFO is never opened (that would block)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "the file does not exist (a broken link?)"
    except OSError as error:
        return f"the file cannot be examined ({_why(error)})"
    if not stat.S_ISREG(mode):
        return f"{_kind(mode)} is not a regular file, so it is not read"
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        return f"the file cannot be read ({_why(error)}): check its permissions"
    return None


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ]
    return next((label for test, label in kinds if test(mode)), "a special file")


def _manifest_beside(
    folder: Path, seen: dict[Path, dict[str, InputFile]], inputs: list[InputFile]
) -> dict[str, InputFile]:
    """A manifest.csv in the folder, or one level up (a `reports/` folder beside its manifest).

    A malformed one is reported once, as a rejection of the manifest, and ignored."""
    for candidate in (folder / MANIFEST, folder.parent / MANIFEST):
        if not candidate.is_file():
            continue
        key = Path(os.path.abspath(candidate))
        if key not in seen:
            try:
                seen[key] = _read_provenance(candidate)
            except ManifestError as error:
                seen[key] = {}
                detail = f"{error}; its rows were ignored, the reports beside it load without them"
                inputs.append(_rejected(candidate, "bad_manifest", detail))
        return seen[key]
    return {}


def _read_provenance(csv: Path) -> dict[str, InputFile]:
    rows = {}
    for row in read_manifest(csv):
        url = row.source_url
        if url and not url.lower().startswith(("http://", "https://")):
            log.warning("%s: ignoring the source_url of %s, which is not http(s): %r", csv, row.file, url)
            url = None
        rows[row.file] = InputFile(
            name=row.file,
            url=url,
            expected_sha256=row.sha256,
            published=row.published,
            la_code=row.la_code,
        )
    return rows


def _rejected(path: Path, reason: str, detail: str) -> InputFile:
    return InputFile(name=_printable(str(path)), rejection=(reason, detail))


def _printable(name: str) -> str:
    """The name with any byte that is not UTF-8 (kept by Python as a surrogate) shown as �."""
    return os.fsencode(name).decode("utf-8", errors="replace")


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _is_candidate(path: Path) -> bool:
    return path.name != MANIFEST and not path.name.startswith(".") and not path.is_dir()
