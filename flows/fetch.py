"""Downloading a report: timeouts, retries with backoff, sha256 checked, written atomically to a cache."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from sendcorpus import __version__
from sendcorpus.flows.sources import sha256_of

log = logging.getLogger(__name__)

RETRY_AFTER_CAP_SECONDS = 60.0
# All attempts of one download together, waits included: a stalled or trickling server costs no more
DOWNLOAD_DEADLINE_SECONDS = 60.0
_BACKOFF_CAP_SECONDS = 60.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _user_agent() -> str:
    """Name, version and (once pyproject has [project.urls]) where to find the project, so a server
    operator can tell who is downloading."""
    try:
        urls = metadata.metadata("sendcorpus").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    homepage = next((entry.split(",", 1)[1].strip() for entry in urls if "," in entry), None)
    contact = f"+{homepage}" if homepage else "area SEND inspection corpus"
    return f"sendcorpus/{__version__} ({contact}; python-httpx/{httpx.__version__})"


USER_AGENT = _user_agent()


CONNECTION = "connection"  # the reason when no connection could be made (or kept) to the host


class FetchError(Exception):
    """A download that failed for good.

    `reason` is a short code (http_error, timeout, connection, checksum, too_large, truncated, bad_url),
    `detail` a sentence for a person; str(error) is the detail.
    """

    def __init__(
        self, reason: str, detail: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, str]]:
        return type(self), (self.reason, self.detail)  # picklable (Prefect may ship it between processes)


def fetch_report(
    url: str,
    sha256: str | None,
    cache_dir: Path,
    *,
    timeout: float = 30.0,
    attempts: int = 4,
    backoff: float = 1.0,
    max_bytes: int = 100 * 2**20,
    max_retry_after: float = RETRY_AFTER_CAP_SECONDS,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    client: httpx.Client | None = None,
) -> Path:
    """The cached copy when it has the expected sha256 (no network), otherwise a fresh download.

    Timeouts, connection failures, HTTP 5xx and 429 and bodies cut short are retried up to `attempts`
    times in all, waiting `backoff`, 2×`backoff`, 4×… seconds (or the server's Retry-After, capped at
    `max_retry_after`). Other 4xx, a wrong sha256 and an over-size body fail at once. `deadline` bounds
    the whole download, every attempt and wait included, so a server that stalls or sends a byte at a
    time is cut off. Without a sha256 the file is always downloaded again: there is nothing to tell a
    good cached copy from a stale one.
    """
    expected = sha256.strip().lower() if sha256 else None
    if expected is not None and not _SHA256.match(expected):
        raise FetchError(
            "checksum", f"the expected sha256 for {url} is not a 64-digit hex digest: {sha256!r}"
        )
    target = cache_dir / (f"{expected}.pdf" if expected else _name_from_url(url))
    if expected and target.is_file() and sha256_of(target) == expected:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    ends = _Deadline(url, deadline)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, FetchError) and error.retry_after is not None:
            seconds = min(error.retry_after, max_retry_after)
        else:
            seconds = wait_exponential(multiplier=backoff, max=_BACKOFF_CAP_SECONDS)(state)
        return min(seconds, ends.remaining())

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "retrying in %.1f s (attempt %d of %d): %s", seconds, state.attempt_number, attempts, error
        )

    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait,
        retry=retry_if_exception(lambda error: isinstance(error, FetchError) and error.retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    http = client or httpx.Client()
    try:
        return retrying(_download, http, url, expected, target, timeout, max_bytes, ends)
    except FetchError as error:
        if not error.retryable:
            raise
        tries = retrying.statistics.get("attempt_number", attempts)
        attempts_made = f"{tries} attempt{'s' if tries != 1 else ''}"
        raise FetchError(error.reason, f"{error.detail} (gave up after {attempts_made})") from None
    finally:
        if client is None:
            http.close()


class _Deadline:
    """The moment a download must be finished by."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def check(self) -> float:
        """The seconds left, or a (final) FetchError once there are none."""
        left = self.remaining()
        if left <= 0:
            raise FetchError(
                "timeout",
                f"the download from {self.url} did not finish within its {self.seconds:g} s deadline "
                "(the server stalls or sends very slowly); try again later",
            )
        return left


