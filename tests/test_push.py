"""``kapgraph push`` into a writable Oxigraph server and into Virtuoso (Graph Store Protocol with digest auth):
staged, moved into place, verified; failures say what is there. After a push the server answers queries by
super-property, super-class, broader concept and defined class like the embedded engine: the inferred graph
goes with the asserted one."""

from __future__ import annotations

import base64

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kapgraph.backends import Engine, open_engine
from kapgraph.cli import cli
from kapgraph.push import chunks, derived
from tests.conftest import ROOT
from tests.endpoint_helpers import Listener, answer, free_port
from tests.servers import Virtuoso

SECRET = "s3cret-Pa55word-do-not-print"
ONE_STUDY = str(ROOT / "data" / "studies" / "dakwar2019.ttl")
GRAPH = "https://w3id.org/kap/graph/published"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def graphs(base: str) -> dict[str, int]:
    remote = open_engine("remote", endpoint=base + "/query")
    table = remote.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {g.value: int(n.value) for g, n in table.rows}


@pytest.mark.server
def test_push_replaces_the_graph_and_it_answers_like_the_local_one(writable_oxigraph):
    base = writable_oxigraph
    remote = open_engine("remote", endpoint=base + "/query")
    # something old in the target, to be replaced
    old = run("--data", ONE_STUDY, "push", "--endpoint", base + "/store", "--graph", GRAPH)
    assert old.exit_code == 0, old.output
    result = run("push", "--endpoint", base + "/store", "--graph", GRAPH, "--chunk", "2000")
    assert result.exit_code == 0, result.output
    local = open_engine("oxigraph")
    # the whole graph: the asserted triples and the inferred graph
    assert f"pushed {local.triple_count() + local.inferred_count():,} triples in" in result.output
    assert graphs(base) == {GRAPH: local.triple_count() + local.inferred_count()}  # replaced, and no staging graph left
    # blank nodes split over chunks would break the evidence links: the review's claims still reproduce
    check = run("reproduce", "--format", "json", "--endpoint", base + "/query", "--graph", GRAPH)
    assert check.exit_code == 0 and "102 claims: 89 match, 13 discrepancy, 0 MISMATCH" in check.stderr
    assert remote.query(f"ASK {{ GRAPH <{GRAPH}> {{ ?s a kap:Study }} }}").boolean is True


@pytest.mark.server
def test_a_failed_move_leaves_the_target_and_says_what_it_holds(writable_oxigraph):
    base = writable_oxigraph
    assert run("push", "--endpoint", base + "/store", "--graph", GRAPH).exit_code == 0
    before = graphs(base)
    result = run("--data", ONE_STUDY, "push", "--endpoint", base + "/store", "--graph", GRAPH,
                 "--update-endpoint", base + "/nowhere")  # fmt: skip
    assert result.exit_code == 3
    assert "nothing was moved into place" in result.stderr
    assert f"{GRAPH} on the server holds {before[GRAPH]:,} triples" in result.stderr
    assert graphs(base)[GRAPH] == before[GRAPH]


#: queries whose complete answer needs the inferred graph (kapgraph.materialise): a super-property, a
#: super-class, a broader concept, a defined class
INFERRED = [
    "SELECT ?s ?o WHERE { ?s kap:diagnosis ?o }",
    "SELECT ?s ?r WHERE { ?s kap:hasDrugRegimen ?r }",
    "SELECT ?r WHERE { ?r a kap:DrugRegimen }",
    "SELECT ?s WHERE { ?s kap:diagnosis dx:SUD }",
    "SELECT ?s WHERE { ?s a kap:SubstanceUseDisorderStudy }",
]


def answers(engine: Engine, sparql: str) -> set[tuple[str, ...]]:
    return {tuple(str(t) for t in row) for row in engine.query(sparql).rows}


def assert_complete(query_url: str, graph: str) -> None:
    """Each INFERRED query gives the embedded engine's answer on the server's *graph*, which the asserted
    triples alone do not."""
    remote = open_engine("remote", endpoint=query_url, graph=graph)
    embedded, asserted = open_engine("oxigraph"), open_engine("oxigraph", asserted_only=True)
    for sparql in INFERRED:
        expected = answers(embedded, sparql)
        assert answers(remote, sparql) == expected, sparql
        assert len(answers(asserted, sparql)) < len(expected), sparql


@pytest.mark.server
def test_after_a_push_to_oxigraph_inferred_answers_are_complete(writable_oxigraph):
    base = writable_oxigraph
    assert run("push", "--endpoint", base + "/store", "--graph", GRAPH).exit_code == 0
    assert_complete(base + "/query", GRAPH)


# --- Virtuoso: Graph Store at /sparql-graph-crud-auth, updates at /sparql-auth, both with digest auth ------

VIRTUOSO_GRAPH = "https://w3id.org/kap/graph/pushed"  # not the graph tests/servers.py bulk-loads


def virtuoso_graphs(server: Virtuoso) -> dict[str, int]:
    remote = open_engine("remote", endpoint=server.endpoint)
    table = remote.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER(STRSTARTS(STR(?g), "urn:kapgraph:staging") || ?g = <' + VIRTUOSO_GRAPH + ">) } GROUP BY ?g"
    )
    return {g.value: int(n.value) for g, n in table.rows}


def push_virtuoso(server: Virtuoso, *args: str, password: str = "dba"):
    crud = f"http://127.0.0.1:{server.http_port}/sparql-graph-crud-auth"
    return run(*args, "push", "--endpoint", crud, "--graph", VIRTUOSO_GRAPH, "--user", "dba",
               env={"KAPGRAPH_PASSWORD": password})  # fmt: skip


