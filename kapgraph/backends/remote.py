"""The remote engine: any SPARQL 1.1 Protocol endpoint (Oxigraph ``/query``, Virtuoso ``/sparql``, Fuseki...).

Queries go through SPARQLWrapper (POST, a time limit, HTTP basic auth, ``default-graph-uri`` for a named
graph); the answer is read by Oxigraph's own parsers (:func:`pyoxigraph.parse_query_results` for
SELECT/ASK, :func:`pyoxigraph.parse` for CONSTRUCT/DESCRIBE) into the same
:class:`~kapgraph.results.ResultTable` of pyoxigraph terms the local engines return. Parameters reach
the endpoint as a ``VALUES`` block of RDF terms (:mod:`kapgraph.binding`), like everywhere else.

The project's prefixes (``kap:``, ``study:``, ``dx:``...) are predeclared here too: a declaration is
added for each prefix the query uses without declaring it, since a server does not know them.
"""

from __future__ import annotations

import ast
import re
import urllib.error
import warnings
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox

from kapgraph.backends.base import refuse_update
from kapgraph.errors import EndpointUnreachable, EngineError, ParameterError, QuerySyntaxError, QueryTimeout
from kapgraph.loading import Source
from kapgraph.namespaces import PREFIXES
from kapgraph.results import ResultTable, from_oxigraph

DEFAULT_TIMEOUT = 60.0
_GRAPH_QUERY = re.compile(r"\b(CONSTRUCT|DESCRIBE)\b", re.I)
_RDF = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
        "text/plain": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML}  # fmt: skip
_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"


def redact(url: str) -> str:
    """*url* without a password in its user-info part (``http://u:***@host/``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def check_url(url: str, what: str = "SPARQL endpoint") -> str:
    """*url* if it is an absolute http(s) URL, else EndpointUnreachable naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in ' <>"{}|\\^`\t\n'):
        raise EndpointUnreachable(
            f"{what} URL {redact(url)!r} is not an http(s) URL (e.g. http://127.0.0.1:7878/query)"
        )
    return url


def with_prefixes(sparql: str) -> str:
    """Declare the project's prefixes that *sparql* uses but does not declare."""
    declared = {m.lower() for m in re.findall(r"(?im)^\s*PREFIX\s+([^\s:]*):", sparql)}
    used = [p for p in PREFIXES if p.lower() not in declared and re.search(rf"(?<![\w:<#/.-]){re.escape(p)}:", sparql)]
    if not used:
        return sparql
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used) + sparql


