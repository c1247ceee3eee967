"""Keeping third-party libraries' own logging off the user's terminal.

rdflib logs a warning *with a traceback* for each ill-typed literal it converts (``"abc"^^xsd:integer``)
during ``validate``; the finding is already in the validation report. Without a handler, Python's
last-resort handler prints such records to stderr; a NullHandler on the libraries' loggers (not
propagated) keeps them quiet. ``KAPGRAPH_DEBUG=1`` leaves them alone.
"""

from __future__ import annotations

import logging
import os

LIBRARIES = ("rdflib", "pyshacl", "owlready2", "owlrl", "SPARQLWrapper", "urllib3", "matplotlib")


def quiet_libraries() -> None:
    if os.environ.get("KAPGRAPH_DEBUG"):
        return
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
