"""Measure a discovery crawl against a generated site of the real site's shape on 127.0.0.1.

Run: .venv/bin/python scripts/measure_crawl.py [--providers 156] [--delay 0]
Prints the requests made, the wall time, and what the same crawl (plus first-run downloads) would take
on the real site at the default 1 s delay between requests.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

from pytest_httpserver import HTTPServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sendcorpus.flows.discover import discover
from sendcorpus.flows.http import PoliteClient, Politeness

from fixture_site import CHILDRENS_SERVICES, FULL, OLD_LETTER, FixtureSite, Listing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=156)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    site_server, file_server = HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0)
    site_server.start()
    file_server.start()
    try:
        site = FixtureSite(site_server, file_server, page_size=100)  # the real site's largest page
        for number in range(args.providers):
            urn = str(80400 + number)
            site.add(
                urn,
                f"Council {number}",
                Listing(FULL, date(2024, 1, 1 + number % 28), f"5{urn}1", "rutland.pdf"),
                Listing(OLD_LETTER, date(2018, 3, 1 + number % 28), f"5{urn}2"),
                Listing(CHILDRENS_SERVICES, date(2022, 5, 1 + number % 28), f"5{urn}3"),
            )
        started = time.perf_counter()
        with PoliteClient(site.url, Politeness(delay=args.delay)) as client:
            found = discover(client)
        seconds = time.perf_counter() - started
    finally:
        site_server.stop()
        file_server.stop()
    full = sum(p.kind == "full_inspection" for p in found.publications)
    print(f"providers {found.providers}, area SEND publications {len(found.publications)} ({full} full)")
    print(f"discovery: {found.requests} requests in {seconds:.2f} s at --delay {args.delay:g}")
    crawl = found.requests + seconds  # each request waits its turn of the 1 s delay
    print(f"at the default 1 s delay: discovery ≈ {crawl:.0f} s; a first run that also downloads the {full}")
    print(
        f"  full reports ≈ {crawl + full:.0f} s plus transfer; a later run ≈ {crawl:.0f} s + 1 s a new report"
    )


if __name__ == "__main__":
    main()
