"""Discovery and the polite client against a site of the real site's shape on 127.0.0.1 (no Prefect)."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from sendcorpus import __version__
from sendcorpus.flows.discover import Provider, classify, discover, parse_provider_page
from sendcorpus.flows.http import PageCapReached, PoliteClient, Politeness, SiteUnreachable, probe
from sendcorpus.flows.update import download_all, plan_downloads

from fixture_site import (
    CHILDRENS_SERVICES,
    FULL,
    MONITORING,
    OLD_LETTER,
    REVISIT,
    FixtureSite,
    Listing,
    file_host,
    malformed_page,
    status,
)

FAST = Politeness(delay=0.0, backoff=0.01, attempts=3, timeout=5.0, max_retry_after=2.0)


@pytest.fixture
def file_server() -> Iterator[HTTPServer]:
    yield from file_host()


@pytest.fixture
def site(httpserver: HTTPServer, file_server: HTTPServer) -> FixtureSite:
    """Five providers over three search pages (two per page): several kinds, and a malformed page."""
    return _five_providers(FixtureSite(httpserver, file_server, page_size=2))


@pytest.fixture
def own_site(file_server: HTTPServer) -> Iterator[FixtureSite]:
    """The same site on a server of its own, which a test may stop and start again."""
    for server in file_host():
        yield _five_providers(FixtureSite(server, file_server, page_size=2))


def _five_providers(fixture: FixtureSite) -> FixtureSite:
    fixture.add(
        "80549",
        "Sandwell Metropolitan Borough Council",
        Listing(FULL, date(2023, 9, 12), "50226473", "sandwell.pdf"),
        Listing(CHILDRENS_SERVICES, date(2022, 3, 1), "50180001", "rutland.pdf"),
        Listing(OLD_LETTER, date(2018, 5, 2), "50010001"),
        Listing(REVISIT, date(2020, 1, 15), "50010002"),
        Listing(MONITORING, date(2025, 6, 4), "50290001"),
    )
    fixture.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    fixture.add(
        "80428", "Bedford Borough Council", Listing(FULL, date(2025, 2, 4), "50268244", "bedford.pdf")
    )
    fixture.add("80443", "Bury Metropolitan Borough Council", raw_html=malformed_page())
    fixture.add("80464", "Dudley Metropolitan Borough Council", Listing(FULL, date(2025, 3, 11), "50270000"))
    return fixture


def test_discovery_pages_through_search_and_reads_every_provider(site: FixtureSite) -> None:
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert found.providers == 5
    searches = [path for path in site.seen if path == "/search"]
    assert len(searches) == 4  # three pages of results, then one that lists nobody
    kinds = {(p.ofsted_urn, p.kind, p.published) for p in found.publications}
    assert ("80549", "full_inspection", date(2023, 9, 12)) in kinds
    assert ("80549", "joint_inspection_letter", date(2018, 5, 2)) in kinds
    assert ("80549", "revisit_letter", date(2020, 1, 15)) in kinds
    assert ("80549", "monitoring_inspection", date(2025, 6, 4)) in kinds
    assert len(found.publications) == 7  # the children's services report is not an area SEND publication
    assert found.other_publications == 1
    sandwell = next(p for p in found.publications if p.kind == "full_inspection" and p.ofsted_urn == "80549")
    assert sandwell.la_code == "333"
    assert sandwell.url == site.file_url("50226473")
    assert found.requests == 4 + 5
    assert site.file_requests() == []  # discovery never fetches a file


def test_a_malformed_provider_page_fails_that_provider_only(site: FixtureSite) -> None:
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert len(found.failures) == 1
    assert found.failures[0].startswith("provider 80443 (Bury Metropolitan Borough Council): ")
    assert "no provider heading" in found.failures[0]
    assert {p.ofsted_urn for p in found.publications} == {"80549", "80547", "80428", "80464"}


def test_500_then_200_is_retried_and_404_fails_the_provider(site: FixtureSite) -> None:
    site.faults["/provider/44/80547"] = [status(500), status(503)]
    site.faults["/provider/44/80428"] = [status(404)]
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert site.seen.count("/provider/44/80547") == 3
    assert any(p.ofsted_urn == "80547" for p in found.publications)
    assert site.seen.count("/provider/44/80428") == 1  # a 404 is not retried
    assert any("80428" in failure and "HTTP 404" in failure for failure in found.failures)


@pytest.mark.parametrize("code", [429, 503])
def test_429_and_503_wait_for_retry_after(site: FixtureSite, code: int) -> None:
    site.faults["/search"] = [status(code, {"Retry-After": "1"})]
    started = time.monotonic()
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert time.monotonic() - started >= 1.0
    assert found.providers == 5


def test_requests_name_sendcorpus_and_keep_their_distance(site: FixtureSite, httpserver: HTTPServer) -> None:
    with PoliteClient(site.url, Politeness(delay=0.15)) as client:
        client.get_page(f"{site.url}/provider/44/80547")
        client.get_page(f"{site.url}/provider/44/80428")
        client.get_page(f"{site.url}/provider/44/80549")
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert len(agents) == 1 and agents.pop().startswith(f"sendcorpus/{__version__} (")
    assert client.requests == 3


def test_delay_spaces_requests(site: FixtureSite) -> None:
    with PoliteClient(site.url, Politeness(delay=0.5)) as client:
        for _ in range(3):
            client.get_page(f"{site.url}/provider/44/80547")
    gaps = [later - earlier for earlier, later in itertools.pairwise(site.arrivals)]
    # as they reach the server, which a loaded machine delays unevenly (a 0.2 s delay once arrived 0.16 s
    # apart): the slack is for that, far below the delay
    assert len(gaps) == 2 and min(gaps) >= 0.4


def test_the_page_cap_stops_the_crawl(site: FixtureSite) -> None:
    with PoliteClient(site.url, Politeness(delay=0.0, max_pages=3)) as client:
        found = discover(client)
        with pytest.raises(PageCapReached):
            client.get_page(f"{site.url}/provider/44/80547")
    assert "cap of 3 pages" in found.failures[-1]
    assert len(site.seen) == 3


def test_an_unreachable_site_fails_at_once() -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with PoliteClient(f"http://127.0.0.1:{port}", Politeness()) as client, pytest.raises(SiteUnreachable):
        discover(client)
    assert time.monotonic() - started < 5


def test_behind_a_proxy_only_a_host_it_does_not_serve_is_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a proxy a direct connection says nothing about reachability, so the requests tell; a host
    that NO_PROXY exempts (conftest.py exempts 127.0.0.1, with the proxies at a closed port) is probed."""
    with socket.socket() as listener:  # a port on 127.0.0.1 that nothing listens on
        listener.bind(("127.0.0.1", 0))
        site = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with pytest.raises(SiteUnreachable):
        probe(site)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable)
    probe(site)  # left to the requests, which go to the proxy


