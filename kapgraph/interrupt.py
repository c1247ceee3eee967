"""Engine evaluations that Ctrl-C stops at once and that keep a time limit.

pyoxigraph evaluates a query in Rust without running Python code, so a SIGINT handler would only
run once the evaluation ends (it was seen still running 21 s after Ctrl-C). pyoxigraph releases the
GIL while it evaluates, so :func:`evaluate` runs the evaluation in a daemon worker thread and the
main thread waits on it in short steps: Ctrl-C (KeyboardInterrupt) and the time limit are noticed
within a fraction of a second. The worker is abandoned, not stopped; the CLI exits right after.

The time limit is set for a block of code with :func:`time_limit` (the ``--timeout`` option of
``query`` and ``sparql``). A query with a ``SERVICE`` call always has one
(:func:`service_timeout` seconds unless a shorter one is set), since Oxigraph's HTTP client waits
forever for an endpoint that never answers.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from kapgraph.errors import KapgraphError, QueryTimeout

T = TypeVar("T")

#: the default time limit (seconds) of a query that calls a remote endpoint with SERVICE
#: (``$KAPGRAPH_SERVICE_TIMEOUT`` overrides it; read by :func:`service_timeout` when it is needed)
SERVICE_TIMEOUT = 60.0
SERVICE_TIMEOUT_VARIABLE = "KAPGRAPH_SERVICE_TIMEOUT"
#: the stack of the evaluation thread: the engines' parsers recurse (see kapgraph.limits)
STACK_SIZE = 64 * 1024 * 1024

_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("kapgraph_time_limit", default=None)
_SERVICE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?<([^>]*)>", re.I)


class BadTimeLimit(KapgraphError):
    """A time limit that is not a finite number of seconds above 0 (exit 2)."""


def seconds(text: str, where: str) -> float:
    """*text* as a time limit: a finite number of seconds above 0, else BadTimeLimit naming *where*."""
    try:
        value = float(text)
    except ValueError:
        raise BadTimeLimit(f"{where}: {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise BadTimeLimit(f"{where}: {text!r} is not a time limit; give a finite number of seconds above 0")
    return value


def service_timeout() -> float:
    """The time limit of a SERVICE call: ``$KAPGRAPH_SERVICE_TIMEOUT`` (checked here, when it is used) or 60 s."""
    text = os.environ.get(SERVICE_TIMEOUT_VARIABLE)
    if text is None:
        return SERVICE_TIMEOUT
    return seconds(text, f"the environment variable {SERVICE_TIMEOUT_VARIABLE}")


class Terminated(BaseException):
    """The process received SIGTERM (raised in the main thread so that ``finally`` blocks run)."""


def install_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated`, so temporary files are removed on the way out."""

    def handler(_signum: int, _frame: object) -> None:
        raise Terminated()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Every :func:`evaluate` inside the block stops after *seconds* with QueryTimeout (None: no limit)."""
    token = _LIMIT.set(seconds)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def current_limit() -> float | None:
    """The time limit (seconds) that :func:`time_limit` set for the current block, or None."""
    return _LIMIT.get()


def services(sparql: str) -> list[str]:
    """The endpoint IRIs a query calls with ``SERVICE <...>``."""
    return _SERVICE.findall(sparql)


def evaluate(run: Callable[[], T], sparql: str = "", engine: str = "the engine") -> T:
    """``run()`` in a worker thread, stopped by Ctrl-C and by the current time limit."""
    limit = _LIMIT.get()
    endpoints = services(sparql)
    if endpoints:
        service = service_timeout()
        if limit is None or limit > service:
            limit = service
    outcome: list[object] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="kapgraph-evaluation", daemon=True)
    previous = threading.stack_size(STACK_SIZE)  # applies to the threads started while it is set
    try:
        worker.start()
    finally:
        threading.stack_size(previous)
    deadline = None if limit is None else time.monotonic() + limit
    while worker.is_alive():
        step = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
        worker.join(step)
        if worker.is_alive() and deadline is not None and time.monotonic() >= deadline:
            where = f" (SERVICE {', '.join(endpoints)})" if endpoints else ""
            raise QueryTimeout(f"{engine} did not finish the query within the time limit of {limit:g} s{where}")
    if failure:
        raise failure[0]
    return outcome[0]  # type: ignore[return-value]
