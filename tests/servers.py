"""SPARQL servers for the tests: OpenLink Virtuoso Open Source, started once per session on free loopback ports.

The tests query a server with kapgraph's own remote engine (:meth:`Virtuoso.engine`: what ``--endpoint URL
--graph GRAPH`` opens); :func:`http_query` (a bare SPARQL 1.1 Protocol POST) only checks that a server
answers. The :func:`virtuoso` fixture writes a minimal ``virtuoso.ini`` in a private
temporary folder, starts ``virtuoso-t +foreground``, waits (bounded) until it answers, bulk-loads the
bundled ontology and data (exported as N-Triples) into one graph, and kills the server at the end,
even when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kapgraph.backends.remote import RemoteEngine
from kapgraph.errors import EndpointUnreachable, EngineError, QueryTimeout
from kapgraph.results import ResultTable, from_oxigraph
from tests.endpoint_helpers import die_with_parent

#: the graph the bundled data is loaded into on a server; queries name it as their default graph
GRAPH = "https://w3id.org/kap/graph/all"
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_query(endpoint: str, sparql: str, *, timeout: float = 30, default_graph: str | None = None) -> ResultTable:
    """POST *sparql* to a SPARQL 1.1 query endpoint and read the JSON results into a ResultTable."""
    form = {"query": sparql}
    if default_graph:
        form["default-graph-uri"] = default_graph
    request = urllib.request.Request(
        endpoint,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Accept": "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip().splitlines()
        raise EngineError(f"{endpoint} answered HTTP {exc.code}: {' '.join(detail)[:500]}") from None
    except TimeoutError:
        raise QueryTimeout(f"{endpoint} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise QueryTimeout(f"{endpoint} did not answer within {timeout:g} s") from None
        raise EndpointUnreachable(f"cannot reach {endpoint}: {exc.reason}") from None
    return from_oxigraph(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))


_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {load}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
MaxQueryMem = 500M

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {dir}
ServerThreads = 4
MaxClientConnections = 4
KeepAliveTimeout = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = {timeout}
MaxQueryCostEstimationTime = {timeout}
"""


class Virtuoso:
    """A private Virtuoso server: ``start``, ``load``, ``restart``, ``stop``."""

    def __init__(self, folder: Path, *, query_timeout: int = 20):
        self.folder = folder
        self.db = folder / "db"
        self.load_dir = folder / "load"
        self.query_timeout = query_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.sql_port = self.http_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def engine(self, timeout: float = 30) -> RemoteEngine:
        """kapgraph's remote engine (what ``--endpoint URL --graph GRAPH`` opens) on this server."""
        engine = RemoteEngine(self.endpoint, timeout=timeout, graph=GRAPH)
        engine.name = "virtuoso"
        return engine

    def start(self, ready_within: float = 120) -> None:
        assert VIRTUOSO and ISQL
        self.db.mkdir(parents=True, exist_ok=True)
        self.load_dir.mkdir(parents=True, exist_ok=True)
        self.sql_port, self.http_port = free_port(), free_port()
        ini = self.db / "virtuoso.ini"
        ini.write_text(
            _INI.format(
                dir=self.db, load=self.load_dir, sql=self.sql_port, http=self.http_port, timeout=self.query_timeout
            )
        )
        self.process = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(ini)],
            cwd=self.db,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # no Virtuoso outlives a killed test session
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}: {self._log_tail()}")
            try:
                http_query(self.endpoint, "ASK {}", timeout=5)
                return
            except (EndpointUnreachable, EngineError, QueryTimeout):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within {ready_within:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.db / "virtuoso.log"
        return " / ".join(log.read_text(errors="replace").splitlines()[-5:]) if log.exists() else "(no log)"

    def isql(self, *statements: str, timeout: float = 300) -> str:
        assert ISQL
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        done = subprocess.run(
            [ISQL, str(self.sql_port), "dba", "dba", "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ERRORS=STDOUT"],
            input=script.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        out = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0 or "*** Error" in out:
            raise RuntimeError(f"isql-vt failed ({done.returncode}): {out.strip()[-800:]}")
        return out

    def load(self, ntriples: bytes, graph: str = GRAPH) -> None:
        """Bulk-load N-Triples into *graph* with ld_dir / rdf_loader_run, then checkpoint."""
        (self.load_dir / "kapgraph.nt").write_bytes(ntriples)
        self.isql(
            f"ld_dir('{self.load_dir}', 'kapgraph.nt', '{graph}')",
            "rdf_loader_run()",
            "checkpoint",
        )
        failed = self.isql("SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL")
        if "kapgraph.nt" in failed:
            raise RuntimeError(f"the Virtuoso bulk loader failed: {failed.strip()}")

    def alive(self) -> bool:
        """Whether the server still answers a trivial query within a few seconds."""
        try:
            http_query(self.endpoint, "ASK {}", timeout=5)
            return True
        except (EndpointUnreachable, EngineError, QueryTimeout):
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)
        self.process = None

    def restart(self) -> None:
        """Kill a server that stopped answering and start it again on the same (checkpointed) database."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(15)
        self.process = None
        (self.db / "virtuoso.lck").unlink(missing_ok=True)
        self.start()


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[Virtuoso]:
    """Virtuoso with the bundled ontology and data in :data:`GRAPH` (skipped where it is not installed)."""
    if not (VIRTUOSO and ISQL):
        if os.environ.get("CI"):
            pytest.fail("virtuoso-t / isql-vt are missing: .ci/run installs Debian's virtuoso-opensource")
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    from kapgraph.export import export

    with tempfile.TemporaryDirectory(prefix="kapgraph-virtuoso-") as tmp:
        server = Virtuoso(Path(tmp))
        try:
            server.start()
            server.load(export("nt"))
            yield server
        finally:
            server.stop()
