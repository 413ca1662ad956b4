"""Imported only by multiprocessing's fork server (see flows/analyse.py), never elsewhere.

The fork server first leaves Ctrl-C to the ingest and ties itself to the ingest that started it (it dies
with it, even mid-import). Then the modules every worker needs (spaCy, pypdfium2, the extractors) are
imported and spaCy's pipeline is built once here, before any worker is forked, so the workers share them
instead of each building its own.
"""

import os
import signal

# Ctrl-C reaches every process of the terminal's foreground group: the ingest that started the workers
# stops them, so they ignore it rather than each print a KeyboardInterrupt traceback (the fork server keeps
# the handler it finds after this import for the workers it forks)
signal.signal(signal.SIGINT, signal.SIG_IGN)

from sendcorpus.flows.parent_death import PARENT_VARIABLE, die_with_parent  # noqa: E402

die_with_parent(int(os.environ[PARENT_VARIABLE]) if PARENT_VARIABLE in os.environ else None)

from sendcorpus.extract.nlp import build_nlp  # noqa: E402
from sendcorpus.flows import records  # noqa: E402, F401

build_nlp()
