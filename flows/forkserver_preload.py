"""Imported only by multiprocessing's fork server (see flows/analyse.py), never elsewhere.

The modules every worker needs (spaCy, pypdfium2, the extractors) are imported once here and shared
by the forked workers; and the fork server dies with the ingest that started it.
"""

from sendcorpus.flows import records  # noqa: F401
from sendcorpus.flows.analyse import die_with_parent

die_with_parent()
