"""Keeping third-party libraries' own logging off the user's terminal.

rdflib logs a warning *with a traceback* for each ill-typed literal it converts (``"abc"^^xsd:integer``)
during ``validate``; the finding is already in the validation report. Without a handler, Python's
last-resort handler prints such records to stderr; a NullHandler on the libraries' loggers (not
propagated) keeps them quiet. ``KAPGRAPH_DEBUG=1`` leaves them alone.

The loggers are set when the first of the libraries is imported (or at once if one already is): a
query on the embedded engine imports none of them, and importing :mod:`logging` for nothing would
cost it 3 ms of a cold start.
"""

from __future__ import annotations

import os
import sys
from typing import Any

LIBRARIES = ("rdflib", "pyshacl", "owlready2", "owlrl", "SPARQLWrapper", "urllib3", "matplotlib")


def quiet_libraries() -> None:
    """Quiet the libraries' loggers now if one of them is imported already, else when the first one is."""
    if os.environ.get("KAPGRAPH_DEBUG"):
        return
    if any(name in sys.modules for name in LIBRARIES):
        _quiet()
    elif not any(isinstance(finder, _QuietOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietOnImport())


def _quiet() -> None:
    import logging

    for name in LIBRARIES:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


class _QuietOnImport:
    """An import hook that finds nothing: it quiets the loggers when one of LIBRARIES is first imported.

    It stays in ``sys.meta_path`` once it has (the import system is going through that list when it
    is called), doing nothing."""

    def __init__(self) -> None:
        self.done = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if not self.done and name in LIBRARIES:
            self.done = True
            _quiet()
        return None  # the import goes on with the other finders
