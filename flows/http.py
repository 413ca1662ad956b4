"""A polite HTTP client for crawling Ofsted's site: who we are, a pause between requests, retries with
backoff on 5xx and 429 (honouring Retry-After), timeouts, a cap on pages per run, and a host allowlist."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

import httpx
from bs4.dammit import EncodingDetector
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from sendcorpus.flows.fetch import CONNECTION, USER_AGENT, FetchError, check_status, fetch_report

log = logging.getLogger(__name__)

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@dataclass(frozen=True)
class Politeness:
    delay: float = 1.0  # seconds between the start of one request and the next
    timeout: float = 30.0
    connect_timeout: float = 10.0
    attempts: int = 4
    backoff: float = 1.0
    max_retry_after: float = 60.0
    max_pages: int = 2000


class HostNotAllowed(FetchError):
    def __init__(self, url: str) -> None:
        super().__init__("bad_url", f"{url} is not on the site or its file host; not fetched")


PAGE_SECONDS = 60.0  # for one page, however slowly it arrives
PAGE_BYTES = 20 << 20  # the real site's largest page is well under 1 MB


class PageCapReached(Exception):
    """The run read as many pages as it may."""


class SiteUnreachable(Exception):
    """No connection to the site at all (offline, wrong address, refused) before it has answered once."""


class PoliteClient:
    """One client per run. Every request, retries and redirects included, passes `_before_request`,
    which enforces the allowlist and the delay and counts requests."""

    def __init__(self, site: str, politeness: Politeness = Politeness()) -> None:
        self.site = site.rstrip("/")
        self.politeness = politeness
        self.allowed_hosts = {_host(self.site)}
        self.requests = 0
        self.pages = 0
        self.answered = False  # whether the site has sent a response this run
        self._last_request = float("-inf")
        self.http = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(politeness.timeout, connect=politeness.connect_timeout),
            follow_redirects=True,
            event_hooks={"request": [self._before_request]},
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def allow_host_of(self, url: str) -> None:
        self.allowed_hosts.add(_host(url))

    def _before_request(self, request: httpx.Request) -> None:
        if _host(str(request.url)) not in self.allowed_hosts:
            raise HostNotAllowed(str(request.url))
        pause = self._last_request + self.politeness.delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._last_request = time.monotonic()
        self.requests += 1

    def get_page(self, url: str) -> str:
        """An HTML page's text. A site that refuses the first connection fails the run at once rather
        than after minutes of backoff; once it has answered, a refused connection is a blip (a restart,
        a load balancer) and is retried like a 5xx."""
        if self.pages >= self.politeness.max_pages:
            raise PageCapReached(f"stopped at the cap of {self.politeness.max_pages} pages per run")
        self.pages += 1
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.politeness.attempts)),
            wait=self._wait,
            retry=retry_if_exception(lambda error: isinstance(error, FetchError) and error.retryable),
            before_sleep=lambda state: log.warning("retrying %s: %s", url, _error_of(state)),
            reraise=True,
        )
        return retrying(self._get_once, url)

    def _get_once(self, url: str) -> str:
        try:
            with self.http.stream("GET", url, headers={"Accept": "text/html"}) as response:
                self.answered = True
                check_status(response, url)
                body = self._page_body(response, url)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            why = f"{type(error).__name__}: {error}"
            if self.answered:
                lost = f"lost the connection to {url} ({why})"
                raise FetchError(CONNECTION, lost, retryable=True) from None
            raise SiteUnreachable(f"cannot reach {url} ({why})") from None
        except httpx.TimeoutException:
            raise FetchError("timeout", f"no response from {url}", retryable=True) from None
        except httpx.TransportError as error:
            raise FetchError(CONNECTION, f"{url}: {type(error).__name__}: {error}", retryable=True) from None
        # the charset the page declares when the server does not say (httpx would assume UTF-8)
        declared = response.charset_encoding or EncodingDetector.find_declared_encoding(body, is_html=True)
        return body.decode(declared or "utf-8", errors="replace")

    def _page_body(self, response: httpx.Response, url: str) -> bytes:
        """The page's bytes, within PAGE_SECONDS in all (the read timeout restarts with every byte, so a
        page that trickles in would hold the run for ever) and PAGE_BYTES."""
        deadline = time.monotonic() + PAGE_SECONDS
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > PAGE_BYTES:
                raise FetchError("too_large", f"{url} is over the {PAGE_BYTES >> 20} MB cap for a page")
            if time.monotonic() > deadline:
                raise FetchError("timeout", f"{url} took over {PAGE_SECONDS:g} s to arrive", retryable=True)
            chunks.append(chunk)
        return b"".join(chunks)

    def download(self, url: str, cache: Path) -> Path:
        """A publication's file, through the shared download code (sha256 unknown until it arrives)."""
        return fetch_report(
            url,
            None,
            cache,
            timeout=self.politeness.timeout,
            attempts=self.politeness.attempts,
            backoff=self.politeness.backoff,
            max_retry_after=self.politeness.max_retry_after,
            client=self.http,
        )

    def _wait(self, state: RetryCallState) -> float:
        error = _error_of(state)
        if isinstance(error, FetchError) and error.retry_after is not None:
            return min(error.retry_after, self.politeness.max_retry_after)
        return wait_exponential(multiplier=self.politeness.backoff, max=self.politeness.max_retry_after)(
            state
        )


def probe(site: str, timeout: float = 10.0) -> None:
    """Open (and close) a TCP connection to the site, so a machine without a route to it fails in
    a second instead of after starting Prefect; no HTTP request is made."""
    parts = urlsplit(site)
    if any(os.environ.get(name) for name in _PROXY_VARIABLES) and not proxy_bypass_environment(
        parts.hostname or ""
    ):
        return  # httpx goes through the proxy; a direct connection says nothing about reachability
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as error:
        raise SiteUnreachable(f"cannot reach {site} ({error.strerror or error})") from None


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
