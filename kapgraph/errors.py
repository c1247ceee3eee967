"""The one error hierarchy of kapgraph.

Library code raises these; only :mod:`kapgraph.cli` turns them into messages and exit codes.
Every message says what was wrong, where, and what to do.
"""

from __future__ import annotations


class KapgraphError(Exception):
    """Base class of every error kapgraph raises on purpose."""


class LoadError(KapgraphError):
    """An input file or folder could not be read or parsed (the message names file:line:column)."""


class StoreError(KapgraphError):
    """The on-disk store could not be created, locked, built or opened."""


class CatalogError(KapgraphError):
    """A stored query is missing or its ``#+`` header is malformed."""


class UnknownQueryError(CatalogError):
    """No stored query has the requested name."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown query {name!r}.{hint} Run 'kapgraph list' to see all stored queries.")


class ParameterError(KapgraphError):
    """A query parameter is unknown, missing, or has a value that is not allowed."""


class QuerySyntaxError(KapgraphError):
    """A SPARQL query does not parse (the message gives the line and column)."""


class EngineError(KapgraphError):
    """The query engine or endpoint failed to answer."""


class EndpointUnreachable(KapgraphError):
    """A SPARQL endpoint URL is malformed, its host unknown, or the connection refused (exit 2)."""


class QueryTimeout(EngineError):
    """A query or network call ran past its time limit (exit 3); the message names the limit."""


class ValidationFailed(KapgraphError):
    """Raised by callers that want validation violations as an exception (the CLI uses the report)."""


class UnknownResourceError(KapgraphError):
    """An IRI or CURIE cannot be expanded, or names nothing in the graph (exit 2)."""
