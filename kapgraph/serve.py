"""``kapgraph serve``: the graph as a read-only SPARQL endpoint with a query page.

The server is the ``oxigraph`` binary of the ``oxigraph`` package (``serve-read-only``, union default
graph, a query time limit) on the on-disk store of :mod:`kapgraph.store`, whose in-use lock is held
while serving so no other kapgraph process removes the build underneath. It listens on a private
loopback port; in front of it a small proxy of kapgraph's listens on ``--host:--port`` and forwards
every request, except queries that use ``SERVICE``: Oxigraph's server evaluates ``SERVICE`` (it would
fetch any URL a visitor names, including hosts on the server's own network), and has no switch to
turn that off, so the proxy answers such queries ``403``. SPARQL Update is refused by Oxigraph itself
(read-only mode: ``403 The server is read-only``).

The proxy also serves the documentation site of :mod:`kapgraph.site` itself, below ``/kap/``: the
paths of the IRIs the graph mints (``https://w3id.org/kap/id/study/dakwar2019`` is
``/kap/id/study/dakwar2019``), negotiated as the site's ``.htaccess`` does it (:mod:`kapgraph.siteserve`),
so that a local rewrite of ``https://w3id.org/kap/`` to ``http://HOST:PORT/kap/`` resolves every IRI.
Those paths answer GET and HEAD only and never reach Oxigraph; every other path (``/`` the query page,
``/query``, ``/update``, ``/store``, the page's scripts) is forwarded as before. The site is built at
start into a private temporary folder from the store being served (a few seconds; removed at stop), so
it always shows the graph the endpoint answers for, or taken from ``site=`` (a folder built by
``kapgraph docs --out``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kapgraph import siteserve
from kapgraph.errors import EngineError, KapgraphError, StoreError
from kapgraph.querytext import may_use_service

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_TIMEOUT = 60.0
#: the README's example: PTSD studies with psychotherapy before and after ketamine
EXAMPLE = ("psychotherapy-before-and-after", "diagnosis", "https://w3id.org/kap/vocab/diagnosis/PTSD")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


class OxigraphMissing(KapgraphError):
    """The ``oxigraph`` server binary is not installed (exit 2)."""


def find_oxigraph() -> str:
    """The ``oxigraph`` binary next to this Python (a virtualenv's bin/) or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise OxigraphMissing(
            "the Oxigraph server binary 'oxigraph' is not installed (looked beside "
            f"{sys.executable} and on PATH); install it with: pip install oxigraph"
        )
    return found


def exposure_warning(host: str) -> str | None:
    """The warning to print when *host* is not a loopback address."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    return f"warning: listening on {host}, not loopback: anyone who can reach this machine can query the graph"


def example_query() -> str:
    """The README's example as standalone SPARQL to paste: the stored query, its parameter bound by VALUES."""
    import pyoxigraph as ox

    from kapgraph.binding import inject_values
    from kapgraph.catalog import Catalog

    name, param, iri = EXAMPLE
    text = "\n".join(line for line in Catalog().get(name).text.splitlines() if not line.startswith("#"))
    return inject_values(text, {param: ox.NamedNode(iri)}).strip()


# --- the SERVICE policy ----------------------------------------------------------------------------


def uses_service(query: str) -> bool:
    """Whether Oxigraph may read the ``SERVICE`` keyword in *query*: errs on the side of yes.

    See :func:`kapgraph.querytext.may_use_service`: yes when any reading of the text has the word in
    code (a ``<`` is taken both as less-than and as an IRI start), wherever it stands.
    """
    return may_use_service(query)


def query_text(target: str, content_type: str, body: bytes) -> str | None:
    """The SPARQL query a request carries (``?query=``, a form field, or an ``application/sparql-query`` body)."""
    texts = parse_qs(urlsplit(target).query).get("query", [])
    media = content_type.split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        texts += parse_qs(body.decode("utf-8", "replace")).get("query", [])
    elif media == "application/sparql-query":
        texts.append(body.decode("utf-8", "replace"))
    return "\n".join(texts) if texts else None