@pytest.mark.server
def test_push_into_virtuoso_replaces_the_graph_and_reproduces_the_review(virtuoso: Virtuoso):
    old = push_virtuoso(virtuoso, "--data", ONE_STUDY)
    assert old.exit_code == 0, old.output + old.stderr
    result = push_virtuoso(virtuoso)
    assert result.exit_code == 0, result.output + result.stderr
    local = open_engine("oxigraph")
    total = local.triple_count() + local.inferred_count()
    assert f"pushed {total:,} triples in 1 chunk(s) to <{VIRTUOSO_GRAPH}>; verified by COUNT" in result.output
    assert virtuoso_graphs(virtuoso) == {VIRTUOSO_GRAPH: total}  # replaced by MOVE, no staging graph left
    assert "dba" not in result.output.replace("--user dba", "")
    check = run("reproduce", "--format", "json", "--endpoint", virtuoso.endpoint, "--graph", VIRTUOSO_GRAPH)
    assert check.exit_code == 0, check.stderr
    assert "102 claims: 89 match, 13 discrepancy, 0 MISMATCH" in check.stderr
    assert_complete(virtuoso.endpoint, VIRTUOSO_GRAPH)


@pytest.mark.server
def test_a_refused_password_on_virtuoso_leaves_the_target_and_says_what_it_holds(virtuoso: Virtuoso):
    if VIRTUOSO_GRAPH not in virtuoso_graphs(virtuoso):
        assert push_virtuoso(virtuoso).exit_code == 0
    before = virtuoso_graphs(virtuoso)
    result = push_virtuoso(virtuoso, "--data", ONE_STUDY, password=SECRET)
    assert result.exit_code == 3, result.output + result.stderr
    assert "HTTP 401" in result.stderr and "nothing was moved into place" in result.stderr
    assert f"{VIRTUOSO_GRAPH} on the server holds {before[VIRTUOSO_GRAPH]:,} triples" in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
    assert virtuoso_graphs(virtuoso) == before


def test_virtuoso_endpoints_are_derived_from_its_graph_store_url():
    crud = "http://127.0.0.1:8890/sparql-graph-crud-auth"
    assert derived(crud, "update") == "http://127.0.0.1:8890/sparql-auth"
    assert derived(crud, "query") == "http://127.0.0.1:8890/sparql"
    assert derived("http://127.0.0.1:8890/sparql-graph-crud", "update") == "http://127.0.0.1:8890/sparql"
    assert derived("http://127.0.0.1:7878/store", "update") == "http://127.0.0.1:7878/update"


def test_an_unreachable_store_exits_2():
    result = run("push", "--endpoint", f"http://127.0.0.1:{free_port()}/store", "--graph", GRAPH)
    assert result.exit_code == 2 and "cannot reach" in result.stderr


def test_a_store_url_without_derivable_endpoints_exits_2():
    result = run("push", "--endpoint", "http://127.0.0.1:1/rdf-graph-store", "--graph", GRAPH)
    assert result.exit_code == 2 and "--update-endpoint" in result.stderr


def test_a_bad_graph_iri_exits_2():
    result = run("push", "--endpoint", "http://127.0.0.1:1/store", "--graph", "no iri")
    assert result.exit_code == 2 and "--graph" in result.stderr


def test_refused_credentials_exit_3_and_the_password_is_never_printed():
    with Listener(answer(401, b"Unauthorized")) as listener:
        result = run("push", "--endpoint", listener.url + "store", "--graph", GRAPH, "--user", "alice",
                     env={"KAPGRAPH_PASSWORD": SECRET})  # fmt: skip
    assert result.exit_code == 3 and "HTTP 401" in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
    assert listener.requests[0][0] == "PUT" and "graph=urn%3Akapgraph%3Astaging" in listener.requests[0][1]


def test_chunks_keep_blank_node_groups_whole():
    b1, b2 = ox.BlankNode(), ox.BlankNode()
    p, s = ox.NamedNode("urn:p"), ox.NamedNode("urn:s")
    linked = [ox.Triple(s, p, b1), ox.Triple(b1, p, b2), ox.Triple(b2, p, ox.Literal("x"))]
    plain = [ox.Triple(s, p, ox.Literal(str(i))) for i in range(5)]
    batches = list(chunks(plain + linked, size=2))
    assert sorted(str(t) for batch in batches for t in batch) == sorted(map(str, plain + linked))
    assert any(set(map(str, linked)) <= set(map(str, b)) for b in batches)


def challenge(scheme: str):
    """A server that asks for credentials (a 401 with a *scheme* challenge) until a request brings some."""

    def respond(handler):
        if "Authorization" in handler.headers:
            answer(201, b"")(handler)
            return
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", scheme)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def test_credentials_go_only_once_the_server_asks_in_its_scheme():
    from kapgraph.push import _Client

    with Listener(challenge('Basic realm="store"')) as basic:
        _Client("alice", SECRET, 5, [basic.url]).send("PUT", basic.url + "store?graph=urn:x", b"<a:b> <a:c> <a:d> .",
                                                      "application/n-triples")  # fmt: skip
    (probe, first), (sent, second) = [(r[2], r[3]) for r in basic.requests]
    assert "Authorization" not in probe and first == b""  # the probe: no body, no credentials
    assert sent["Authorization"] == "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert second == b"<a:b> <a:c> <a:d> ."
    with Listener(challenge('Digest realm="SPARQL", nonce="abc", qop="auth", algorithm="MD5"')) as digest:
        _Client("alice", SECRET, 5, [digest.url]).send("POST", digest.url + "store", b"x", "text/plain")
    sent = digest.requests[1][2]["Authorization"]
    assert sent.startswith('Digest username="alice", realm="SPARQL", nonce="abc"') and SECRET not in sent
