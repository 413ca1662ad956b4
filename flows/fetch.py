"""Downloading a report: timeouts, retries with backoff, sha256 checked, written atomically to a cache."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential

from sendcorpus import __version__
from sendcorpus.flows.sources import sha256_of

USER_AGENT = f"sendcorpus/{__version__} (area SEND inspection corpus; Python httpx)"
RETRY_AFTER_CAP_SECONDS = 60.0


class FetchError(Exception):
    """A download that failed for good; `reason` is a short code, `detail` a sentence."""

    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.reason in {"timeout", "connection", "server_error", "rate_limited", "truncated"}


def fetch_report(
    url: str,
    sha256: str | None,
    cache_dir: Path,
    *,
    timeout: float = 30.0,
    attempts: int = 4,
    backoff: float = 1.0,
    max_bytes: int = 100 * 2**20,
    client: httpx.Client | None = None,
) -> Path:
    """The cached copy when it has the expected bytes, otherwise a fresh download (retried where sensible)."""
    target = cache_dir / (f"{sha256}.pdf" if sha256 else _name_from_url(url))
    if sha256 and target.is_file() and sha256_of(target) == sha256:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        exponential = wait_exponential(multiplier=backoff, max=backoff * 16)(state)
        if isinstance(error, FetchError) and error.retry_after is not None:
            return min(error.retry_after, RETRY_AFTER_CAP_SECONDS)
        return exponential

    @retry(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(lambda error: isinstance(error, FetchError) and error.retryable),
        reraise=True,
    )
    def attempt() -> Path:
        return _download(http, url, sha256, target, max_bytes)

    try:
        return attempt()
    finally:
        if own_client:
            http.close()


def _download(http: httpx.Client, url: str, sha256: str | None, target: Path, max_bytes: int) -> Path:
    digest = hashlib.sha256()
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    partial = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle, http.stream("GET", url) as response:
            _check_status(response, url)
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise FetchError(
                        "too_large", f"{url} is over the {max_bytes / 2**20:.0f} MB download cap"
                    )
                digest.update(chunk)
                handle.write(chunk)
            expected = response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != received:
                raise FetchError(
                    "truncated", f"the download from {url} stopped at {received} of {expected} bytes"
                )
        if sha256 and digest.hexdigest() != sha256:
            raise FetchError(
                "checksum",
                f"{url} does not have the expected content: sha256 {digest.hexdigest()}, expected {sha256}",
            )
        os.replace(partial, target)
        return target
    except httpx.TimeoutException:
        raise FetchError("timeout", f"no answer from {url} in time") from None
    except httpx.RemoteProtocolError as error:
        raise FetchError("truncated", f"the connection to {url} broke off mid-download ({error})") from None
    except httpx.TransportError as error:
        raise FetchError("connection", f"cannot connect to {url} ({error})") from None
    finally:
        partial.unlink(missing_ok=True)


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    phrase = f"HTTP {status} {response.reason_phrase} from {url}"
    if status == 429:
        raise FetchError("rate_limited", phrase, retry_after=_retry_after(response))
    if status >= 500:
        raise FetchError("server_error", phrase)
    raise FetchError("http_error", phrase)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _name_from_url(url: str) -> str:
    tail = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "report"
    return tail if tail.lower().endswith(".pdf") else f"{tail}.pdf"
