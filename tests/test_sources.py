"""Sources and manifests: every unusable file or malformed manifest becomes a rejection, never a crash."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from sendcorpus.flows.manifest import ManifestError, read_manifest
from sendcorpus.flows.sources import InputFile, registry_inputs, sha256_of, source_inputs

from conftest import REPORTS, SHARED

GOOD = ["bury.pdf", "rutland.pdf"]
HEADER = "file,local_authority,la_code,source_url,published,sha256\n"


def _row(name: str, sha: str | None = None, url: str = "https://files.ofsted.gov.uk/v1/file/1") -> str:
    return f"{name},Somewhere,301,{url},2024-04-01,{sha if sha is not None else sha256_of(REPORTS / name)}\n"


def _folder(tmp_path: Path, manifest: bytes | None) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(REPORTS / name, folder / name)
    if manifest is not None:
        (folder / "manifest.csv").write_bytes(manifest)
    return folder


def _by_name(inputs: list[InputFile]) -> dict[str, InputFile]:
    return {item.name: item for item in inputs}


def test_the_shared_manifest_and_the_registry_read_cleanly() -> None:
    rows = read_manifest(SHARED / "corpus" / "manifest.csv")
    assert len(rows) == 44
    assert all(row.sha256 and row.source_url for row in rows)
    assert sum(row.published is None for row in rows) == 1  # essex.pdf has no date in the manifest
    mirrored = registry_inputs(REPORTS)
    assert len(mirrored) == 44 and all(item.path for item in mirrored)


def test_a_good_manifest_adds_provenance(tmp_path: Path) -> None:
    folder = _folder(tmp_path, (HEADER + _row("bury.pdf") + _row("rutland.pdf")).encode())
    inputs = _by_name(source_inputs([folder]))
    assert set(inputs) == set(GOOD)
    assert inputs["bury.pdf"].la_code == "301"
    assert inputs["bury.pdf"].rejection is None


BAD_MANIFESTS = {
    "extra-field": (HEADER + _row("bury.pdf").rstrip() + ",surplus\n", "line 2 has 7 fields"),
    "uk-date": (HEADER + _row("bury.pdf").replace("2024-04-01", "01/04/2024"), "'01/04/2024' is not a date"),
    "empty": ("", "is empty"),
    "unclosed-quote": (HEADER + '"bury.pdf,Somewhere,301\n' + _row("rutland.pdf"), "not well-formed CSV"),
    "no-file-column": ("name,la_code\nbury.pdf,301\n", "has no `file` column"),
    "bad-sha256": (HEADER + _row("bury.pdf", sha="abc"), "'abc' is not a 64-digit hex digest"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_a_malformed_manifest_is_rejected_and_the_reports_still_come_in(tmp_path: Path, case: str) -> None:
    text, phrase = BAD_MANIFESTS[case]
    folder = _folder(tmp_path, text.encode())
    inputs = _by_name(source_inputs([folder]))
    manifest = inputs.pop(str(folder / "manifest.csv"))
    assert manifest.rejection is not None
    reason, detail = manifest.rejection
    assert reason == "bad_manifest"
    assert phrase in detail and str(folder / "manifest.csv") in detail
    assert "its rows were ignored" in detail
    assert set(inputs) == set(GOOD)
    assert all(item.rejection is None and item.url is None for item in inputs.values())


def test_a_binary_manifest_is_rejected(tmp_path: Path) -> None:
    folder = _folder(tmp_path, os.urandom(4000) + b"\x00")
    manifest = _by_name(source_inputs([folder]))[str(folder / "manifest.csv")]
    assert manifest.rejection == ("bad_manifest", manifest.rejection[1])
    assert "binary data" in manifest.rejection[1]


def test_a_windows_1252_manifest_is_read(tmp_path: Path) -> None:
    text = HEADER.replace("local_authority", "note") + _row("bury.pdf").replace("Somewhere", "Café – £5")
    folder = _folder(tmp_path, text.encode("cp1252"))
    inputs = _by_name(source_inputs([folder]))
    assert inputs["bury.pdf"].la_code == "301"
    assert str(folder / "manifest.csv") not in inputs


def test_a_malformed_manifest_in_the_folder_above_is_reported_once(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    (tmp_path / "manifest.csv").write_text("no,file,column\n" + "a,b,c,d\n")
    inputs = source_inputs([folder, folder / "bury.pdf"])
    rejected = [item for item in inputs if item.rejection]
    assert [item.name for item in rejected] == [str(tmp_path / "manifest.csv")]


def test_a_wrong_sha256_in_the_manifest_rejects_that_file_with_both_digests(tmp_path: Path) -> None:
    rutland = sha256_of(REPORTS / "rutland.pdf")
    bury = sha256_of(REPORTS / "bury.pdf")
    folder = _folder(tmp_path, (HEADER + _row("bury.pdf", sha=rutland) + _row("rutland.pdf")).encode())
    inputs = _by_name(source_inputs([folder]))
    reason, detail = inputs["bury.pdf"].rejection or ("", "")
    assert reason == "checksum"
    assert f"expected sha256 {rutland}, got {bury}" in detail
    assert inputs["rutland.pdf"].rejection is None


def test_a_url_that_is_not_http_is_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = HEADER + _row("bury.pdf", url="javascript:alert(1)") + _row("rutland.pdf", url="HTTPS://x/y")
    folder = _folder(tmp_path, manifest.encode())
    with caplog.at_level(logging.WARNING):
        inputs = _by_name(source_inputs([folder]))
    assert inputs["bury.pdf"].url is None
    assert inputs["bury.pdf"].la_code == "301"  # the rest of the row is kept
    assert inputs["rutland.pdf"].url == "HTTPS://x/y"
    assert "not http(s): 'javascript:alert(1)'" in caplog.text


def test_special_files_and_bad_names_are_rejected_without_being_opened(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    os.mkfifo(folder / "pipe.pdf")  # opening it would block for ever
    bad_name = os.fsdecode(b"caf\xe9.pdf")
    shutil.copy(REPORTS / "bury.pdf", folder / bad_name)
    (folder / "dangling.pdf").symlink_to(folder / "nowhere.pdf")
    (folder / "subfolder").mkdir()
    inputs = _by_name(source_inputs([folder, folder / "pipe.pdf"]))
    assert inputs["pipe.pdf"].rejection == (
        "unreadable",
        "a named pipe (FIFO) is not a regular file, so it is not read",
    )
    assert inputs["caf\ufffd.pdf"].rejection is not None
    assert inputs["caf\ufffd.pdf"].rejection[0] == "bad_name"
    assert "b'caf\\xe9.pdf'" not in inputs["caf\ufffd.pdf"].rejection[1]  # shown as Python keeps it
    assert inputs["dangling.pdf"].rejection == ("unreadable", "the file does not exist (a broken link?)")
    assert "subfolder" not in inputs
    assert inputs["bury.pdf"].rejection is None


def test_a_manifest_that_cannot_be_parsed_raises_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text(HEADER + _row("bury.pdf").replace(",301,", ",3O1,"))
    with pytest.raises(ManifestError, match=r"line 2: la_code '3O1' is not a DfE local authority number"):
        read_manifest(path)