def server_message(body: bytes | str | None, limit: int = 3) -> str:
    """The first lines of a server's error body, trimmed."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    lines = [line.strip() for line in re.sub(r"<[^>]+>", " ", body or "").splitlines() if line.strip()]
    text = " / ".join(lines[:limit])
    return text[:400] + ("..." if len(text) > 400 else "")


def _body_of(exc: Exception) -> bytes | None:
    """The response body a SPARQLWrapper exception keeps only inside its message (``Response:\\nb'...'``)."""
    text = str(exc)
    if "Response:\n" not in text:
        return None
    try:
        body = ast.literal_eval(text.split("Response:\n", 1)[1])
    except (ValueError, SyntaxError):
        return None
    return body if isinstance(body, bytes) else None


class RemoteEngine:
    name = "remote"

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        user: str | None = None,
        password: str | None = None,
        graph: str | None = None,
    ):
        self.endpoint = check_url(endpoint)
        self.timeout = timeout
        self.user = user
        self._password = password
        self.graph = graph
        if graph is not None:
            check_graph(graph)
        #: a remote graph is not loaded from local files
        self.sources: list[Source] = []
        self._triples: int | None = None
        #: how many solutions (or triples) the endpoint has sent back, over all queries: the bind join's measure
        self.rows_received = 0
        self._lines = 0

    def __repr__(self) -> str:  # never shows the password
        return f"RemoteEngine({redact(self.endpoint)!r}, user={self.user!r}, graph={self.graph!r})"

    def _wrapper(self, sparql: str, graph_query: bool) -> Any:
        from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

        wrapper = SPARQLWrapper(self.endpoint)
        wrapper.setMethod(POST)
        if self.timeout:
            wrapper.timeout = self.timeout  # type: ignore[assignment]  # setTimeout() would round 0.5 s down to none
        if self.user is not None:
            wrapper.setCredentials(self.user, self._password or "")
        if self.graph is not None:
            wrapper.addDefaultGraph(self.graph)
        wrapper.setQuery(sparql)
        # SPARQLWrapper guesses the form with a regular expression that matches keywords anywhere (the word
        # "add" in a comment made it post a SELECT as an update, which the server refused); kapgraph has
        # refused updates already and knows whether the query returns a graph
        wrapper.queryType = "CONSTRUCT" if graph_query else "SELECT"
        wrapper.setReturnFormat(TURTLE if graph_query else JSON)
        if graph_query:  # Turtle or N-Triples, whichever the server prefers
            wrapper.addCustomHttpHeader("Accept", "text/turtle, application/n-triples;q=0.9, text/plain;q=0.5")
        else:
            wrapper.addCustomHttpHeader(
                "Accept", "application/sparql-results+json, application/sparql-results+xml;q=0.9"
            )
        return wrapper

    def _fetch(self, sparql: str, graph_query: bool) -> tuple[bytes, str]:
        """POST *sparql*; the response body and its media type, or a kapgraph error."""
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        where = redact(self.endpoint)
        try:
            with warnings.catch_warnings():  # SPARQLWrapper warns on query types it cannot detect
                warnings.simplefilter("ignore")
                response = self._wrapper(sparql, graph_query).query().response
            body = response.read()
            media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            return body, media
        except SPARQLWrapperException as exc:
            code = getattr(exc.__context__, "code", None)
            message = server_message(_body_of(exc))
            if code == 400:
                added = len(sparql) and sparql.count("\n") - self._lines
                message = re.sub(r"^error at (\d+):", lambda m: f"error at {int(m.group(1)) - added}:", message)
                raise QuerySyntaxError(f"{where} rejected the query (HTTP 400): {message}") from None
            if code == 401:
                raise EngineError(
                    f"{where} refused the credentials (HTTP 401){' of user ' + repr(self.user) if self.user else ''}"
                    f"; give --user and KAPGRAPH_PASSWORD{': ' + message if message else ''}"
                ) from None
            if code == 500 and re.search(r"time\s*out|timed out|timeout", message, re.I):
                raise QueryTimeout(f"{where} stopped the query at its time limit (HTTP 500): {message}") from None
            raise EngineError(f"{where} failed (HTTP {code or '?'}): {message or type(exc).__name__}") from None
        except urllib.error.HTTPError as exc:
            raise EngineError(f"{where} failed (HTTP {exc.code}): {server_message(exc.read()) or exc.reason}") from None
        except TimeoutError:
            raise QueryTimeout(self._late(where)) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise QueryTimeout(self._late(where)) from None
            raise EndpointUnreachable(f"cannot reach the SPARQL endpoint {where}: {exc.reason}") from None
        except (ConnectionError, OSError) as exc:  # reset or closed mid-answer
            raise EndpointUnreachable(f"cannot reach the SPARQL endpoint {where}: {exc}") from None
        except ValueError as exc:  # urllib: "unknown url type"
            raise EndpointUnreachable(f"bad SPARQL endpoint URL {where}: {exc}") from None

    def _late(self, where: str) -> str:
        return f"{where} did not answer within the time limit of {self.timeout:g} s (--timeout)"

    def query(self, sparql: str) -> ResultTable:
        refuse_update(sparql)
        text = with_prefixes(sparql)
        self._lines = sparql.count("\n")  # to report a server's syntax error at the line the user wrote
        graph_query = bool(_GRAPH_QUERY.search(re.sub(r"(?m)#.*$|<[^>\s]*>|\"[^\"\n]*\"", " ", text)))
        body, media = self._fetch(text, graph_query)
        where = redact(self.endpoint)
        try:
            if graph_query:
                rdf = _RDF.get(media)
                if rdf is None:
                    shown = media or "no media type"
                    raise EngineError(f"{where} answered with {shown}, not RDF: {server_message(body)}")
                triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=rdf)]
                self.rows_received += len(triples)
                return ResultTable(triples=triples)
            results = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                       "application/json": ox.QueryResultsFormat.JSON,
                       "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                       "application/xml": ox.QueryResultsFormat.XML}.get(media)  # fmt: skip
            if results is None:
                raise EngineError(
                    f"{where} answered with {media or 'no media type'}, not SPARQL results: {server_message(body)}"
                )
            table = from_oxigraph(ox.parse_query_results(body, format=results))
        except SyntaxError as exc:
            raise EngineError(f"{where} sent a response that is not valid SPARQL results: {exc}") from None
        self.rows_received += len(table.rows)
        return table

    def inferred_count(self) -> int:
        """0: an endpoint's graph is not split into asserted and inferred triples (``push`` uploads both
        into one graph), so :meth:`triple_count` counts them all."""
        return 0

    def triple_count(self) -> int:
        if self._triples is None:
            (count,) = self.query(_COUNT).rows[0]
            self._triples = int(count.value) if isinstance(count, ox.Literal) else 0
        return self._triples


def check_graph(graph: str) -> str:
    """*graph* if it is an absolute IRI, else ParameterError naming it (exit 2)."""
    scheme = graph.partition(":")[0]
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) or any(c in graph for c in ' <>"{}|\\^`\t\n'):
        raise ParameterError(f"--graph {graph!r} is not an absolute IRI (e.g. https://w3id.org/kap/graph)")
    return graph
