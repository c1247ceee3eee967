"""``kapgraph push`` into a writable Oxigraph server: staged, moved into place, verified; failures say what is there."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kapgraph.backends import open_engine
from kapgraph.cli import cli
from kapgraph.push import chunks
from tests.conftest import ROOT
from tests.endpoint_helpers import Listener, answer, free_port

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


def test_an_unreachable_store_exits_2():
    result = run("push", "--endpoint", f"http://127.0.0.1:{free_port()}/store", "--graph", GRAPH)
    assert result.exit_code == 2 and "cannot reach" in result.stderr


def test_a_store_url_without_derivable_endpoints_exits_2():
    result = run("push", "--endpoint", "http://127.0.0.1:1/sparql-graph-crud", "--graph", GRAPH)
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