def test_downloads_come_only_from_the_site_and_its_file_host(site: FixtureSite, tmp_path: Path) -> None:
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
        fetched = [p for p in found.publications if p.ofsted_urn in ("80547", "80464")]
        ready, failures = download_all(client, fetched, tmp_path)
        site.faults["/v1/file/50224000"] = [status(302, {"Location": "http://127.0.0.2:9/elsewhere.pdf"})]
        _, redirected = download_all(client, fetched[:1], tmp_path / "again")
    assert [item.url for _, item in ready] == [site.file_url("50224000")]
    assert ready[0][1].published == date(2023, 8, 3) and ready[0][1].la_code == "857"
    assert len(failures) == 1 and "HTTP 404" in failures[0][1]  # Dudley's file is missing
    assert "not on the site or its file host" in redirected[0][1]


def test_plan_fetches_only_readable_kinds_not_seen_before(site: FixtureSite) -> None:
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    plan = plan_downloads(found.publications, {}, {})
    assert {p.ofsted_urn for p in plan.to_fetch} == {"80549", "80547", "80428", "80464"}
    assert plan.skipped == 3
    sandwell = site.file_url("50226473")
    rutland = site.file_url("50224000")
    dudley = site.file_url("50270000")
    again = plan_downloads(
        found.publications,
        {sandwell: "loaded", rutland: "rejected: not_a_report", dudley: "download failed: HTTP 404"},
        {site.file_url("50268244"): "abc"},
    )
    assert [p.url for p in again.to_fetch] == [dudley]
    assert again.already_loaded == {site.file_url("50268244"): "abc"}
    assert again.unchanged == 3


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Area SEND full inspection", "full_inspection"),
        ("Area SEND monitoring inspection", "monitoring_inspection"),
        ("Joint local area SEND inspection", "joint_inspection_letter"),
        ("Joint local area SEND revisit", "revisit_letter"),
        ("Local area SEND inspection", "joint_inspection_letter"),
        ("Children's services inspection", None),
        ("Joint area child protection inspection", None),
        ("Children's services focused visit", None),
    ],
)
def test_classify(title: str, kind: str | None) -> None:
    assert classify(title) == kind


def test_a_link_without_a_date_is_a_page_error() -> None:
    from sendcorpus.flows.discover import PageError

    html = '<h1>Rutland</h1><a class="publication-link" href="/f/1">Area SEND full inspection</a>'
    with pytest.raises(PageError, match="cannot be read"):
        parse_provider_page(html, Provider("80547", "Rutland", "http://127.0.0.1/provider/44/80547"))


def test_a_bad_download_is_fetched_again_next_run(site: FixtureSite) -> None:
    """An error page saved as the file, an empty or a cut-off body: the site's fault, not the report's."""
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    sandwell, rutland, bedford = (site.file_url(n) for n in ("50226473", "50224000", "50268244"))
    seen = {sandwell: "rejected: wrong_type", rutland: "rejected: empty", bedford: "rejected: not_a_report"}
    again = plan_downloads(found.publications, seen, {})
    assert {sandwell, rutland} <= {p.url for p in again.to_fetch} and bedford not in {
        p.url for p in again.to_fetch
    }


