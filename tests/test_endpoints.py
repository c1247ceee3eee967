"""The remote engine (``--endpoint``) against ``kapgraph serve``, and every error path with its exit code.

The error paths use a scripted HTTP listener on a loopback port (tests/endpoint_helpers.py) in place
of a misbehaving server; DNS failure is simulated (no traffic leaves the machine)."""

from __future__ import annotations

import base64
import re
import socket
from urllib.parse import parse_qs

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kapgraph.api import info, run_query
from kapgraph.backends import open_engine
from kapgraph.backends.remote import RemoteEngine, with_prefixes
from kapgraph.binding import bind, inject_values
from kapgraph.catalog import Catalog
from kapgraph.cli import cli
from kapgraph.errors import EndpointUnreachable, EngineError, QueryTimeout
from tests.endpoint_helpers import Listener, answer, free_port, silent_socket

SECRET = "s3cret-Pa55word-do-not-print"


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(cli, list(args), env={"KAPGRAPH_ENDPOINT": None, **(env or {})}, input=input)


def rows(table) -> set[tuple]:
    """Solutions as a set; GROUP_CONCAT lists (", " or " | ") compared as sets, since their order is
    unspecified and differs between two Oxigraph processes (issue 8, point 5 makes it deterministic)."""

    def cell(term) -> object:
        if isinstance(term, ox.Literal) and (", " in term.value or " | " in term.value):
            return frozenset(re.split(r", | \| ", term.value)), term.datatype, term.language
        return str(term)

    return {tuple(cell(t) for t in row) for row in table.rows}


# --- against a real server --------------------------------------------------------------------------

server = pytest.mark.server


@server
@pytest.mark.parametrize("name, params", [("studies", {}), ("studies-by-route", {"route": "intranasal"}),
                                          ("evidence", {"study": "dakwar2019"}), ("review/totals", {})])  # fmt: skip
def test_stored_queries_give_the_local_answer(served, name, params):
    remote = open_engine("remote", endpoint=served + "/query")
    assert rows(run_query(name, params, engine=remote)) == rows(run_query(name, params, engine="oxigraph"))


@server
def test_psychotherapy_before_and_after_ptsd_over_http(served):
    result = run("query", "psychotherapy-before-and-after", "-p", "diagnosis=PTSD", "--format", "csv",
                 "--endpoint", served + "/query")  # fmt: skip
    assert result.exit_code == 0, result.output
    studies = {line.split(",")[0].rsplit("/", 1)[1] for line in result.output.splitlines()[1:]}
    assert studies == {"dore2019", "duek2019", "halstead2021", "shiroma2020"}


@server
def test_info_counts_the_served_graph_like_the_local_one(served):
    remote, local = info(engine=open_engine("remote", endpoint=served + "/query")), info()
    assert remote.engine == "remote" and remote.files == 0
    # an endpoint's graph is not split into asserted and inferred: its count is the local sum
    assert (remote.triples + remote.inferred_triples, remote.studies, remote.evidence, remote.participants) == (
        local.triples + local.inferred_triples, local.studies, local.evidence, local.participants
    )  # fmt: skip


@server
def test_reproduce_over_http_keeps_the_102_claims(served):
    result = run("reproduce", "--format", "json", env={"KAPGRAPH_ENDPOINT": served + "/query"})
    assert result.exit_code == 0, result.output
    assert "102 claims: 89 match, 13 discrepancy, 0 MISMATCH" in result.stderr


@server
def test_construct_and_ask_over_http(served):
    remote = open_engine("remote", endpoint=served + "/query")
    text = "CONSTRUCT { ?s a kap:Study } WHERE { ?s a kap:Study }"  # kap: predeclared as locally
    assert set(remote.query(text).triples) == set(open_engine("oxigraph").query(text).triples)
    assert len(remote.query(text).triples) == 17
    assert remote.query("ASK { ?s a kap:Study }").boolean is True


@server
def test_a_syntax_error_is_reported_at_the_users_line(served):
    result = run("sparql", "SELECT ?s\nWHERE { ?s ?p }", "--endpoint", served + "/query")
    assert result.exit_code == 2
    assert "HTTP 400" in result.stderr and "error at 2:" in result.stderr


@server
def test_an_unknown_path_is_an_http_error_with_the_servers_message(served):
    result = run("sparql", "ASK {}", "--endpoint", served + "/nowhere")
    assert result.exit_code == 3
    assert "HTTP 404" in result.stderr and "not supported by this server" in result.stderr


@server
def test_update_is_refused_before_it_is_sent(served):
    result = run("sparql", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "--endpoint", served + "/query")
    assert result.exit_code == 2 and "SPARQL Update" in result.stderr


# --- error paths against scripted listeners ---------------------------------------------------------


def test_a_malformed_url_exits_2():
    for url in ("ftp://example.org/sparql", "not a url", "http:///query"):
        result = run("info", "--endpoint", url)
        assert result.exit_code == 2, (url, result.output)
        assert "not an http(s) URL" in result.stderr


def test_a_refused_connection_exits_2():
    result = run("sparql", "ASK {}", "--endpoint", f"http://127.0.0.1:{free_port()}/query")
    assert result.exit_code == 2 and "cannot reach the SPARQL endpoint" in result.stderr
    assert "refused" in result.stderr.lower()


