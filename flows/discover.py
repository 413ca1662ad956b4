"""Discovery on Ofsted's reports site: the local-authority search, each provider page, its publications.

The site's shape (as the public data-to-insight ofsted-send-scrape-tool documents it): the search for
children's social care → local authority children's services lists providers as links to
`/provider/44/<URN>`, a page at a time, until a page lists none; each provider page has one
`a.publication-link` per publication, pointing at the file host, whose hidden `span.nonvisual` reads
"Area SEND full inspection, pdf - 15 July 2024".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from urllib.parse import urlencode, urljoin

from bs4 import BeautifulSoup, Tag

from sendcorpus.flows.fetch import CONNECTION, FetchError
from sendcorpus.flows.http import PageCapReached, PoliteClient
from sendcorpus.warehouse.reference import name_key, seed_local_authorities

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 100
SEARCH_QUERY = {
    "q": "",
    "location": "",
    "lat": "",
    "lon": "",
    "radius": "",
    "level_1_types": "3",  # children's social care
    "level_2_types[]": "12",  # local authority children's services
}
_PROVIDER_HREF = re.compile(r"/provider/44/(\d+)/?$")
_LINK_TEXT = re.compile(r"^(?P<title>.+?),\s*(?:pdf|html|docx?)\s*-\s*(?P<date>\d{1,2} \w+ \d{4})$", re.I)

# kind → words in the link (lower case); the first match wins, so revisits come before inspections.
KINDS = {
    "full_inspection": ("area send full inspection",),
    "monitoring_inspection": ("area send monitoring inspection", "area send monitoring visit"),
    "revisit_letter": ("local area send revisit",),
    "joint_inspection_letter": ("local area send inspection",),
}
# The only kind the pipeline can read: the 2023-framework full inspection report.
READABLE_KINDS = {"full_inspection"}


class PageError(Exception):
    """A page that is not the shape the crawler expects."""


@dataclass(frozen=True)
class Provider:
    urn: str
    name: str
    url: str


@dataclass(frozen=True)
class Publication:
    url: str
    ofsted_urn: str
    local_authority: str
    la_code: str | None
    kind: str
    title: str
    published: date | None


@dataclass
class Discovery:
    providers: int = 0
    publications: list[Publication] = field(default_factory=list)
    other_publications: int = 0  # children's services and other reports on the same pages, never fetched
    failures: list[str] = field(default_factory=list)  # one sentence per provider or page that failed
    requests: int = 0
    unreachable: str | None = None  # why the site could not be reached at all


def search_url(site: str, start: int, rows: int = RESULTS_PER_PAGE) -> str:
    return f"{site.rstrip('/')}/search?{urlencode({**SEARCH_QUERY, 'start': start, 'rows': rows})}"


def parse_search_page(html: str, page_url: str) -> list[Provider]:
    """The providers a results page links to, in page order, each once."""
    providers: dict[str, Provider] = {}
    for link in BeautifulSoup(html, "html.parser").find_all("a", href=True):
        match = _PROVIDER_HREF.search(str(link["href"]).split("?")[0])
        if match and match.group(1) not in providers:
            name = " ".join(link.get_text(" ").split())
            providers[match.group(1)] = Provider(
                match.group(1), name, urljoin(page_url, str(link["href"]).strip())
            )
    return list(providers.values())


def parse_provider_page(html: str, provider: Provider) -> tuple[list[Publication], int]:
    """The provider's area SEND publications, and how many other publications the page lists."""
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.find("h1")
    if heading is None:
        raise PageError(f"{provider.url} has no provider heading")
    name = " ".join(heading.get_text(" ").split()) or provider.name
    la_code = la_code_for(name) or la_code_for(provider.name)
    found: dict[str, Publication] = {}  # by URL: a page can list one report twice
    others = 0
    for link in soup.select("a.publication-link"):
        # another kind of report is counted whether or not its link can be read: an unreadable children's
        # services link once failed the provider, and its area SEND reports with it
        if classify(link.get_text(" ")) is None:
            others += 1
            continue
        title, published = _describe(link, provider.url)
        kind = classify(title)
        if kind is None:
            others += 1
            continue
        url = urljoin(provider.url, str(link.get("href") or "").strip())  # as a browser reads it
        found.setdefault(url, Publication(url, provider.urn, name, la_code, kind, title, published))
    return list(found.values()), others


def _describe(link: Tag, page_url: str) -> tuple[str, date]:
    hidden = link.select_one("span.nonvisual")
    text = " ".join((hidden or link).get_text(" ").split())
    match = _LINK_TEXT.match(text)
    if not link.get("href") or match is None:
        raise PageError(f"a publication link on {page_url} cannot be read: {text[:80]!r}")
    try:
        published = datetime.strptime(match.group("date"), "%d %B %Y").date()
    except ValueError:
        raise PageError(f"a publication date on {page_url} cannot be read: {match.group('date')!r}") from None
    return match.group("title"), published


def classify(title: str) -> str | None:
    """The kind of an area SEND publication, or None for any other report."""
    words = " ".join(title.lower().split())
    for kind, phrases in KINDS.items():
        if any(phrase in words for phrase in phrases):
            return kind
    return None


@cache
def _codes_by_name() -> dict[str, str]:
    codes = {}
    for row in seed_local_authorities().iter_rows(named=True):
        for spelling in [row["name"], *(row["aliases"] or "").split(";")]:
            if spelling:
                codes.setdefault(name_key(spelling), row["la_code"])
    return codes


def _stopped_answering(read: int, providers: int) -> str:
    return (
        f"the site stopped answering after {read} of {providers} provider pages, so this one and the "
        f"{providers - read - 1} after it were not read (the next run reads them)"
    )


def la_code_for(provider_name: str) -> str | None:
    return _codes_by_name().get(name_key(provider_name))


def discover(client: PoliteClient) -> Discovery:
    """Every provider in the search, then every provider page. A provider page that fails (HTTP error,
    unreadable HTML) is noted and skipped; a site that cannot be reached raises SiteUnreachable. A site
    that stops answering midway ends the crawl with what was found so far, and says how much is unread."""
    result = Discovery()
    providers: dict[str, Provider] = {}
    start = 0
    try:
        while True:
            url = search_url(client.site, start)
            page = parse_search_page(client.get_page(url), url)
            new = [provider for provider in page if provider.urn not in providers]
            if not new:
                break
            providers.update((provider.urn, provider) for provider in new)
            start += len(page)  # the site may show fewer per page than asked for
    except FetchError as error:
        result.failures.append(f"search results from {start}: {error}")
    except PageCapReached as error:
        result.failures.append(str(error))
    if not providers and not result.failures:  # a maintenance page, or a site whose pages changed
        result.failures.append(f"the search at {search_url(client.site, 0)} lists no providers")
    result.providers = len(providers)
    for read, provider in enumerate(providers.values()):
        try:
            publications, others = parse_provider_page(client.get_page(provider.url), provider)
        except (FetchError, PageError) as error:
            failure = f"provider {provider.urn} ({provider.name}): {error}"
            if isinstance(error, FetchError) and error.reason == CONNECTION:  # retried already: it is down
                result.failures.append(f"{failure}; {_stopped_answering(read, len(providers))}")
                break
            result.failures.append(failure)
            continue
        except PageCapReached as error:
            if str(error) not in result.failures:  # the search may have reached it already
                result.failures.append(str(error))
            break
        known = {publication.url for publication in result.publications}
        publications = [p for p in publications if p.url not in known]  # another provider's link too
        for publication in publications:
            client.allow_host_of(publication.url)
        result.publications.extend(publications)
        result.other_publications += others
    result.requests = client.requests
    return result