def _download(
    http: httpx.Client,
    url: str,
    sha256: str | None,
    target: Path,
    timeout: float,
    max_bytes: int,
    deadline: _Deadline,
) -> Path:
    """One attempt: stream into a temporary file beside the target, check, then rename into place."""
    step_timeout = min(timeout, deadline.check())
    digest = hashlib.sha256()
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=".pdf")
    partial = Path(name)
    try:
        with (
            os.fdopen(descriptor, "wb") as handle,
            http.stream(
                "GET",
                url,
                headers={"User-Agent": USER_AGENT, "Accept": "application/pdf, */*;q=0.5"},
                timeout=httpx.Timeout(step_timeout),
                follow_redirects=True,
            ) as response,
        ):
            check_status(response, url)
            _check_announced_size(response, url, max_bytes)
            received = 0
            for chunk in response.iter_bytes():  # as they arrive, so a trickle meets the deadline
                deadline.check()
                received += len(chunk)
                if received > max_bytes:
                    raise FetchError(
                        "too_large", f"the download from {url} is over the {_size(max_bytes)} size cap"
                    )
                digest.update(chunk)
                handle.write(chunk)
            _check_complete(response, url)
            handle.flush()
            os.fsync(handle.fileno())
        if sha256 and digest.hexdigest() != sha256:
            raise FetchError(
                "checksum",
                f"the file from {url} does not have the expected content: "
                f"expected sha256 {sha256}, got {digest.hexdigest()}",
            )
        os.chmod(partial, 0o644)  # mkstemp makes it owner-only; a cache is readable like any download
        os.replace(partial, target)
        return target
    except httpx.TimeoutException:
        deadline.check()  # the whole download's time is up: no point in another attempt
        raise FetchError(
            "timeout", f"no response from {url} within {step_timeout:g} s", retryable=True
        ) from None
    except httpx.RemoteProtocolError as error:
        raise FetchError(
            "truncated", f"the connection to {url} broke off mid-download ({error})", retryable=True
        ) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise FetchError("bad_url", f"cannot download {url!r}: {error}") from None
    except (httpx.TooManyRedirects, httpx.DecodingError) as error:
        raise FetchError("http_error", f"unusable response from {url} ({error})") from None
    except httpx.TransportError as error:
        raise FetchError(
            CONNECTION, f"cannot connect to {url} ({type(error).__name__}: {error})", retryable=True
        ) from None
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()  # gone already when the download succeeded


def check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    try:
        phrase = HTTPStatus(status).phrase  # servers spell their own phrase in any case ("NOT FOUND")
    except ValueError:
        phrase = response.reason_phrase
    detail = f"HTTP {status} {phrase} from {url}"
    if status in (429, 503):  # the two statuses HTTP gives Retry-After for
        raise FetchError("http_error", detail, retryable=True, retry_after=_retry_after(response))
    raise FetchError("http_error", detail, retryable=status >= 500)


def _check_announced_size(response: httpx.Response, url: str, max_bytes: int) -> None:
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and "Content-Encoding" not in response.headers and int(announced) > max_bytes:
        raise FetchError(
            "too_large", f"{url} is {_size(int(announced))}, over the {_size(max_bytes)} size cap"
        )


def _check_complete(response: httpx.Response, url: str) -> None:
    """httpx notices most short bodies itself; this catches the rest (it counts bytes on the wire)."""
    announced = response.headers.get("Content-Length", "")
    received = response.num_bytes_downloaded
    if announced.isdigit() and int(announced) != received:
        raise FetchError(
            "truncated",
            f"the download from {url} stopped at {received} of {announced} bytes",
            retryable=True,
        )


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    with suppress(ValueError):
        return max(0.0, float(value))
    with suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def _name_from_url(url: str) -> str:
    """A readable cache name from the URL's last segment, made unique by a hash of the whole URL."""
    tail = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", tail.removesuffix(".pdf").removesuffix(".PDF")).strip(".-")
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{stem[:80] or 'report'}-{key}.pdf"


def _size(n_bytes: int) -> str:
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:.1f} MB"
    if n_bytes >= 2**10:
        return f"{n_bytes / 2**10:.1f} KB"
    return f"{n_bytes} bytes"
