"""kapgraph's cache folder, ``$XDG_CACHE_HOME/kapgraph`` (default ``~/.cache/kapgraph``).

It holds what costs a cold command more to compute than to read back, each entry named by a hash
of everything it depends on, so that changed inputs never meet a stale entry:

- ``stores/``: the automatic on-disk stores of large inputs (:mod:`kapgraph.store`);
- ``inferred/``: the inferred graph of small inputs (:func:`kapgraph.materialise.materialise_cached`);
- ``headers/``: the parsed YAML of the stored queries' headers (:mod:`kapgraph.catalog`).

A cache that cannot be read is recomputed and one that cannot be written is not kept: either way
only time is lost. This module is on every query's path: it imports nothing costly.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kapgraph.errors import KapgraphError


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/kapgraph`` (default ``~/.cache/kapgraph``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kapgraph"


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes, as hex (read in chunks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def keep(path: Path, data: bytes) -> None:
    """Write the cache entry *path* atomically (a reader sees all of it or none); ignored if it cannot be."""
    from kapgraph.files import write_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))
    except (OSError, KapgraphError):
        pass  # a read-only cache folder only costs the time to compute it again next time
