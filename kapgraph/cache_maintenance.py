"""What kapgraph's cache folder holds, and clearing it (``kapgraph cache info`` / ``kapgraph cache clear``).

The cache (:mod:`kapgraph.cache`) is never pruned by itself: an automatic store of 10,000 studies
takes about 2 GB, and each set of inputs gets one. Clearing never removes what a running process
uses: an on-disk store whose build is open (its ``<key>.inuse`` lock is held) or being built
(``build.lock``) is kept and reported as in use. A cleared store keeps its empty folder and its
``build.lock``, which a process may be waiting on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kapgraph.cache import cache_root
from kapgraph.errors import KapgraphError

#: the parts of the cache folder, as kapgraph.cache describes them
PARTS = ("stores", "inferred", "loaded", "headers")


@dataclass
class Part:
    name: str
    entries: int = 0
    bytes: int = 0


@dataclass
class Cleared:
    removed: dict[str, int] = field(default_factory=dict)
    freed: int = 0
    in_use: list[Path] = field(default_factory=list)
    #: what could not be removed, and why (the others are removed all the same)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _is_folder(path: Path) -> bool:
    """A folder itself: a symbolic link is an entry of its own, never followed out of the cache."""
    return path.is_dir() and not path.is_symlink()


def _size(path: Path) -> int:
    if not _is_folder(path):
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _entries(part: str) -> list[Path]:
    folder = cache_root() / part
    try:
        children = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KapgraphError(f"{folder}: cannot read the cache folder: {exc.strerror or exc}") from None
    if part == "stores":  # a store folder counts while it holds a manifest or a build
        return [c for c in children if not _is_folder(c) or not _only_lock(c)]
    return [c for c in children if not c.name.startswith(".")]  # not a temporary file being written


def _only_lock(folder: Path) -> bool:
    """Whether a store folder holds nothing but its build lock (a cleared store); False if unreadable."""
    try:
        return all(p.name == "build.lock" for p in folder.iterdir())
    except OSError:
        return False


def usage() -> list[Part]:
    """Each part of the cache: how many entries and how many bytes."""
    parts = []
    for name in PARTS:
        part = Part(name)
        for entry in _entries(name):
            with contextlib.suppress(OSError):
                part.bytes += _size(entry)
                part.entries += 1
        parts.append(part)
    return parts


def clear(parts: tuple[str, ...] = PARTS, older_than_days: float | None = None) -> Cleared:
    """Remove the entries of *parts* (those written more than *older_than_days* ago, if given)."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise KapgraphError(f"unknown cache part {unknown[0]!r}; use one of {', '.join(PARTS)}")
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    done = Cleared()
    for part in dict.fromkeys(parts):  # a part named twice is cleared (and counted) once
        removed = 0
        for entry in _entries(part):
            try:
                if cutoff is not None and _written(entry) > cutoff:
                    continue
                size = _size(entry)
                if not _is_folder(entry):  # a file, or a link (removed itself, its target kept)
                    entry.unlink(missing_ok=True)
                elif part != "stores":
                    shutil.rmtree(entry)
                elif not _clear_store(entry):
                    done.in_use.append(entry)
                    continue
            except OSError as exc:
                done.failed.append((entry, exc.strerror or str(exc)))
                continue
            removed += 1
            done.freed += size
        done.removed[part] = removed
    return done


def _written(entry: Path) -> float:
    """When the entry was last written; for a store, last built or opened (its manifest, its in-use locks)."""
    if not _is_folder(entry):
        return entry.lstat().st_mtime
    times = [p.stat().st_mtime for p in entry.iterdir() if p.name == "manifest.json" or p.suffix == ".inuse"]
    return max(times, default=entry.stat().st_mtime)


def _clear_store(folder: Path) -> bool:
    """Remove the store's builds and manifest unless a process builds or uses one (then False)."""
    with _exclusive(folder / "build.lock") as building:
        if building is None:
            return False
        held = []
        try:
            for lock_path in sorted(folder.glob("*.inuse")):
                handle = lock_path.open("ab")
                held.append(handle)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False  # a process has this build open
            # the manifest first: a process that starts now finds no build, and waits for build.lock
            (folder / "manifest.json").unlink(missing_ok=True)
            for child in folder.iterdir():
                if child.name == "build.lock":
                    continue
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        finally:
            for handle in held:
                handle.close()
    return True


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[IO[bytes] | None]:
    """*path* opened and locked exclusively without waiting, or None if another process holds it."""
    with path.open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def human(size: int) -> str:
    """A byte count the way ``du -h`` would say it (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
