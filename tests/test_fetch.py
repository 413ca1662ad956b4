"""Downloads against a real HTTP server on 127.0.0.1: successes, failures, retries, cache."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sendcorpus.flows.fetch import FetchError, fetch_report
from sendcorpus.flows.sources import sha256_of

from conftest import REPORTS

REPORT = REPORTS / "rutland.pdf"
SHA = sha256_of(REPORT)
FAST = {"backoff": 0.01, "attempts": 3, "timeout": 2.0}


def _served(httpserver: HTTPServer, path: str, responses: list[Response]) -> list[Request]:
    """Serve `responses` in order at `path`; returns the list the requests are recorded in."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    httpserver.expect_request(path).respond_with_handler(handler)
    return seen


def _pdf() -> Response:
    return Response(REPORT.read_bytes(), content_type="application/pdf")


def _cache_files(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


def test_download_is_verified_and_cached(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/report", [_pdf()])
    path = fetch_report(httpserver.url_for("/report"), SHA, tmp_path, **FAST)
    assert path == tmp_path / f"{SHA}.pdf"
    assert sha256_of(path) == SHA
    assert seen[0].headers["User-Agent"].startswith("sendcorpus/")
    again = fetch_report(httpserver.url_for("/report"), SHA, tmp_path, **FAST)
    assert again == path
    assert len(seen) == 1  # the cache answered the second time


def test_not_found_is_not_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/gone", [Response("no such file", status=404)])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/gone"), SHA, tmp_path, **FAST)
    assert caught.value.reason == "http_error"
    assert "HTTP 404" in caught.value.detail
    assert len(seen) == 1
    assert _cache_files(tmp_path) == []


def test_server_error_then_success_is_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/flaky", [Response("oops", status=500), _pdf()])
    path = fetch_report(httpserver.url_for("/flaky"), SHA, tmp_path, **FAST)
    assert len(seen) == 2
    assert sha256_of(path) == SHA


def test_persistent_server_error_gives_up_after_the_attempts(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/down", [Response("down", status=503)])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/down"), SHA, tmp_path, **FAST)
    assert caught.value.reason == "server_error"
    assert len(seen) == 3
    assert _cache_files(tmp_path) == []


def test_rate_limit_honours_retry_after(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(
        httpserver, "/busy", [Response("slow down", status=429, headers={"Retry-After": "1"}), _pdf()]
    )
    started = time.monotonic()
    fetch_report(httpserver.url_for("/busy"), SHA, tmp_path, **FAST)
    assert len(seen) == 2
    assert time.monotonic() - started >= 1.0


def test_timeout_is_retried_then_reported(httpserver: HTTPServer, tmp_path: Path) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return _pdf()

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/slow"), SHA, tmp_path, backoff=0.01, attempts=2, timeout=0.2)
    assert caught.value.reason == "timeout"
    assert _cache_files(tmp_path) == []


def test_wrong_checksum_leaves_nothing_in_the_cache(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/other", [_pdf()])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/other"), "0" * 64, tmp_path, **FAST)
    assert caught.value.reason == "checksum"
    assert "expected 0000" in caught.value.detail
    assert len(seen) == 1
    assert _cache_files(tmp_path) == []


@pytest.fixture
def cut_short_server() -> Iterator[str]:
    """A raw server on 127.0.0.1 that promises 100000 bytes, sends 1000 and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                header = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n"
                connection.sendall(header + REPORT.read_bytes()[:1000])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/report"
    stop.set()
    thread.join()
    listener.close()


def test_a_body_cut_short_is_retried_and_never_cached(cut_short_server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_report(cut_short_server, SHA, tmp_path, **FAST)
    assert caught.value.reason == "truncated"
    assert _cache_files(tmp_path) == []


def test_connection_refused(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(FetchError) as caught:
        fetch_report(f"http://127.0.0.1:{port}/x", SHA, tmp_path, **FAST)
    assert caught.value.reason == "connection"
