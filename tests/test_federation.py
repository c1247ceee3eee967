"""The bind join of kapgraph.federation, without a server: finding SERVICE clauses, the header's
declaration, the requests it builds, the inline data it puts back, SERVICE SILENT and failures.

The queries against a real (local) server are in tests/test_federated.py."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kapgraph.catalog import Catalog, Federation
from kapgraph.errors import CatalogError, EndpointUnreachable, EngineError
from kapgraph.federation import bind_join, inline, services, split_prologue
from kapgraph.results import ResultTable

QUERY = """PREFIX ex: <http://example.org/>
# SERVICE ?endpoint { in a comment }
SELECT ?thing ?label ?n WHERE {
  ?thing ex:kind "SERVICE ?endpoint { in a string }" .
  OPTIONAL { SERVICE ?endpoint { ?thing ex:label ?label . FILTER(?label != "}") } }
  SERVICE SILENT <http://127.0.0.1:9/other> { ?thing ex:size ?n }
}
"""


def test_service_clauses_are_found_outside_comments_strings_and_iris() -> None:
    found = services(QUERY)
    assert [(s.target, s.silent) for s in found] == [("?endpoint", False), ("<http://127.0.0.1:9/other>", True)]
    assert found[0].pattern.strip() == '?thing ex:label ?label . FILTER(?label != "}")'
    assert QUERY[found[1].start : found[1].end] == "SERVICE SILENT <http://127.0.0.1:9/other> { ?thing ex:size ?n }"


def test_the_prologue_is_split_from_the_query() -> None:
    prologue, query = split_prologue(QUERY)
    assert prologue.startswith("PREFIX ex:") and "# SERVICE" in prologue
    assert query.startswith("SELECT ?thing")


def test_inline_data_writes_unbound_cells_as_undef() -> None:
    table = ResultTable(
        vars=["a", "b"], rows=[(ox.NamedNode("http://x/1"), None), (None, ox.Literal("y", language="en"))]
    )
    assert inline(table) == 'VALUES (?a ?b) { (<http://x/1> UNDEF) (UNDEF "y"@en) }'


class Recorder:
    """A stand-in endpoint: records each request and answers with the rows of a fixed table whose first
    value the request names, or fails."""

    def __init__(self, answer: ResultTable | Exception):
        self.answer = answer
        self.requests: list[str] = []

    def query(self, sparql: str) -> ResultTable:
        self.requests.append(sparql)
        if isinstance(self.answer, Exception):
            raise self.answer
        rows = [row for row in self.answer.rows if str(row[0]) in sparql]
        return ResultTable(vars=self.answer.vars, rows=rows)


def local_things(n: int):
    rows = [(ox.NamedNode(f"http://example.org/t{i}"),) for i in range(n)]

    def run(sparql: str) -> ResultTable:
        assert services(sparql) == []
        assert "SELECT DISTINCT ?thing" in sparql
        return ResultTable(vars=["thing"], rows=rows)

    return run


def test_each_service_gets_the_local_values_in_batches_and_its_answer_inline() -> None:
    labels = ResultTable(vars=["thing", "label"], rows=[(ox.NamedNode("http://example.org/t1"), ox.Literal("one"))])
    sizes = ResultTable(vars=["thing", "n"], rows=[])
    endpoints = {"http://127.0.0.1:8/sparql": Recorder(labels), "http://127.0.0.1:9/other": Recorder(sizes)}
    text = bind_join(local_things(5), QUERY, Federation("thing", 2),
                     {"endpoint": ox.NamedNode("http://127.0.0.1:8/sparql")}, endpoints.__getitem__)  # fmt: skip
    first, second = endpoints.values()
    assert len(first.requests) == len(second.requests) == 3  # 5 values, 2 a request
    for request in first.requests:
        assert request.startswith("PREFIX ex: <http://example.org/>")
        assert "VALUES ?thing {" in request and "?thing ex:label ?label" in request
    assert "<http://example.org/t4>" in first.requests[2] and "<http://example.org/t0>" not in first.requests[2]
    # the answers replace the SERVICE clauses; the comment and the string keep their text
    assert 'OPTIONAL { VALUES (?thing ?label) { (<http://example.org/t1> "one") } }' in text
    assert "VALUES (?thing ?n) {  }" in text
    assert '"SERVICE ?endpoint { in a string }"' in text and "# SERVICE ?endpoint { in a comment }" in text
    ox.Store().query(text)  # valid SPARQL


def test_the_rewritten_query_answers_like_service_would() -> None:
    store = ox.Store()
    ex = "http://example.org/"
    for i in range(3):
        store.add(
            ox.Quad(
                ox.NamedNode(f"{ex}t{i}"), ox.NamedNode(ex + "kind"), ox.Literal("SERVICE ?endpoint { in a string }")
            )
        )
    labels = ResultTable(vars=["thing", "label"], rows=[(ox.NamedNode(f"{ex}t1"), ox.Literal("one"))])

    def run(sparql: str) -> ResultTable:
        from kapgraph.results import from_oxigraph

        return from_oxigraph(store.query(sparql))

    endpoints = {
        "http://127.0.0.1:8/sparql": Recorder(labels),
        "http://127.0.0.1:9/other": Recorder(EndpointUnreachable("down")),
    }
    text = bind_join(run, QUERY, Federation("thing"), {"endpoint": ox.NamedNode("http://127.0.0.1:8/sparql")},
                     endpoints.__getitem__)  # fmt: skip
    rows = {(r[0].value, r[1] and r[1].value, r[2]) for r in run(text).rows}
    # OPTIONAL keeps the things without a label; SILENT turns the failed call into one empty solution
    assert rows == {(f"{ex}t0", None, None), (f"{ex}t1", "one", None), (f"{ex}t2", None, None)}


def test_a_failing_endpoint_without_silent_is_the_error() -> None:
    endpoints = {"http://127.0.0.1:8/sparql": Recorder(EndpointUnreachable("cannot reach http://127.0.0.1:8/sparql"))}
    query = QUERY.replace("SERVICE SILENT <http://127.0.0.1:9/other>", "SERVICE ?endpoint")
    endpoint = {"endpoint": ox.NamedNode("http://127.0.0.1:8/sparql")}
    with pytest.raises(EndpointUnreachable, match=r"127\.0\.0\.1:8"):
        bind_join(local_things(1), query, Federation("thing"), endpoint, endpoints.__getitem__)


def test_a_blank_node_from_the_endpoint_is_an_engine_error() -> None:
    answer = ResultTable(vars=["thing", "label"], rows=[(ox.NamedNode("http://example.org/t0"), ox.BlankNode("b1"))])
    endpoints = {"http://127.0.0.1:8/sparql": Recorder(answer), "http://127.0.0.1:9/other": Recorder(answer)}
    with pytest.raises(EngineError, match="blank node"):
        bind_join(local_things(1), QUERY, Federation("thing"), {"endpoint": ox.NamedNode("http://127.0.0.1:8/sparql")},
                  endpoints.__getitem__)  # fmt: skip


HEADER = "#+ summary: x\n#+ params:\n#+   - endpoint: {type: endpoint, default: 'http://127.0.0.1:1/q'}\n"
BODY = "SELECT ?thing ?label WHERE { ?thing a ?kind . SERVICE ?endpoint { ?thing <http://x/label> ?label } }\n"
BAD = {
    "no-join": ("#+ federation: {batch: 5}\n", BODY, "'join' must name"),
    "bad-batch": ("#+ federation: {join: thing, batch: 0}\n", BODY, "'batch' must be a whole number"),
    "big-batch": ("#+ federation: {join: thing, batch: 5000}\n", BODY, "from 1 to 1000"),
    "unknown-key": ("#+ federation: {join: thing, local: x}\n", BODY, "must be a mapping like"),
    "no-service": ("#+ federation: {join: thing}\n", BODY.replace("SERVICE ?endpoint", "GRAPH ?endpoint"),
                   "no SERVICE clause"),
    "not-in-service": ("#+ federation: {join: kind}\n", BODY.replace("SELECT ?thing", "SELECT ?kind ?thing"),
                       "does not use the join variable ?kind"),
    "not-select": ("#+ federation: {join: thing}\n",
                   "ASK { ?thing a ?kind . SERVICE ?endpoint { ?thing <http://x/label> ?label } }\n",
                   "needs a SELECT query"),
    "not-projected": ("#+ federation: {join: thing}\n", BODY.replace("SELECT ?thing ?label", "SELECT ?label"),
                      "?thing is not projected"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_federation_header_names_the_file(case: str, tmp_path: Path) -> None:
    declaration, body, expected = BAD[case]
    (tmp_path / f"{case}.rq").write_text(HEADER + declaration + body, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog(tmp_path).get(case)
    assert f"{case}.rq:1: malformed query header" in str(info.value)
    assert expected in str(info.value)


def test_a_good_federation_header_is_read(tmp_path: Path) -> None:
    (tmp_path / "good.rq").write_text(HEADER + "#+ federation: {join: thing, batch: 7}\n" + BODY, encoding="utf-8")
    assert Catalog(tmp_path).get("good").federation == Federation("thing", 7)
    (tmp_path / "plain.rq").write_text(HEADER + BODY, encoding="utf-8")
    assert Catalog(tmp_path).get("plain").federation is None
