"""Helpers of the endpoint tests: free loopback ports, ``kapgraph serve`` and ``oxigraph serve`` processes,
and a scripted HTTP listener that stands in for a misbehaving server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

OXIGRAPH = Path(sys.executable).parent / "oxigraph"


def die_with_parent() -> None:
    """In a server's child process before it runs: killed when the test process dies, even by SIGKILL
    (a CI time limit), so that no server outlives the session (Linux's PR_SET_PDEATHSIG; elsewhere nothing)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[Any], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {limit} s")


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGINT) -> int:
    """Signal the process group, wait, kill if it lingers; the exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@contextlib.contextmanager
def oxigraph_server(location: Path, *files: Path, read_only: bool = False) -> Iterator[str]:
    """``oxigraph serve`` (``serve-read-only``) on *location*, loaded with *files* first, on a free loopback
    port; yields its base URL (``/query``, ``/store``, ``/update`` below it) and stops it at the end."""
    import pytest

    if files:
        loaded = subprocess.run(
            [str(OXIGRAPH), "load", "--location", str(location), "--file", *map(str, files)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if loaded.returncode != 0:
            pytest.fail(f"oxigraph load failed (exit {loaded.returncode}): {loaded.stderr.strip()}")
    port = free_port()
    command = "serve-read-only" if read_only else "serve"
    process = subprocess.Popen(
        [str(OXIGRAPH), command, "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
    )  # fmt: skip
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def start_serve(store: Path, port: int, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kapgraph", "serve", "--store", str(store), "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, **(env or {})}, preexec_fn=die_with_parent,
    )  # fmt: skip
    try:
        wait_port(port, process)
    except RuntimeError:
        stop(process)
        raise
    return process


def children(pid: int) -> list[int]:
    """The direct child processes of *pid* (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


class Listener:
    """An HTTP server on a free loopback port answering every request with ``respond(handler)``;
    records each request (method, path, headers, body)."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.command, self.path, dict(self.headers.items()), body))
                respond(self)

            do_GET = do_POST = do_PUT = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def answer(status: int, body: bytes, media: str = "text/plain") -> Callable[[BaseHTTPRequestHandler], None]:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", media)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@contextlib.contextmanager
def silent_socket() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers; its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


class CountingProxy:
    """A loopback HTTP proxy in front of a SPARQL endpoint that counts what the endpoint sends back.

    Every request is forwarded to *upstream* (same method, path, query string, body and content
    headers); for each, :attr:`requests` records the SPARQL query it carried and the number of
    solutions in the answer (read with Oxigraph's result parsers; -1 if the answer is not SPARQL results).
    """

    _FORMATS: ClassVar[dict[str, str]] = {
        "application/sparql-results+json": "JSON", "application/json": "JSON",
        "application/sparql-results+xml": "XML", "application/xml": "XML",
        "text/tab-separated-values": "TSV", "text/csv": "CSV",
    }  # fmt: skip

    def __init__(self, upstream: str):
        import urllib.parse
        import urllib.request

        self.upstream = upstream.rstrip("/")
        self.requests: list[tuple[str, int]] = []
        outer = self
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                import urllib.error

                import pyoxigraph as ox

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query_string = self.path.partition("?")[2]
                form = urllib.parse.parse_qs(query_string)
                if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form.update(urllib.parse.parse_qs(body.decode("utf-8")))
                elif body:
                    form.setdefault("query", [body.decode("utf-8")])
                sparql = (form.get("query") or [""])[0]
                headers = {k: v for k in ("Content-Type", "Accept") if (v := self.headers.get(k))}
                request = urllib.request.Request(
                    outer.upstream + self.path, data=body or None, method=self.command, headers=headers
                )
                try:
                    with opener.open(request, timeout=60) as response:
                        status, media, answer = (
                            response.status,
                            response.headers.get("Content-Type", ""),
                            response.read(),
                        )
                except urllib.error.HTTPError as exc:
                    status, media, answer = exc.code, exc.headers.get("Content-Type", ""), exc.read()
                kind = outer._FORMATS.get(media.split(";")[0].strip().lower())
                rows = -1
                if status == 200 and kind:
                    result = ox.parse_query_results(answer, format=getattr(ox.QueryResultsFormat, kind))
                    rows = 0 if isinstance(result, ox.QueryBoolean) else sum(1 for _ in result)
                outer.requests.append((sparql, rows))
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def rows(self) -> int:
        """The solutions sent back over all requests so far."""
        return sum(max(n, 0) for _, n in self.requests)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
