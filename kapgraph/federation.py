"""Federated stored queries, evaluated with a bind join.

A stored query that calls another endpoint with ``SERVICE`` may declare in its header which variable
joins the local part to the remote one::

    #+ federation: {join: descriptor, batch: 50}

Such a query is then not handed to the engine's own ``SERVICE`` (Oxigraph sends the ``SERVICE``
pattern without the local bindings, so a public endpoint would answer it for all its data). Instead:

1. the local part is evaluated first: the query itself with every ``SERVICE`` clause replaced by an
   empty group ``{}``, asked for the distinct values of the join variable (``?descriptor``);
2. each ``SERVICE`` pattern is sent to its endpoint through the remote engine
   (:class:`kapgraph.backends.remote.RemoteEngine`: SPARQLWrapper, POST, a time limit), once per batch
   of at most ``batch`` local values, as ``SELECT * WHERE { VALUES ?join { ... } PATTERN }``, so the
   endpoint answers only for this graph's concepts;
3. the solutions that come back replace the ``SERVICE`` clause as an inline ``VALUES`` block (unbound
   cells ``UNDEF``), and the engine evaluates that query locally. In SPARQL's algebra a ``SERVICE``
   clause is joined with its group like an inline data block, so the answer is the one the engine's
   own ``SERVICE`` would give, in the same result formats as any other query.

What the declaration promises (a query's own tests check the answer against one computed with
everything local): the join variable is projected by the query and bound in every local solution that
reaches a ``SERVICE`` clause, and each ``SERVICE`` pattern uses it. ``SERVICE SILENT`` keeps its
meaning: an endpoint that fails contributes one empty solution. The query file stays an ordinary
SPARQL 1.1 query that any engine with ``SERVICE`` can run as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import pyoxigraph as ox

from kapgraph.catalog import Federation
from kapgraph.errors import EngineError, KapgraphError, ParameterError, QuerySyntaxError
from kapgraph.querytext import IRIREF, code_indexes, code_only
from kapgraph.results import ResultTable, Term

_WORD = re.compile(r"[A-Za-z_]\w*")
_SERVICE_HEAD = re.compile(rf"SERVICE\b\s*(SILENT\b\s*)?([?$][A-Za-z_]\w*|{IRIREF.pattern})\s*\{{", re.I)
_QUERY_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)


class Service(NamedTuple):
    """One ``SERVICE`` clause of a query: where it stands, whom it calls, what it asks."""

    start: int
    end: int
    silent: bool
    #: ``?name`` (an endpoint parameter) or ``<iri>``
    target: str
    #: the group pattern between the braces
    pattern: str


def _closing(text: str, opening: int) -> int:
    """The index of the ``}`` that closes the ``{`` at *opening*."""
    depth = 0
    for i in code_indexes(text, opening):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise QuerySyntaxError("a SERVICE clause has no closing '}'")


def services(text: str) -> list[Service]:
    """The outermost ``SERVICE`` clauses of *text* (one inside another is part of its pattern)."""
    found: list[Service] = []
    after = 0
    for i in code_indexes(text):
        if i < after or text[i] not in "sS" or (i and (text[i - 1].isalnum() or text[i - 1] in "_?$:")):
            continue
        head = _SERVICE_HEAD.match(text, i)
        if not head:
            continue
        opening = head.end() - 1
        closing = _closing(text, opening)
        found.append(Service(i, closing + 1, bool(head.group(1)), head.group(2), text[opening + 1 : closing]))
        after = closing + 1
    return found


def split_prologue(text: str) -> tuple[str, str]:
    """(the PREFIX and BASE declarations, the query from its SELECT/ASK/CONSTRUCT/DESCRIBE on)."""
    for i in code_indexes(text):
        if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_?$:")) and _QUERY_FORM.match(text, i):
            return text[:i], text[i:]
    raise QuerySyntaxError("the query has no SELECT, ASK, CONSTRUCT or DESCRIBE")


def uses(pattern: str, variable: str) -> bool:
    """Whether ``?variable`` (or ``$variable``) occurs in *pattern* outside comments, strings and IRIs."""
    return re.search(rf"[?$]{re.escape(variable)}(?!\w)", code_only(pattern)) is not None


def check(text: str, federation: Federation) -> str | None:
    """What is wrong with the declaration for the query *text*, or None."""
    found = services(text)
    if not found:
        return "'federation' is declared but the query has no SERVICE clause"
    for service in found:
        if not uses(service.pattern, federation.join):
            return f"the SERVICE {service.target} pattern does not use the join variable ?{federation.join}"
    _, query = split_prologue(text)
    if query[:6].upper() != "SELECT":
        return "a bind join needs a SELECT query"
    head = query[: query.upper().find("WHERE")] if "WHERE" in query.upper() else query
    if not re.match(r"SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?\*", head, re.I) and not uses(head, federation.join):
        return f"the join variable ?{federation.join} is not projected by the query"
    return None


def _term(term: Term | None) -> str:
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.BlankNode | ox.Triple):
        raise EngineError(
            f"the endpoint answered with {'a blank node' if isinstance(term, ox.BlankNode) else 'a triple term'} "
            f"({term}), which cannot be joined with the local graph"
        )
    return str(term)  # N-Triples syntax is SPARQL syntax


def inline(table: ResultTable) -> str:
    """The solutions of *table* as an inline ``VALUES`` block."""
    names = " ".join(f"?{v}" for v in table.vars)
    rows = " ".join("(" + " ".join(_term(t) for t in row) + ")" for row in table.rows)
    return f"VALUES ({names}) {{ {rows} }}"


def remote_query(prologue: str, join: str, values: list[Term], pattern: str) -> str:
    """The request for one batch: the SERVICE pattern restricted to *values* of ``?join``."""
    terms = " ".join(_term(v) for v in values)
    return f"{prologue}SELECT * WHERE {{\n  VALUES ?{join} {{ {terms} }}\n{pattern}\n}}\n"


def _endpoint(service: Service, endpoints: Mapping[str, Term]) -> str:
    if service.target.startswith("<"):
        return service.target[1:-1]
    name = service.target[1:]
    iri = endpoints.get(name)
    if not isinstance(iri, ox.NamedNode):
        raise ParameterError(f"SERVICE {service.target} names no endpoint: give --param {name}=URL")
    return iri.value


def bind_join(
    run: Callable[[str], ResultTable],
    text: str,
    federation: Federation,
    endpoints: Mapping[str, Term],
    connect: Callable[[str], object],
) -> str:
    """*text* with each ``SERVICE`` clause replaced by the solutions its endpoint gives for the local values.

    *run* evaluates a query on the local engine; *connect* opens the remote engine of an endpoint URL
    (anything with a ``query(sparql) -> ResultTable`` method).
    """
    found = services(text)
    prologue, _ = split_prologue(text)
    join = federation.join
    local = text
    for service in reversed(found):
        local = local[: service.start] + "{}" + local[service.end :]
    local_prologue, local_query = split_prologue(local)
    distinct = run(f"{local_prologue}SELECT DISTINCT ?{join} WHERE {{\n{{\n{local_query}\n}}\n}}")
    values = sorted({t for t in distinct.column(join) if t is not None}, key=str)
    values = [v for v in values if not isinstance(v, ox.BlankNode | ox.Triple)]
    engines: dict[str, object] = {}
    rewritten = text
    for service in reversed(found):
        url = _endpoint(service, endpoints)
        remote = engines.setdefault(url, connect(url))
        solutions = ResultTable(vars=[join], rows=[])
        try:
            for start in range(0, len(values), federation.batch):
                batch = values[start : start + federation.batch]
                answer = remote.query(remote_query(prologue, join, batch, service.pattern))  # type: ignore[attr-defined]
                solutions = _union(solutions, answer)
            block = inline(solutions)
        except KapgraphError:
            if not service.silent:
                raise
            block = "{}"  # SERVICE SILENT: a failed call is one empty solution
        rewritten = rewritten[: service.start] + block + rewritten[service.end :]
    return rewritten


def _union(left: ResultTable, right: ResultTable) -> ResultTable:
    """The solutions of both tables, over the variables of both (a variable one lacks is unbound there)."""
    names = left.vars + [v for v in right.vars if v not in left.vars]

    def widen(table: ResultTable) -> list[tuple[Term | None, ...]]:
        index = {v: i for i, v in enumerate(table.vars)}
        return [tuple(row[index[v]] if v in index else None for v in names) for row in table.rows]

    return ResultTable(vars=names, rows=widen(left) + widen(right))