def test_an_unknown_host_exits_2(monkeypatch):
    def no_dns(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(EndpointUnreachable, match="Name or service not known"):
        RemoteEngine("http://sparql.example.invalid/query").query("ASK {}")


def test_a_server_that_never_answers_times_out_with_exit_3():
    with silent_socket() as port:
        result = run("sparql", "ASK {}", "--endpoint", f"http://127.0.0.1:{port}/q", "--timeout", "0.5")
    assert result.exit_code == 3 and "time limit of 0.5 s" in result.stderr
    with silent_socket() as port, pytest.raises(QueryTimeout):
        RemoteEngine(f"http://127.0.0.1:{port}/q", timeout=0.3).query("ASK {}")


def test_a_response_that_is_not_sparql_results_exits_3():
    with Listener(answer(200, b"<html><body>Welcome to nginx</body></html>", "text/html")) as listener:
        result = run("sparql", "SELECT * WHERE { ?s ?p ?o }", "--endpoint", listener.url)
    assert result.exit_code == 3
    assert "text/html, not SPARQL results" in result.stderr and "Welcome to nginx" in result.stderr


def test_broken_sparql_json_exits_3():
    broken = answer(200, b'{"head": {"vars": ["s"]}, "results": ', "application/sparql-results+json")
    with Listener(broken) as lis, pytest.raises(EngineError, match="not valid SPARQL results"):
        RemoteEngine(lis.url).query("SELECT * WHERE { ?s ?p ?o }")


def test_a_server_error_carries_the_first_lines_of_its_message():
    body = b"Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax\n\nSPARQL query:\n" + b"x" * 5000
    with Listener(answer(500, body)) as listener:
        result = run("sparql", "ASK {}", "--endpoint", listener.url)
    assert result.exit_code == 3
    assert "HTTP 500" in result.stderr and "SP030" in result.stderr and "x" * 500 not in result.stderr


def test_basic_auth_sends_the_password_and_never_prints_it():
    with Listener(answer(401, b"Unauthorized: bad credentials")) as listener:
        result = run("sparql", "ASK {}", "--endpoint", listener.url, "--user", "alice",
                     env={"KAPGRAPH_PASSWORD": SECRET})  # fmt: skip
    assert result.exit_code == 3 and "HTTP 401" in result.stderr and "'alice'" in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
    sent = listener.requests[0][2]["Authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == f"alice:{SECRET}"


def test_the_password_prompt_is_hidden_and_never_printed():
    ok = answer(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")
    with Listener(ok) as listener:
        result = run("sparql", "ASK {}", "--endpoint", listener.url, "--user", "bob", "--format", "json",
                     input=SECRET + "\n", env={"KAPGRAPH_PASSWORD": None})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "password for bob" in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
    assert base64.b64decode(listener.requests[0][2]["Authorization"].split()[1]).decode() == f"bob:{SECRET}"


def test_a_password_in_the_url_is_redacted_from_errors():
    result = run("sparql", "ASK {}", "--endpoint", f"http://eve:{SECRET}@127.0.0.1:{free_port()}/query")
    assert result.exit_code == 2 and SECRET not in result.stderr and "eve:***@" in result.stderr


def test_graph_is_sent_as_default_graph_uri_and_post_is_used():
    ok = answer(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")
    with Listener(ok) as listener:
        engine = open_engine("remote", endpoint=listener.url, graph="https://w3id.org/kap/graph")
        assert engine.query("ASK { ?s ?p ?o }").boolean is True
    method, _path, _headers, body = listener.requests[0]
    assert method == "POST" and parse_qs(body.decode())["default-graph-uri"] == ["https://w3id.org/kap/graph"]


def test_a_bad_graph_iri_exits_2():
    result = run("info", "--endpoint", "http://127.0.0.1:1/query", "--graph", "not an iri")
    assert result.exit_code == 2 and "--graph" in result.stderr


def test_parameters_reach_the_endpoint_as_a_values_block_of_rdf_terms():
    empty = answer(
        200, b'{"head": {"vars": ["study"]}, "results": {"bindings": []}}', "application/sparql-results+json"
    )
    query = Catalog().get("studies-by-route")
    bound = bind(open_engine("oxigraph"), query, {"route": "intranasal"})
    with Listener(empty) as listener:
        RemoteEngine(listener.url).query(inject_values(query.text, bound))
    text = parse_qs(listener.requests[0][3].decode())["query"][0]
    assert "VALUES (?route) { (<https://w3id.org/kap/vocab/route/IN>) }" in text
    assert '"intranasal"' not in text  # never pasted as a string


def test_undeclared_project_prefixes_are_declared_for_the_server():
    text = with_prefixes("SELECT * WHERE { ?s a kap:Study ; dx:x <urn:a#kap:y> }")
    assert text.startswith("PREFIX kap: <https://w3id.org/kap/ontology#>\nPREFIX dx: ")
    assert with_prefixes("PREFIX kap: <urn:k#>\nASK { ?s a kap:S }").count("PREFIX kap:") == 1


@pytest.mark.parametrize("word", ["ADD", "insert", "Drop", "LOAD", "clear"])
def test_a_query_mentioning_an_update_keyword_is_posted_as_a_query(word: str) -> None:
    # SPARQLWrapper's own guess finds the keyword anywhere and would post the SELECT as an update
    engine = RemoteEngine("http://127.0.0.1:9/query")
    # SPARQLWrapper does not strip every comment line before it guesses: the second line of studies-by-modality's
    # header said "the inferred graph adds", and the server was sent an update
    sparql = f"#+ summary: modalities\n#+   the inferred graph {word}s triples\nSELECT ?s WHERE {{ ?s ?p ?o }}\n"
    assert not engine._wrapper(sparql, graph_query=False).isSparqlUpdateRequest()
    assert engine._wrapper(sparql, graph_query=False).isSparqlQueryRequest()
