"""The library functions behind each CLI command. They return data and raise KapgraphError."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import kapgraph
from kapgraph.backends import Engine, open_engine
from kapgraph.binding import bind, inject_services, inject_values
from kapgraph.catalog import Catalog, StoredQuery
from kapgraph.errors import QuerySyntaxError
from kapgraph.results import ResultTable, Term, to_python

DataPaths = Sequence[Path | str] | None
StorePath = Path | str | None


def engine_for(engine: str | Engine, data: DataPaths = None, store: StorePath = None) -> Engine:
    """*engine* itself if it is one, else the named engine loaded with *data*."""
    return open_engine(engine, data, store=store) if isinstance(engine, str) else engine


def run_query(
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    engine: str | Engine = "oxigraph",
    data: DataPaths = None,
    store: StorePath = None,
    catalog: Catalog | None = None,
) -> ResultTable:
    """Run the stored query *name* with *params* (strings, as on the command line)."""
    query = (catalog or Catalog()).get(name)
    runner = engine_for(engine, data, store)
    bindings = bind(runner, query, params or {})
    endpoints = {p.name for p in query.params if p.type == "endpoint"}
    values = {k: v for k, v in bindings.items() if k not in endpoints}
    if query.federation is not None:
        return _bind_join(runner, query, bindings, values)
    text = inject_services(query.text, {k: v for k, v in bindings.items() if k in endpoints})
    try:
        return runner.query(inject_values(text, values))
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(stored_query_error(query.path, text, bool(values), str(exc))) from None


def _bind_join(
    runner: Engine, query: StoredQuery, bindings: Mapping[str, Term], values: Mapping[str, Term]
) -> ResultTable:
    """A federated query evaluated by :func:`kapgraph.federation.bind_join`: the local part on *runner*,
    each SERVICE pattern on its endpoint through the remote engine, the join on *runner*.

    Each request to an endpoint has the time limit of the block (``--timeout``), at most
    ``$KAPGRAPH_SERVICE_TIMEOUT`` seconds (default 60)."""
    from kapgraph.backends.remote import RemoteEngine
    from kapgraph.federation import bind_join
    from kapgraph.interrupt import current_limit, service_timeout

    assert query.federation is not None
    limit = current_limit()
    service = service_timeout()
    timeout = service if limit is None else min(limit, service)

    def run(sparql: str) -> ResultTable:
        try:
            return runner.query(sparql)
        except QuerySyntaxError as exc:
            raise QuerySyntaxError(f"{query.path}: {exc}") from None

    text = bind_join(
        run,
        inject_values(query.text, values),
        query.federation,
        bindings,
        lambda url: RemoteEngine(url, timeout=timeout),
    )
    return run(text)


def stored_query_error(path: Path, text: str, bound: bool, message: str) -> str:
    """A syntax error in a stored query, named by its .rq file and the line in that file.

    The engine saw the text after parameter binding, which inserts a two-line VALUES block after
    the first '{': lines after it are mapped back.
    """
    import re

    from kapgraph.binding import _outer_brace

    match = re.match(r"SPARQL syntax error at line (\d+), column (\d+): (.*)", message, re.S)
    if not match:
        return f"{path}: {message}"
    line, column, rest = int(match.group(1)), match.group(2), match.group(3)
    if bound:
        brace_line = text.count("\n", 0, _outer_brace(text)) + 1
        if line > brace_line + 1:
            line -= 2
        elif line > brace_line:
            line, column = brace_line, "1"
    return f"{path}:{line}:{column}: SPARQL syntax error: {rest}"


def run_sparql(
    text: str, *, engine: str | Engine = "oxigraph", data: DataPaths = None, store: StorePath = None
) -> ResultTable:
    """Run an ad-hoc query; the project's prefixes are predeclared."""
    return engine_for(engine, data, store).query(text)


def list_queries(catalog: Catalog | None = None) -> list[StoredQuery]:
    return (catalog or Catalog()).all()


class Info(NamedTuple):
    version: str
    engine: str
    files: int
    triples: int
    #: triples of the inferred graph (kapgraph.materialise), 0 with --asserted-only
    inferred_triples: int
    studies: int
    evidence: int
    inferred: int
    participants: int


_COUNTS = """
PREFIX kap: <https://w3id.org/kap/ontology#>
SELECT
  (COUNT(DISTINCT ?study) AS ?studies)
  (SUM(COALESCE(?n, 0)) AS ?participants)
WHERE { ?study a kap:Study . OPTIONAL { ?study kap:enrolledSize ?n } }"""

_EVIDENCE = """
PREFIX kap: <https://w3id.org/kap/ontology#>
SELECT (COUNT(DISTINCT ?ev) AS ?evidence) (COUNT(DISTINCT ?inf) AS ?inferred) WHERE {
  ?ev a kap:Evidence .
  OPTIONAL { ?ev kap:inferred true . BIND(?ev AS ?inf) }
}"""


def info(*, engine: str | Engine = "oxigraph", data: DataPaths = None, store: StorePath = None) -> Info:
    runner = engine_for(engine, data, store)
    studies, participants = runner.query(_COUNTS).rows[0]
    evidence, inferred = runner.query(_EVIDENCE).rows[0]

    def number(term: object) -> int:
        return int(to_python(term) or 0)  # type: ignore[arg-type, call-overload]

    return Info(
        version=kapgraph.__version__,
        engine=runner.name,
        files=len(runner.sources),
        triples=runner.triple_count(),
        inferred_triples=runner.inferred_count(),
        studies=number(studies),
        evidence=number(evidence),
        inferred=number(inferred),
        participants=number(participants),
    )
