"""A site of the real reports site's shape on 127.0.0.1: paged local-authority search results, provider
pages with publication links, and a separate file host serving the real PDFs from ../shared."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import REPORTS

FIXTURES = Path(__file__).parent / "fixtures" / "site"
FULL = "Area SEND full inspection"
MONITORING = "Area SEND monitoring inspection"
OLD_LETTER = "Joint local area SEND inspection"
REVISIT = "Joint local area SEND revisit"
CHILDRENS_SERVICES = "Children's services inspection"


def file_host() -> Iterator[HTTPServer]:
    """For a fixture: a second server on 127.0.0.1 for the files, another host (like files.ofsted.gov.uk)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _template(name: str) -> Template:
    return Template((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Listing:
    title: str
    published: date
    file_id: str
    pdf: str | None = None  # a file in ../shared/corpus/reports; None answers 404


@dataclass
class Provider:
    urn: str
    name: str
    listings: list[Listing] = field(default_factory=list)
    raw_html: str | None = None  # served instead of the generated page (malformed HTML)


class FixtureSite:
    """Serves the site from one HTTPServer and the files from another, so they are different hosts."""

    def __init__(self, site: HTTPServer, files: HTTPServer, page_size: int = 2) -> None:
        self.site, self.files, self.page_size = site, files, page_size
        self.providers: dict[str, Provider] = {}
        self.faults: dict[str, list[Callable[[], Response]]] = {}  # path → responses served first
        self.seen: list[str] = []  # every path requested, site and files
        self.arrivals: list[float] = []  # time.monotonic() as each site request arrived
        site.expect_request(re.compile("^/")).respond_with_handler(self._site)
        files.expect_request(re.compile("^/")).respond_with_handler(self._file)

    @property
    def url(self) -> str:
        return self.site.url_for("").rstrip("/")

    def add(self, urn: str, name: str, *listings: Listing, raw_html: str | None = None) -> None:
        provider = self.providers.setdefault(urn, Provider(urn, name))
        provider.listings.extend(listings)
        provider.raw_html = raw_html

    def file_url(self, file_id: str) -> str:
        return self.files.url_for(f"/v1/file/{file_id}")

    def file_requests(self) -> list[str]:
        return [path for path in self.seen if path.startswith("/v1/file/")]

    def _fault(self, path: str) -> Response | None:
        queue = self.faults.get(path)
        return queue.pop(0)() if queue else None

    def _site(self, request: Request) -> Response:
        self.seen.append(request.path)
        self.arrivals.append(time.monotonic())
        fault = self._fault(request.path)
        if fault is not None:
            return fault
        if request.path == "/search":
            start = int(parse_qs(request.query_string.decode()).get("start", ["0"])[0])
            return _html(self._search_page(start))
        match = re.fullmatch(r"/provider/44/(\d+)", request.path)
        if match and match.group(1) in self.providers:
            return _html(self.provider_page(self.providers[match.group(1)]))
        return Response("not found", status=404)

    def _file(self, request: Request) -> Response:
        self.seen.append(request.path)
        fault = self._fault(request.path)
        if fault is not None:
            return fault
        for provider in self.providers.values():
            for listing in provider.listings:
                if request.path == f"/v1/file/{listing.file_id}" and listing.pdf:
                    return Response((REPORTS / listing.pdf).read_bytes(), content_type="application/pdf")
        return Response("not found", status=404)

    def _search_page(self, start: int) -> str:
        page = list(self.providers.values())[start : start + self.page_size]
        result = _template("search_result.html")
        results = "".join(result.substitute(urn=p.urn, name=p.name) for p in page)
        following = start + self.page_size
        more = following < len(self.providers)
        pagination = f'<a href="/search?start={following}&amp;rows={self.page_size}">Next</a>' if more else ""
        return _template("search.html").substitute(
            count=len(self.providers), results=results, pagination=pagination
        )

    def provider_page(self, provider: Provider) -> str:
        if provider.raw_html is not None:
            return provider.raw_html
        item = _template("publication.html")
        publications = "".join(
            item.substitute(
                href=self.file_url(listing.file_id),
                title=listing.title,
                date=f"{listing.published.day:02d} {listing.published:%B %Y}",
            )
            for listing in sorted(provider.listings, key=lambda listing: listing.published, reverse=True)
        )
        return _template("provider.html").substitute(
            name=provider.name, urn=provider.urn, publications=publications
        )


def _html(text: str) -> Response:
    return Response(text, content_type="text/html; charset=utf-8")


def malformed_page() -> str:
    return (FIXTURES / "malformed_provider.html").read_text(encoding="utf-8")


def status(code: int, headers: dict[str, str] | None = None) -> Callable[[], Response]:
    return lambda: Response(f"status {code}", status=code, headers=headers)
