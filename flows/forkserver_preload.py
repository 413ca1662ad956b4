"""Imported only by multiprocessing's fork server (see flows/analyse.py), never elsewhere.

The modules every worker needs (spaCy, pypdfium2, the extractors) are imported and spaCy's pipeline is
built once here, before any worker is forked, so the workers share them instead of each building its own;
and the fork server dies with the ingest that started it.
"""

from sendcorpus.extract.nlp import build_nlp
from sendcorpus.flows import records  # noqa: F401
from sendcorpus.flows.analyse import die_with_parent

die_with_parent()
build_nlp()
