"""``kapgraph serve``: read-only, no SERVICE, loopback, a clean stop on Ctrl-C, clear errors."""

from __future__ import annotations

import html
import http.client
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from kapgraph.cli import cli
from kapgraph.serve import example_query, exposure_warning, uses_service
from tests.endpoint_helpers import Listener, answer, children, free_port, start_serve, stop


def post(url: str, **form: str) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.server
def test_update_is_refused_with_403(served):
    status, text = post(served + "/update", update="INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert status == 403 and "read-only" in text
    status, _ = post(served + "/query", query="ASK { <urn:a> <urn:b> <urn:c> }")
    assert status == 200


#: queries that got past the old check (a regex over the text with comments, strings and IRIs removed)
#: and made the server call the SERVICE: each is read by Oxigraph's parser as written here
BYPASSES = {
    # '<' as less-than read as an IRI that ran to the '>' in the comment, hiding SERVICE
    "less-than-as-iri-start": "ASK {{ FILTER(1<2)SERVICE#>\n<{url}> {{ ?s ?p ?o }} }}",
    # a comment ends at \r alone; the old check ran it on to the next \n
    "comment-ended-by-cr": "ASK {{ # a comment\rSERVICE <{url}> {{ ?s ?p ?o }} }}",
    # a no-break space is allowed in an IRI; the old check took the '<' as code and the '#' as a comment
    "nbsp-in-iri": "ASK {{ {{ ?s ?p <http://a/\u00a0#> }} UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    # '\#' in a prefixed name is an escape, not a comment
    "local-name-escape": (
        "PREFIX ex: <http://e/> ASK {{ {{ ?s ?p ex:a\\#b }} UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}"
    ),
    # Oxigraph reads the keyword whatever stands next to it
    "dot-before": "ASK {{ ?s ?p ?o .SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "keyword-then-silent": "ASK {{ SERVICESILENT<{url}> {{ ?s ?p ?o }} }}",
    "keyword-then-prefixed-name": "PREFIX : <{url}> ASK {{ SERVICE:x {{ ?s ?p ?o }} }}",
    # ex:SERVICE is read as ex: and the keyword when ex: + SERVICE is not a valid IRI
    # (it fetches only where the graph has a triple ?s ?p <http://[::1]>, as the test below adds)
    "prefixed-name-with-invalid-iri": (
        "PREFIX ex: <http://[::1]> ASK {{ ?s ?p ex:SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"
    ),
}


@pytest.mark.server
def test_service_never_reaches_the_named_host(served):
    with Listener(answer(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")) as listener:
        for query in (f"ASK {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
                      f"ASK {{ service silent <{listener.url}> {{ ?s ?p ?o }} }}",
                      f"ASK {{ \\u0053ERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
                      *(bypass.format(url=listener.url) for bypass in BYPASSES.values())):  # fmt: skip
            status, text = post(served + "/query", query=query)
            assert status == 403 and "SERVICE is disabled" in text, query
        # GET, as the query page may send it
        url = served + "/query?" + urllib.parse.urlencode({"query": f"SELECT * {{ SERVICE <{listener.url}> {{}} }}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 403
        time.sleep(0.2)
    assert listener.requests == []


@pytest.mark.parametrize("query", BYPASSES.values(), ids=BYPASSES.keys())
def test_oxigraph_calls_the_service_of_each_old_bypass(query):
    # pyoxigraph has the parser and evaluator of the oxigraph server (both 0.5): each bypass is real
    import pyoxigraph as ox

    store = ox.Store()
    for o in ("urn:o", "http://[::1]"):  # the second for ?s ?p ex: (ex: is <http://[::1]>)
        store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode(o)))
    one_solution = b'{"head": {"vars": []}, "results": {"bindings": [{}]}}'
    with Listener(answer(200, one_solution, "application/sparql-results+json")) as listener:
        result = store.query(query.format(url=listener.url))
        bool(result) if isinstance(result, ox.QueryBoolean) else list(result)
    assert len(listener.requests) >= 1


@pytest.mark.parametrize("query", BYPASSES.values(), ids=BYPASSES.keys())
def test_the_old_bypasses_are_refused(query):
    assert uses_service(query.format(url="http://127.0.0.1:9/"))


def test_the_service_policy_reads_keywords_not_strings_or_names():
    assert uses_service("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }")
    assert uses_service("select * { Service\n<http://x/> {} }")
    assert not uses_service('SELECT ?service { ?service <urn:p> "SERVICE" . # SERVICE\n ?x <urn:p> <urn:SERVICE> }')
    # a prefixed name is not safe: see "prefixed-name-with-invalid-iri" above
    assert uses_service("SELECT * { ?x ex:SERVICE ?y }")


@pytest.mark.server
def test_the_query_page_is_served(served):
    with urllib.request.urlopen(served + "/", timeout=30) as response:
        assert response.status == 200 and "yasgui" in response.read().decode().lower()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
STUDY = "https://w3id.org/kap/id/study/dakwar2019"


def _get(
    base: str, target: str, accept: str | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request with the target sent as written (no client-side normalisation of '..' or '%2e')."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, target, headers={"Accept": accept} if accept else {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


@pytest.mark.server
def test_a_study_iri_is_negotiated_as_the_htaccess_does(served):
    from rdflib import RDF, RDFS, Graph, Literal, URIRef

    redirect, _ = _get(served, "/kap/id/study/dakwar2019", "text/turtle")
    assert (redirect.status, redirect.getheader("Location")) == (303, "/kap/id/study/dakwar2019.ttl")
    assert redirect.getheader("Vary") == "Accept"
    request = urllib.request.Request(served + "/kap/id/study/dakwar2019", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=60) as response:  # follows the 303
        assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
        graph = Graph().parse(data=response.read().decode("utf-8"), format="turtle")
    study = URIRef(STUDY)
    assert (study, RDF.type, URIRef("https://w3id.org/kap/ontology#Study")) in graph
    label = graph.value(study, RDFS.label)
    assert isinstance(label, Literal) and str(label).startswith("Dakwar 2019")
    assert len(set(graph.subjects())) > 5  # the study and its arms, regimens, outcomes and evidence
    request = urllib.request.Request(served + "/kap/id/study/dakwar2019", headers={"Accept": BROWSER})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.url.endswith("/kap/id/study/dakwar2019.html")
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        page = response.read().decode("utf-8")
    assert html.escape(str(label)) in page and "<blockquote>" in page


@pytest.mark.server
def test_the_site_refuses_traversal_and_other_methods_over_http(served):
    for target in ("/kap/../../../../etc/passwd", "/kap/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                   "/kap/id/study/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "/kap//etc/passwd",
                   "/kap/%5c..%5c..%5c..%5cetc%5cpasswd", "/kap/index.html%00", "/kap/%2e%2e%2f.htaccess"):  # fmt: skip
        response, body = _get(served, target, "text/turtle")
        assert response.status == 404, target
        assert response.getheader("Content-Type") == "text/plain; charset=utf-8" and b"root:" not in body
    refused, _ = _get(served, "/kap/index.html", method="POST")
    assert (refused.status, refused.getheader("Allow")) == (405, "GET, HEAD")
    head, nothing = _get(served, "/kap/index.html", method="HEAD")
    page, body = _get(served, "/kap/index.html", BROWSER)
    assert head.status == page.status == 200 and nothing == b"" and b"<h1>kapgraph</h1>" in body
    assert int(head.getheader("Content-Length")) == len(body)


@pytest.mark.server
def _read_until(process, last: str, limit: float = 60.0) -> str:
    """Standard output up to and including the line *last* (fails after *limit* seconds).

    Reads the pipe's file descriptor directly: a text-mode readline would buffer lines the selector
    cannot see."""
    import os
    import selectors

    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + limit
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while (last + "\n").encode() not in seen:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                pytest.fail(f"no {last!r} within {limit:g} s; got {seen!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"serve ended before {last!r}; got {seen!r}")
            seen += chunk
    return seen.decode()


def _hang_up_mid_download(port: int) -> None:
    """Read the start of the site's largest file and hang up; send a Content-Length that is not a number."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(b"GET /kap/kap.ttl HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.0 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:  # closed with a reset (linger 0)
        client.sendall(b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.0 400")
    time.sleep(0.5)  # the server's write fails after the hang-up


def test_ctrl_c_stops_the_server_and_its_child(tmp_path):
    port = free_port()
    process = start_serve(tmp_path / "store", port)
    banner = _read_until(process, "Press Ctrl-C to stop.")  # the listening port comes before the banner
    _hang_up_mid_download(port)
    (child,) = children(process.pid)
    assert "oxigraph" in Path(f"/proc/{child}/cmdline").read_text()
    code = stop(process, signal.SIGINT)  # to the whole process group, as a terminal's Ctrl-C
    rest, err = process.communicate()
    out = banner + rest
    assert code == 0, err
    assert f"Query page: http://127.0.0.1:{port}/" in out and f"Endpoint:   http://127.0.0.1:{port}/query" in out
    assert f"Site:       http://127.0.0.1:{port}/kap/" in out and "temporary folder" in out
    assert "VALUES (?diagnosis) { (<https://w3id.org/kap/vocab/diagnosis/PTSD>) }" in out
    assert "Stopped." in out
    assert "Traceback" not in err  # a client that hangs up, or sends a bad Content-Length, is no error
    assert not Path(f"/proc/{child}").exists()  # stopped and reaped by kapgraph serve: no orphan


@pytest.mark.server
def test_a_port_in_use_exits_2(served):
    port = int(served.rsplit(":", 1)[1])
    result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_missing_oxigraph_binary_exits_2(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2 and "pip install oxigraph" in result.stderr


def test_a_site_folder_that_is_not_a_site_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["serve", "--site", str(tmp_path)])
    assert result.exit_code == 2 and "not a kapgraph site" in result.stderr
    result = CliRunner().invoke(cli, ["serve", "--site", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_binding_beyond_loopback_warns():
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    assert "not loopback" in (exposure_warning("0.0.0.0") or "")


def test_the_example_query_is_the_readme_question(engines):
    studies = {str(row[0]).rsplit("/", 1)[1].rstrip(">") for row in engines["oxigraph"].query(example_query()).rows}
    assert studies == {"dore2019", "duek2019", "halstead2021", "shiroma2020"}


def _synthetic(folder: Path, studies: int = 3) -> Path:
    result = CliRunner().invoke(cli, ["synth", "--studies", str(studies), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.server
def test_other_data_is_served_without_the_bundled_graphs_site(tmp_path):
    # the site documents the bundled graph (a page per bundled study): with --data, serve starts
    # without one (it used to stop with "study:adams2017 has no facts in the graph")
    import os
    import subprocess

    data, port = _synthetic(tmp_path / "synth"), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kapgraph", "--data", str(data), "serve", "--store", str(tmp_path / "store"),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        banner = _read_until(process, "Press Ctrl-C to stop.")
        assert "Site:       none with --data" in banner
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/kap/ontology", timeout=30)
        assert missing.value.code == 404
        study = "<https://w3id.org/kap/ontology#Study>"
        query = urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a {study} }}"})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/query?{query}", headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read().decode().split() == ["n", "3"]  # the synthetic studies are served
    finally:
        assert stop(process, signal.SIGINT) == 0


def test_docs_of_other_data_is_refused_clearly(tmp_path):
    data = _synthetic(tmp_path / "synth")
    result = CliRunner().invoke(cli, ["--data", str(data), "docs", "--out", str(tmp_path / "site")])
    assert result.exit_code == 2, result.output
    assert "kapgraph docs documents the bundled graph" in result.stderr and "adams2017" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "site").exists()
