"""``kapgraph push``: publish the whole graph (ontology + data) into a named graph of a triple store.

Graph Store HTTP Protocol for the upload, SPARQL 1.1 Update for the switch, a SPARQL query to check:

1. the triples go in N-Triples chunks into a fresh staging graph (``PUT`` then ``POST`` to
   ``STORE?graph=STAGING``); a chunk never splits the triples that share a blank node, since each
   request is a document of its own;
2. ``MOVE <STAGING> TO <GRAPH>`` through the update endpoint replaces the target in one operation;
3. ``COUNT`` of the target through the query endpoint must equal the local triple count.

If a step fails the staging graph is dropped and the error says what the target holds now. The
update and query endpoints are derived from an Oxigraph ``.../store`` URL (``.../update``, ``.../query``)
or a Virtuoso ``.../sparql-graph-crud-auth`` one (``.../sparql-auth``, ``.../sparql``) unless given.
Passwords go in an ``Authorization`` header, Basic or Digest as the server asks, and are never printed.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from kapgraph.backends.remote import RemoteEngine, check_graph, check_url, redact, server_message
from kapgraph.errors import EndpointUnreachable, EngineError, KapgraphError, QueryTimeout

CHUNK = 50_000


class Pushed(NamedTuple):
    graph: str
    triples: int
    chunks: int


#: Virtuoso's Graph Store endpoints and their siblings: (update endpoint, query endpoint)
VIRTUOSO = {"sparql-graph-crud-auth": ("sparql-auth", "sparql"), "sparql-graph-crud": ("sparql", "sparql")}


def derived(store_url: str, last: str) -> str:
    """The sibling endpoint of a Graph Store URL: Oxigraph's ``.../store`` gives ``.../update`` and
    ``.../query``; Virtuoso's ``.../sparql-graph-crud-auth`` gives ``.../sparql-auth`` (updates need the
    authenticated endpoint) and ``.../sparql``, its ``.../sparql-graph-crud`` gives ``.../sparql``."""
    head, _, tail = store_url.rstrip("/").rpartition("/")
    if head and tail in VIRTUOSO:
        update, query = VIRTUOSO[tail]
        return f"{head}/{update if last == 'update' else query}"
    if tail != "store" or not head:
        raise EndpointUnreachable(
            f"cannot derive the {last} endpoint from {redact(store_url)!r} (not .../store or Virtuoso's "
            f".../sparql-graph-crud-auth); give --{last}-endpoint"
        )
    return f"{head}/{last}"


def chunks(triples: list[ox.Triple], size: int = CHUNK) -> Iterator[list[ox.Triple]]:
    """*triples* in chunks of about *size*, the triples linked through blank nodes kept together."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for t in triples:
        if isinstance(t.subject, ox.BlankNode) and isinstance(t.object, ox.BlankNode):
            parent[root(t.subject)] = root(t.object)
    groups: dict[object, list[ox.Triple]] = {}
    plain: list[ox.Triple] = []
    for t in triples:
        node = t.subject if isinstance(t.subject, ox.BlankNode) else t.object
        if isinstance(node, ox.BlankNode):
            groups.setdefault(root(node), []).append(t)
        else:
            plain.append(t)
    batch: list[ox.Triple] = []
    for group in [*groups.values(), *([t] for t in plain)]:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


