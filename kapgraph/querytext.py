"""Reading SPARQL text from the command line and from files: UTF-8, no byte-order mark."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from kapgraph.errors import KapgraphError

_BOMS = (
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class QueryTextError(KapgraphError):
    """A query file or argument is not UTF-8 text (exit 2)."""


def read_query_file(path: Path) -> str:
    """The text of a query file; QueryTextError if it is unreadable, has a BOM or is not UTF-8."""
    raw = read_capped(path)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise QueryTextError(
                f"{path}: starts with a {name} byte-order mark; save the query as UTF-8 without a byte-order mark"
            )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QueryTextError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the query as UTF-8"
        ) from None


def read_capped(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_QUERY_BYTES; QueryTextError otherwise.

    The file is checked before it is opened (opening a FIFO without a writer blocks; a device such
    as /dev/zero never ends), and read with a cap, so nothing is ever read without bound.
    """
    from kapgraph.limits import MAX_QUERY_BYTES

    cap = f"{MAX_QUERY_BYTES // (1024 * 1024)} MiB"
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
            raise QueryTextError(f"{path}: cannot read the query: {kind}; give a regular file")
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not hang
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # replaced since the check
                raise QueryTextError(f"{path}: cannot read the query: not a regular file; give a regular file")
            raw = handle.read(MAX_QUERY_BYTES + 1)
    except OSError as exc:
        raise QueryTextError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_QUERY_BYTES:
        raise QueryTextError(f"{path}: the query is longer than the limit of {cap}")
    return raw


def query_argument(text: str) -> str:
    """A query given on the command line; invalid UTF-8 from the shell arrives as surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryTextError("the QUERY argument is not valid UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise QueryTextError("the QUERY argument starts with a byte-order mark (U+FEFF); remove it")
    return text