def test_a_search_listing_no_providers_is_a_failure_not_an_empty_site(site: FixtureSite) -> None:
    site.faults["/search"] = [lambda: Response("<h1>We are making changes</h1>", content_type="text/html")]
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert found.providers == 0
    assert len(found.failures) == 1 and found.failures[0].endswith("lists no providers")


def test_a_page_that_trickles_in_is_given_up_at_its_deadline(
    site: FixtureSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sendcorpus.flows import http

    monkeypatch.setattr(http, "PAGE_SECONDS", 0.5)  # a page's deadline, not the client: 60 s in use

    def trickle() -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(20):
                time.sleep(0.1)
                yield b" "

        return Response(body(), content_type="text/html")

    site.faults["/provider/44/80547"] = [trickle, trickle, trickle]
    started = time.monotonic()
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
    assert time.monotonic() - started < 8
    assert any("80547" in failure and "took over 0.5 s" in failure for failure in found.failures)
    assert found.providers == 5


def test_a_provider_page_in_its_declared_charset_with_a_link_listed_twice(httpserver: HTTPServer) -> None:
    href = "  /v1/file/50268244\n "  # white space around an href, which browsers drop
    link = (
        f'<li><a class="publication-link" href="{href}">Area SEND full inspection – 2023 framework '
        '<span class="nonvisual">Area SEND full inspection – 2023 framework, pdf - 4\xa0February 2025</span>'
        "</a></li>"
    )
    unreadable = '<li><a class="publication-link" href="/f/9">Children\'s services focused visit</a></li>'
    head = '<html><head><meta charset="windows-1252"></head><body><h1>Bedford Borough</h1>'
    page = f"{head}<ul>{link}{unreadable}{link}</ul>"
    httpserver.expect_request("/provider/44/80428").respond_with_data(
        page.encode("cp1252"), content_type="text/html"
    )
    provider = Provider("80428", "Bedford Borough", httpserver.url_for("/provider/44/80428"))
    with PoliteClient(httpserver.url_for("").rstrip("/"), FAST) as client:
        publications, _ = parse_provider_page(client.get_page(provider.url), provider)
    assert len(publications) == 1  # listed twice, and beside a link of another kind without a date
    assert publications[0].url == httpserver.url_for("/v1/file/50268244")
    assert publications[0].published == date(2025, 2, 4)


def _site_down_while(client: PoliteClient, site: FixtureSite, path: str, refusals: int | None) -> None:
    """Stop the site's server as the client is about to ask for `path`, so that request finds nothing
    listening, and start it again `refusals` requests later (None: never)."""
    asked = itertools.count()

    def before(request: httpx.Request) -> None:
        if request.url.path != path:
            return
        n = next(asked)
        if n == 0:
            site.site.stop()
        elif n == refusals:
            site.site.start()  # the same port

    client.http.event_hooks["request"].append(before)


def test_a_refused_connection_midway_is_retried_and_the_crawl_goes_on(own_site: FixtureSite) -> None:
    """A site that has answered and then refuses a connection (a restart, a load balancer's blip) is
    retried like a 5xx; only a site that refuses the very first request fails the run at once."""
    with PoliteClient(own_site.url, FAST) as client:
        _site_down_while(client, own_site, "/provider/44/80547", refusals=2)
        found = discover(client)
    assert found.providers == 5
    assert any(p.ofsted_urn == "80547" for p in found.publications)
    assert [f for f in found.failures if "80443" not in f] == []  # only the malformed page fails
    assert own_site.seen.count("/provider/44/80547") == 1  # two attempts refused, the third answered


def test_a_site_lost_for_good_midway_keeps_what_it_found_and_stops_asking(own_site: FixtureSite) -> None:
    with PoliteClient(own_site.url, FAST) as client:
        _site_down_while(client, own_site, "/provider/44/80428", refusals=None)
        found = discover(client)
        requests = client.requests
    assert found.providers == 5
    assert {p.ofsted_urn for p in found.publications} == {"80549", "80547"}  # read before it went
    [failure] = found.failures
    assert failure.startswith("provider 80428 (Bedford Borough Council): lost the connection to ")
    assert failure.endswith(
        "; the site stopped answering after 2 of 5 provider pages, so this one and the 2 after it were "
        "not read (the next run reads them)"
    )
    assert requests == 4 + 2 + FAST.attempts  # four search pages, two providers, Bedford's attempts


def test_a_file_host_lost_for_good_is_not_asked_for_the_rest(site: FixtureSite, tmp_path: Path) -> None:
    with PoliteClient(site.url, FAST) as client:
        found = discover(client)
        wanted = [p for p in found.publications if p.kind == "full_inspection"]
        site.files.stop()
        ready, failures = download_all(client, wanted, tmp_path)
        requests = client.requests
    assert ready == [] and len(failures) == 4
    assert "cannot connect to" in failures[0][1]
    host = urlsplit(site.files.url_for("/")).netloc
    assert [why for _, why in failures[1:]] == [f"not tried: {host} stopped answering"] * 3
    assert requests == 4 + 5 + FAST.attempts  # the crawl, then the first file's attempts alone