def _handler(upstream: tuple[str, int], timeout: float, site: Path | None = None) -> type[BaseHTTPRequestHandler]:
    """The proxy's request handler; *site* is the real path of the site folder served below ``/kap/``."""
    site_rules = siteserve.rules()

    class Proxy(BaseHTTPRequestHandler):
        server_version = "kapgraph-serve"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no request log
            pass

        def _answer(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            for key, val in (headers or {}).items():
                self.send_header(key, val)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _site(self, path: str) -> None:
            """Answer a request for a site path from the site folder (GET and HEAD only)."""
            if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length") not in (None, "0"):
                self.close_connection = True  # a body is never read here: do not parse it as the next request
            if self.command not in ("GET", "HEAD"):
                self._answer(405, "the site answers GET and HEAD only\n", {"Allow": "GET, HEAD"})
                return
            if site is None:
                self._answer(404, siteserve.NOT_FOUND + "\n")
                return
            got = siteserve.answer(site, path, self.headers.get("Accept"), site_rules=site_rules)
            if got.file is None:
                text = got.text or f"See Other: {got.location}"
                headers = {**got.headers, **({"Location": got.location} if got.location else {})}
                self._answer(got.status, text + "\n", headers)
                return
            try:
                fd, size = siteserve.open_file(got.file)
            except OSError:
                self._answer(404, siteserve.NOT_FOUND + "\n", got.headers)
                return
            with open(fd, "rb") as handle:
                self.send_response(200)
                for key, val in got.headers.items():
                    self.send_header(key, val)
                self.send_header("Content-Length", str(size))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                if self.command != "HEAD":
                    shutil.copyfileobj(handle, self.wfile, 1 << 16)

        def _route(self) -> None:
            path = siteserve.site_path(self.path)
            if path is None:
                self._forward()
            else:
                self._site(path)

        def _forward(self) -> None:
            if self.headers.get("Transfer-Encoding"):
                self._answer(411, "send the request body with a Content-Length")
                return
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit():  # int() would raise (a traceback) or, for -1, read until the client closes
                self._answer(400, "Content-Length is not a number of bytes")
                self.close_connection = True
                return
            body = self.rfile.read(int(length))
            query = query_text(self.path, self.headers.get("Content-Type") or "", body)
            if query is not None and uses_service(query):
                self._answer(403, "SERVICE is disabled on this server: kapgraph serve does not fetch other endpoints")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection = http.client.HTTPConnection(*upstream, timeout=timeout + 30)
            try:
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except OSError as exc:
                self._answer(502, f"the Oxigraph server did not answer: {exc}")
                return
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP | {"content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _route

    return Proxy


# --- the server ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer ('curl ... | head' has what it wanted) is not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(child: subprocess.Popen[bytes], port: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err = (child.stderr.read() if child.stderr else b"").decode("utf-8", "replace").strip()
            raise EngineError(f"the Oxigraph server stopped at start (exit {child.returncode}): {err[:300]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EngineError(f"the Oxigraph server did not listen within {limit:.0f} s")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def serve(
    data: Sequence[Path | str] | None = None,
    *,
    store: Path | str | None = None,
    host: str = "127.0.0.1",
    port: int = 7878,
    timeout: float = DEFAULT_TIMEOUT,
    site: Path | str | None = None,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> None:
    """Serve the graph read-only until interrupted (Ctrl-C or SIGTERM), then stop the Oxigraph server.

    The documentation site is served below ``/kap/``: from *site* (a folder built by ``kapgraph docs``)
    if given, else built at start into a private temporary folder (removed at stop)."""
    import tempfile

    from kapgraph import store as stores
    from kapgraph.loading import sources

    binary = find_oxigraph()
    given = siteserve.check_site(Path(site)) if site is not None else None
    files = sources(data)
    folder = store or os.environ.get("KAPGRAPH_STORE") or stores.default_cache(files)
    opened = stores.StoreDir(folder).open(files)  # holds the build's in-use lock until closed
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    _Server.address_family = family
    upstream_port = _free_port()
    try:
        # the site documents the bundled graph: built at start for it only (other data: --site DIR, or none)
        private = None if given or data else Path(tempfile.mkdtemp(prefix="kapgraph-site-")).resolve()  # mode 0700
    except OSError as exc:
        opened.close()
        raise StoreError(f"cannot create a temporary folder for the site: {exc.strerror or exc}") from None
    # bound now (a busy port fails at once), listening only once the site and Oxigraph are ready
    proxy = _Server((host, port), _handler(("127.0.0.1", upstream_port), timeout, given or private), False)
    try:
        proxy.server_bind()
    except OSError as exc:
        proxy.server_close()
        opened.close()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        raise StoreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    command = [binary, "serve-read-only", "--location", str(opened.path), "--bind", f"127.0.0.1:{upstream_port}",
               "--union-default-graph", "--timeout-s", f"{max(1, round(timeout))}"]  # fmt: skip
    previous = signal.signal(signal.SIGTERM, _interrupt)
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True, preexec_fn=_die_with_parent)  # fmt: skip
    # a session of its own: Ctrl-C reaches kapgraph, which stops it; killed with kapgraph (Linux)
    worker: threading.Thread | None = None
    try:
        started = time.perf_counter()
        if private is not None:  # while the Oxigraph server starts
            _build_site(private, opened, files)
            where = f"built in {time.perf_counter() - started:.1f} s into a temporary folder"
        elif given is not None:
            where = f"from {given}"
        else:
            where = ""
        _wait_listening(child, upstream_port)
        proxy.server_activate()
        shown = f"[{host}]" if ":" in host else host
        base = f"http://{shown}:{proxy.server_address[1]}"
        exposed = exposure_warning(host)
        if exposed:
            warn(exposed)
        triples = opened.manifest.triples
        # one write, composed first: a Ctrl-C right after start-up never cuts the banner in half
        echo(
            f"Serving {triples:,} triples from {opened.path} (read-only, query time limit {timeout:g} s)\n"
            f"Query page: {base}/\n"
            f"Endpoint:   {base}/query   (kapgraph query NAME --endpoint {base}/query)\n"
            + (
                f"Site:       {base}{siteserve.MOUNT}   (the IRIs https://w3id.org/kap/...; {where})\n"
                if where
                else "Site:       none with --data (the documentation site describes the bundled graph; "
                "--site DIR serves one built by kapgraph docs)\n"
            )
            + f"Example query to paste ({EXAMPLE[0]}, {EXAMPLE[1]}=PTSD):\n{example_query()}\n"
            "Press Ctrl-C to stop."
        )
        worker = threading.Thread(target=proxy.serve_forever, daemon=True)
        worker.start()
        while worker.is_alive():
            if child.poll() is not None:
                raise EngineError(f"the Oxigraph server stopped unexpectedly (exit {child.returncode})")
            worker.join(0.5)
    except KeyboardInterrupt:
        echo("Stopped.")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker is not None:
            proxy.shutdown()
        proxy.server_close()
        _stop(child)
        opened.close()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _build_site(out: Path, opened: Any, files: Any) -> None:
    """Build the documentation site of the bundled graph into *out* from the store being served."""
    from kapgraph.backends.oxigraph import OxigraphEngine
    from kapgraph.site import build

    engine = OxigraphEngine(opened.store, files, triples=opened.manifest.triples, location=opened.path)
    build(out, engine)


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when kapgraph dies, even by SIGKILL (no orphan server)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
