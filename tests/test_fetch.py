"""Downloads against real HTTP servers on 127.0.0.1: successes, failures, retries, cache."""

from __future__ import annotations

import pickle
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sendcorpus import __version__
from sendcorpus.flows.fetch import FetchError, fetch_report
from sendcorpus.flows.sources import sha256_of

from conftest import REPORTS

REPORT = REPORTS / "rutland.pdf"
SHA = sha256_of(REPORT)
FAST = {"backoff": 0.01, "attempts": 3, "timeout": 2.0, "max_retry_after": 0.5}


def _served(httpserver: HTTPServer, path: str, responses: list[Callable[[], Response]]) -> list[Request]:
    """Serve `responses` in order at `path` (the last one repeats); returns the requests seen."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]()

    httpserver.expect_request(path).respond_with_handler(handler)
    return seen


def _pdf() -> Response:
    return Response(REPORT.read_bytes(), content_type="application/pdf")


def _status(code: int, headers: dict[str, str] | None = None) -> Callable[[], Response]:
    return lambda: Response(f"status {code}", status=code, headers=headers)


def _cache_files(cache: Path) -> list[str]:
    """Everything in the cache folder, hidden temporary files included."""
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


def test_download_is_verified_cached_and_announces_itself(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/report.pdf", [_pdf])
    path = fetch_report(httpserver.url_for("/report.pdf"), SHA, tmp_path, **FAST)
    assert path == tmp_path / f"{SHA}.pdf"
    assert sha256_of(path) == SHA
    assert _cache_files(tmp_path) == [f"{SHA}.pdf"]
    assert seen[0].headers["User-Agent"].startswith(f"sendcorpus/{__version__} (")


def test_a_cache_hit_makes_no_request(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/report.pdf", [_pdf])
    first = fetch_report(httpserver.url_for("/report.pdf"), SHA, tmp_path, **FAST)
    httpserver.clear()  # from now on any request would be an error on the server
    again = fetch_report(httpserver.url_for("/report.pdf"), SHA.upper(), tmp_path, **FAST)
    assert again == first
    assert len(seen) == 1
    assert httpserver.log == []


def test_a_damaged_cached_copy_is_downloaded_again(httpserver: HTTPServer, tmp_path: Path) -> None:
    (tmp_path / f"{SHA}.pdf").write_bytes(b"%PDF-1.7 half a file")
    seen = _served(httpserver, "/report.pdf", [_pdf])
    path = fetch_report(httpserver.url_for("/report.pdf"), SHA, tmp_path, **FAST)
    assert len(seen) == 1
    assert sha256_of(path) == SHA


def test_without_a_sha256_the_name_comes_from_the_url(httpserver: HTTPServer, tmp_path: Path) -> None:
    _served(httpserver, "/files/50212345/rutland.pdf", [_pdf])
    _served(httpserver, "/other/rutland.pdf", [_pdf])
    path = fetch_report(httpserver.url_for("/files/50212345/rutland.pdf"), None, tmp_path, **FAST)
    other = fetch_report(httpserver.url_for("/other/rutland.pdf"), None, tmp_path, **FAST)
    assert path.name.startswith("rutland-") and path.suffix == ".pdf"
    assert other != path  # same last segment, different URL: no collision
    assert sha256_of(path) == SHA


def test_not_found_is_not_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/gone.pdf", [_status(404)])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/gone.pdf"), SHA, tmp_path, **FAST)
    assert caught.value.reason == "http_error"
    assert str(caught.value) == caught.value.detail
    assert caught.value.detail == f"HTTP 404 Not Found from {httpserver.url_for('/gone.pdf')}"
    assert len(seen) == 1
    assert _cache_files(tmp_path) == []


def test_a_server_error_then_success_is_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/flaky.pdf", [_status(500), _pdf])
    path = fetch_report(httpserver.url_for("/flaky.pdf"), SHA, tmp_path, **FAST)
    assert len(seen) == 2
    assert sha256_of(path) == SHA


def test_a_persistent_server_error_gives_up_after_the_attempts(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    seen = _served(httpserver, "/down.pdf", [_status(503)])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/down.pdf"), SHA, tmp_path, **FAST)
    assert caught.value.reason == "http_error"
    assert "HTTP 503 Service Unavailable" in caught.value.detail
    assert "gave up after 3 attempts" in caught.value.detail
    assert len(seen) == 3
    assert _cache_files(tmp_path) == []


def test_rate_limit_honours_retry_after(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/busy.pdf", [_status(429, {"Retry-After": "1"}), _pdf])
    started = time.monotonic()
    fetch_report(httpserver.url_for("/busy.pdf"), SHA, tmp_path, **{**FAST, "max_retry_after": 5.0})
    assert len(seen) == 2
    assert time.monotonic() - started >= 1.0  # the server's 1 s, not the 0.01 s backoff


def test_retry_after_is_capped(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/busy.pdf", [_status(429, {"Retry-After": "3600"}), _pdf])
    started = time.monotonic()
    fetch_report(httpserver.url_for("/busy.pdf"), SHA, tmp_path, **{**FAST, "max_retry_after": 0.2})
    assert len(seen) == 2
    assert 0.2 <= time.monotonic() - started < 5


def test_a_timeout_is_retried_then_reported(httpserver: HTTPServer, tmp_path: Path) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return _pdf()

    httpserver.expect_request("/slow.pdf").respond_with_handler(slow)
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/slow.pdf"), SHA, tmp_path, backoff=0.01, attempts=2, timeout=0.1)
    assert caught.value.reason == "timeout"
    assert "no response" in caught.value.detail
    assert "gave up after 2 attempts" in caught.value.detail
    assert _cache_files(tmp_path) == []


def test_a_wrong_checksum_is_not_retried_and_leaves_nothing(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/other.pdf", [_pdf])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/other.pdf"), "0" * 64, tmp_path, **FAST)
    assert caught.value.reason == "checksum"
    assert f"expected sha256 {'0' * 64}, got {SHA}" in caught.value.detail
    assert len(seen) == 1
    assert _cache_files(tmp_path) == []


def test_a_malformed_expected_sha256_fails_before_any_request(httpserver: HTTPServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/report.pdf"), "not-a-digest", tmp_path, **FAST)
    assert caught.value.reason == "checksum"
    assert httpserver.log == []


def test_an_announced_oversize_body_is_refused_at_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _served(httpserver, "/big.pdf", [_pdf])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/big.pdf"), SHA, tmp_path, **{**FAST, "max_bytes": 50_000})
    assert caught.value.reason == "too_large"
    assert "over the 48.8 KB size cap" in caught.value.detail
    assert len(seen) == 1
    assert _cache_files(tmp_path) == []


def test_the_size_cap_holds_while_streaming(httpserver: HTTPServer, tmp_path: Path) -> None:
    """No Content-Length (chunked): the cap is enforced on the bytes as they arrive."""

    def chunked() -> Response:
        data = REPORT.read_bytes()
        return Response(
            (data[i : i + 8192] for i in range(0, len(data), 8192)), content_type="application/pdf"
        )

    _served(httpserver, "/stream.pdf", [chunked])
    with pytest.raises(FetchError) as caught:
        fetch_report(httpserver.url_for("/stream.pdf"), SHA, tmp_path, **{**FAST, "max_bytes": 50_000})
    assert caught.value.reason == "too_large"
    assert _cache_files(tmp_path) == []


class RawServer:
    """A tiny HTTP server on 127.0.0.1 that answers each connection with `reply` and counts them."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self.reply = reply
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/report.pdf"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.recv(65536)
                self.reply(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(reply: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_body_cut_short_is_retried_and_never_cached(raw_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def promise_more_than_sent(connection: socket.socket) -> None:
        header = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n"
        connection.sendall(header + REPORT.read_bytes()[:1000])

    server = raw_server(promise_more_than_sent)
    with pytest.raises(FetchError) as caught:
        fetch_report(server.url, SHA, tmp_path, **FAST)
    assert caught.value.reason == "truncated"
    assert "gave up after 3 attempts" in caught.value.detail
    assert server.connections == 3
    assert _cache_files(tmp_path) == []


def test_a_reset_connection_is_retried(raw_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def hang_up(connection: socket.socket) -> None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    server = raw_server(hang_up)
    with pytest.raises(FetchError) as caught:
        fetch_report(server.url, SHA, tmp_path, **FAST)
    assert caught.value.reason in {"connection", "truncated"}  # a reset before or during the headers
    assert server.connections == 3
    assert _cache_files(tmp_path) == []


def test_a_refused_connection_is_reported(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(FetchError) as caught:
        fetch_report(f"http://127.0.0.1:{port}/x.pdf", SHA, tmp_path, **FAST)
    assert caught.value.reason == "connection"
    assert "cannot connect" in caught.value.detail
    assert _cache_files(tmp_path) == []


def test_an_unusable_url_is_not_retried(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_report("ftp://127.0.0.1/report.pdf", SHA, tmp_path, **FAST)
    assert caught.value.reason == "bad_url"


def test_fetch_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(FetchError("timeout", "no response from http://x within 1 s")))
    assert (error.reason, error.detail, str(error)) == (
        "timeout",
        "no response from http://x within 1 s",
        error.detail,
    )


def test_a_server_that_never_answers_is_cut_off_by_the_deadline(raw_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    released = threading.Event()
    server = raw_server(lambda connection: released.wait(10))
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            fetch_report(server.url, SHA, tmp_path, backoff=0.01, attempts=4, timeout=30, deadline=2)
    finally:
        released.set()
    assert 1.5 < time.monotonic() - started < 5  # not 4 attempts × 30 s
    assert caught.value.reason == "timeout"
    assert "within its 2 s deadline" in caught.value.detail
    assert _cache_files(tmp_path) == []


def test_a_trickling_server_is_cut_off_by_the_same_deadline(raw_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    released = threading.Event()

    def trickle(connection: socket.socket) -> None:
        header = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n"
        connection.sendall(header)
        with suppress(OSError):
            while not released.wait(0.05):
                connection.sendall(b"%")  # a byte at a time: never a read timeout

    server = raw_server(trickle)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            fetch_report(server.url, SHA, tmp_path, backoff=0.01, attempts=4, timeout=1, deadline=2)
    finally:
        released.set()
    assert 1.5 < time.monotonic() - started < 5
    assert caught.value.reason == "timeout"
    assert "did not finish within its 2 s deadline" in caught.value.detail
    assert server.connections == 1
    assert _cache_files(tmp_path) == []
