"""``kapgraph serve``: read-only, no SERVICE, loopback, a clean stop on Ctrl-C, clear errors."""

from __future__ import annotations

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


@pytest.mark.server
def test_service_never_reaches_the_named_host(served):
    with Listener(answer(200, b'{"head": {}, "boolean": true}', "application/sparql-results+json")) as listener:
        for query in (f"ASK {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
                      f"ASK {{ service silent <{listener.url}> {{ ?s ?p ?o }} }}",
                      f"ASK {{ \\u0053ERVICE <{listener.url}> {{ ?s ?p ?o }} }}"):  # fmt: skip
            status, text = post(served + "/query", query=query)
            assert status == 403 and "SERVICE is disabled" in text
        # GET, as the query page may send it
        url = served + "/query?" + urllib.parse.urlencode({"query": f"SELECT * {{ SERVICE <{listener.url}> {{}} }}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 403
        time.sleep(0.2)
    assert listener.requests == []


def test_the_service_policy_reads_keywords_not_strings_or_names():
    assert uses_service("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }")
    assert uses_service("select * { Service\n<http://x/> {} }")
    assert not uses_service('SELECT ?service { ?service <urn:p> "SERVICE" . # SERVICE\n ?x ex:SERVICE <urn:SERVICE> }')


@pytest.mark.server
def test_the_query_page_is_served(served):
    with urllib.request.urlopen(served + "/", timeout=30) as response:
        assert response.status == 200 and "yasgui" in response.read().decode().lower()


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


def test_ctrl_c_stops_the_server_and_its_child(tmp_path):
    port = free_port()
    process = start_serve(tmp_path / "store", port)
    banner = _read_until(process, "Press Ctrl-C to stop.")  # the listening port comes before the banner
    (child,) = children(process.pid)
    assert "oxigraph" in Path(f"/proc/{child}/cmdline").read_text()
    code = stop(process, signal.SIGINT)  # to the whole process group, as a terminal's Ctrl-C
    rest, err = process.communicate()
    out = banner + rest
    assert code == 0, err
    assert f"Query page: http://127.0.0.1:{port}/" in out and f"Endpoint:   http://127.0.0.1:{port}/query" in out
    assert "VALUES (?diagnosis) { (<https://w3id.org/kap/vocab/diagnosis/PTSD>) }" in out
    assert "Stopped." in out
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


def test_binding_beyond_loopback_warns():
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    assert "not loopback" in (exposure_warning("0.0.0.0") or "")


def test_the_example_query_is_the_readme_question(engines):
    studies = {str(row[0]).rsplit("/", 1)[1].rstrip(">") for row in engines["oxigraph"].query(example_query()).rows}
    assert studies == {"dore2019", "duek2019", "halstead2021", "shiroma2020"}