class _Client:
    """HTTP requests with the credentials given, in the scheme the server asks for: Basic (Fuseki, Oxigraph
    behind a proxy) or Digest (Virtuoso's ``-auth`` endpoints). Nothing is sent before the server asks: each
    request is preceded by the same request without a body, whose ``401`` challenge gives the scheme (and
    the digest nonce); the request itself then goes once, with its ``Authorization``. (Answering the
    challenge of the full request instead fails on Virtuoso: it answers ``401`` and closes the connection
    before reading a large body, a broken pipe.)"""

    def __init__(self, user: str | None, password: str | None, timeout: float, urls: Sequence[str] = ()):
        self.timeout = timeout
        self.user = user
        self.passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        for url in urls:  # the credentials go to these servers only
            parts = urllib.parse.urlsplit(url)
            self.passwords.add_password(None, f"{parts.scheme}://{parts.netloc}/", user or "", password or "")
        self._digest = urllib.request.HTTPDigestAuthHandler(self.passwords)

    def _authorization(self, method: str, url: str, media: str | None) -> str | None:
        """The ``Authorization`` header the server's challenge asks for, or None if it asks for none."""
        if self.user is None:
            return None
        probe = urllib.request.Request(url, data=b"", method=method, headers={"Content-Type": media} if media else {})
        try:
            with urllib.request.urlopen(probe, timeout=self.timeout) as response:
                response.read()
            return None
        except urllib.error.HTTPError as exc:
            exc.read()
            challenges = (exc.headers.get_all("WWW-Authenticate") or []) if exc.code == 401 else []
        for challenge in challenges:
            scheme, _, rest = challenge.partition(" ")
            if scheme.lower() == "digest":
                fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
                answer = self._digest.get_authorization(urllib.request.Request(url, method=method), fields)
                if answer:
                    return f"Digest {answer}"
            if scheme.lower() == "basic":
                user, password = self.passwords.find_user_password(None, url)
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                return f"Basic {token}"
        return None

    def send(self, method: str, url: str, body: bytes | None, media: str | None) -> None:
        headers = {"Content-Type": media} if media else {}
        where = redact(url.split("?")[0])
        try:
            authorization = self._authorization(method, url, media)
            if authorization:
                headers["Authorization"] = authorization
            request = urllib.request.Request(url, data=body, method=method, headers=headers)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            message = server_message(exc.read()) or exc.reason
            raise EngineError(f"{method} {where} failed (HTTP {exc.code}): {message}") from None
        except TimeoutError:
            raise QueryTimeout(f"{method} {where} did not answer within {self.timeout:g} s (--timeout)") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise QueryTimeout(f"{method} {where} did not answer within {self.timeout:g} s (--timeout)") from None
            self._refused(method, url, media, where)
            raise EndpointUnreachable(f"cannot reach {where}: {exc.reason}") from None
        except OSError as exc:
            self._refused(method, url, media, where)
            raise EndpointUnreachable(f"cannot reach {where}: {exc}") from None

    def _refused(self, method: str, url: str, media: str | None, where: str) -> None:
        """After a connection broke mid-upload: raise the server's 401 if it was refusing the credentials.

        Virtuoso answers a refused ``Authorization`` with ``401`` and closes the connection before it has
        read a large body, so the client sees a broken pipe; the same request without a body, with fresh
        credentials, gets the ``401`` itself."""
        if self.user is None:
            return
        try:
            authorization = self._authorization(method, url, media)
            headers = {"Content-Type": media} if media else {}
            if authorization:
                headers["Authorization"] = authorization
            probe = urllib.request.Request(url, data=b"", method=method, headers=headers)
            with urllib.request.urlopen(probe, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                message = server_message(exc.read()) or exc.reason
                raise EngineError(f"{method} {where} failed (HTTP 401): {message}") from None
        except OSError:
            pass  # the server is gone as well: the broken connection is the error to report


def push(
    data: Sequence[Path | str] | None,
    *,
    endpoint: str,
    graph: str,
    update_endpoint: str | None = None,
    query_endpoint: str | None = None,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 60.0,
    chunk: int = CHUNK,
    store: Path | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Pushed:
    """Replace *graph* at the Graph Store endpoint *endpoint* with the local graph, and verify it."""
    from kapgraph.backends.oxigraph import open_oxigraph

    check_url(endpoint, "Graph Store")
    check_graph(graph)
    update = check_url(update_endpoint or derived(endpoint, "update"), "update endpoint")
    query = check_url(query_endpoint or derived(endpoint, "query"), "query endpoint")
    local = open_oxigraph(data, store=store)
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in local.store}, key=str)
    client = _Client(user, password, timeout, [endpoint, update])
    remote = RemoteEngine(query, timeout=timeout, user=user, password=password)
    staging = f"urn:kapgraph:staging:{secrets.token_hex(8)}"
    target = ox.NamedNode(graph)

    def on_server() -> str:
        try:
            (n,) = remote.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {target} {{ ?s ?p ?o }} }}").rows[0]
            return f"{graph} on the server holds {int(n.value) if isinstance(n, ox.Literal) else 0:,} triples"
        except KapgraphError as exc:
            return f"what {graph} holds on the server could not be checked ({exc})"

    sent = count = 0
    try:
        for count, batch in enumerate(chunks(triples, chunk), start=1):
            body = ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES)
            url = f"{endpoint}?{urllib.parse.urlencode({'graph': staging})}"
            client.send("PUT" if count == 1 else "POST", url, body, "application/n-triples")
            sent += len(batch)
            if progress:
                progress(sent, len(triples))
        move = f"MOVE SILENT GRAPH <{staging}> TO GRAPH {target}"
        client.send("POST", update, urllib.parse.urlencode({"update": move}).encode(),
                    "application/x-www-form-urlencoded")  # fmt: skip
    except KapgraphError as exc:
        _drop(client, update, staging)
        raise type(exc)(f"{exc}; nothing was moved into place: {on_server()}") from None
    (n,) = remote.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {target} {{ ?s ?p ?o }} }}").rows[0]
    there = int(n.value) if isinstance(n, ox.Literal) else -1
    if there != len(triples):
        raise EngineError(f"pushed {len(triples):,} triples but {graph} on the server holds {there:,}")
    return Pushed(graph, there, count)


def _drop(client: _Client, update: str, staging: str) -> None:
    body = urllib.parse.urlencode({"update": f"DROP SILENT GRAPH <{staging}>"}).encode()
    with contextlib.suppress(KapgraphError):  # best effort: a random name, nothing of the target in it
        client.send("POST", update, body, "application/x-www-form-urlencoded")
