"""A persistent on-disk Oxigraph store of the source files, reused while they are unchanged.

A store folder (``--store DIR``, ``KAPGRAPH_STORE``, or the automatic cache) holds::

    DIR/manifest.json     which build is current: the sources' content hashes, versions, counts
    DIR/<key>/            an Oxigraph (RocksDB) store; <key> hashes the sources and the versions
    DIR/<key>.inuse       held with a shared lock by every process that has that build open
    DIR/build.lock        held by the one process building

A command reuses the current build when every source file has the content hash the manifest
records (a file whose size and modification time are unchanged is not read again) and the build's
files are intact; otherwise it rebuilds. A rebuild takes ``build.lock`` (a second process waits,
then reuses what the first built), bulk-loads into ``DIR/.build-*`` beside the current build,
renames it into place and only then replaces ``manifest.json``: a reader sees the old build or the
new one, never half of one. Readers open builds read-only. Old builds are removed once no process
has them open. POSIX only (``fcntl`` locks).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

import kapgraph
from kapgraph.cache import cache_root, file_sha256
from kapgraph.errors import KapgraphError, LoadError, StoreError
from kapgraph.loading import Source, bulk_extend, drop_duplicates, quads
from kapgraph.materialise import RULES_VERSION, materialise

#: bump when the layout of a build changes, so that old builds are not trusted
#: (2: the build holds the inferred graph of kapgraph.materialise)
FORMAT = 2

#: how long a process waits for another one's build before giving up (seconds)
LOCK_TIMEOUT = float(os.environ.get("KAPGRAPH_LOCK_TIMEOUT", "1800"))
MANIFEST = "manifest.json"


@dataclass
class FileRecord:
    path: str
    graph: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class Manifest:
    key: str
    files: list[FileRecord]
    #: asserted triples
    triples: int = 0
    #: triples of the inferred graph (kapgraph.materialise.INFERRED_GRAPH), and the time to infer them
    inferred: int = 0
    inference_seconds: float = 0.0
    #: the whole build (parse, load, inference, compaction), and its asserted part alone (parse, load,
    #: removal of duplicates): the asserted rate is triples / load_seconds
    seconds: float = 0.0
    load_seconds: float = 0.0
    #: size of each file of the build when it was finished (a truncated or missing file means corrupt)
    store_files: dict[str, int] = field(default_factory=dict)
    kapgraph: str = field(default_factory=lambda: kapgraph.__version__)
    pyoxigraph: str = ox.__version__
    format: int = FORMAT

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at *path*, or None if it is missing or not one (then the store is rebuilt)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["files"] = [FileRecord(**f) for f in data["files"]]
            manifest = cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return manifest if manifest.format == FORMAT else None


@dataclass
class OpenedStore:
    """A build opened read-only, with its manifest; holds the build's in-use lock while alive."""

    store: ox.Store
    manifest: Manifest
    path: Path
    built: bool
    _lock: IO[bytes] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def fingerprint(files: list[Source], previous: Manifest | None = None) -> list[FileRecord]:
    """Each source's size, modification time and content hash (reusing *previous* hashes of unchanged files)."""
    known = {(r.path, r.size, r.mtime_ns): r.sha256 for r in previous.files} if previous else {}
    records = []
    for source in files:
        try:
            stat = os.stat(source.path)
            path = os.path.abspath(source.path)
            digest = known.get((path, stat.st_size, stat.st_mtime_ns)) or file_sha256(source.path)
        except OSError as exc:
            raise LoadError(f"{source.path}: cannot read: {exc.strerror or exc}") from None
        records.append(FileRecord(path, source.graph, stat.st_size, stat.st_mtime_ns, digest))
    return records


def build_key(records: list[FileRecord]) -> str:
    """The name of the build for these contents (graph names and hashes, and the versions that wrote it)."""
    lines = [f"{FORMAT} {RULES_VERSION} {kapgraph.__version__} {ox.__version__}\n"]
    lines.extend(f"{record.graph} {record.sha256}\n" for record in records)
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:24]


def default_cache(files: list[Source]) -> Path:
    """The automatic store for *files*: one folder per set of inputs under ``$XDG_CACHE_HOME/kapgraph``."""
    base = cache_root() / "stores"
    inputs = hashlib.sha256("\n".join(sorted(str(s.path.resolve()) for s in files)).encode()).hexdigest()[:16]
    return base / inputs


#: the names of a store folder's entries: builds (their keys), their in-use locks, the build lock,
#: the manifest, and what a build makes while it runs (a staging build, rule scratch, a manifest)
_BUILD = re.compile(r"[0-9a-f]{24}")
_STAGING = re.compile(r"\.build-(?:[0-9a-f]{8}|rules-.+)")
_MANIFEST_TMP = re.compile(r"\.manifest\.json\.[0-9a-f]{8}")


def _is_store_part(name: str) -> bool:
    return (
        name in (MANIFEST, "build.lock")
        or bool(_BUILD.fullmatch(name.removesuffix(".inuse")))
        or bool(_STAGING.fullmatch(name) or _MANIFEST_TMP.fullmatch(name))
    )


def _remove(path: Path) -> None:
    """Remove a build, a staging folder or a damaged entry in its place (a link itself, never its target)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _store_files(path: Path) -> dict[str, int]:
    """The files of a RocksDB build that must not change once it is finished."""
    return {
        p.name: p.stat().st_size
        for p in sorted(path.iterdir())
        if p.suffix == ".sst" or p.name.startswith("MANIFEST-") or p.name == "CURRENT"
    }


class StoreDir:
    """A store folder: finds, checks, builds and opens the build for a list of sources."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def open(
        self,
        files: list[Source],
        *,
        rebuild: bool = False,
        progress: Callable[[Source, int], None] | None = None,
    ) -> OpenedStore:
        """The current build for *files*, built first if it is missing, stale or damaged."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create the store folder: {exc.strerror or exc}") from None
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: not a folder; --store needs a folder for the on-disk store")
        self._check_own_folder()
        records = fingerprint(files, Manifest.read(self.root / MANIFEST))
        key = build_key(records)
        if not rebuild:
            opened = self._open_current(key, built=False)
            if opened is not None:
                return opened
        with self._build_lock():
            # another process may have built it while this one waited for the lock
            opened = None if rebuild else self._open_current(key, built=True)
            if opened is None:
                self._build(files, records, key, progress)
                opened = self._open_current(key, built=True)
        if opened is None:
            raise StoreError(f"{self.root}: the store was built but cannot be opened; delete the folder and retry")
        self._collect_garbage(key)
        return opened

    def _check_own_folder(self) -> None:
        """StoreError if the folder holds anything a store does not: kapgraph deletes old builds in
        it, so it must never be a folder of other files (``--store .`` in a project, or the data)."""
        try:
            names = os.listdir(self.root)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot read the store folder: {exc.strerror or exc}") from None
        foreign = sorted(n for n in names if not _is_store_part(n))
        if foreign:
            raise StoreError(
                f"{self.root}: holds {foreign[0]!r}, which is not part of a kapgraph store; --store needs a "
                "folder of its own (new, empty, or one kapgraph made), since it deletes old builds there"
            )

    # --- reading ----------------------------------------------------------------------------

    def _open_current(self, key: str, *, built: bool) -> OpenedStore | None:
        manifest = Manifest.read(self.root / MANIFEST)
        if manifest is None or manifest.key != key:
            return None
        path = self.root / key
        lock = self._lock_in_use(key)
        try:
            if not path.is_dir() or _store_files(path) != manifest.store_files:
                raise OSError("damaged")
            store = ox.Store.read_only(str(path))
        except (OSError, RuntimeError):  # RuntimeError: RocksDB found a corrupt file (a checksum mismatch)
            if lock is not None:
                lock.close()
            return None
        return OpenedStore(store, manifest, path, built, lock)

    def _lock_in_use(self, key: str) -> IO[bytes] | None:
        try:
            handle = (self.root / f"{key}.inuse").open("ab")
        except OSError:  # a read-only store folder: nobody can remove the build under us either
            return None
        fcntl.flock(handle, fcntl.LOCK_SH)
        with contextlib.suppress(OSError):  # when the build was last used (kapgraph cache clear --older-than)
            os.utime(handle.fileno())
        return handle

    # --- building ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _build_lock(self) -> Any:
        path = self.root / "build.lock"
        try:
            handle = path.open("ab")
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the build lock: {exc.strerror or exc}") from None
        deadline = time.monotonic() + LOCK_TIMEOUT
        with handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"{path}: another kapgraph process has been building this store for more than "
                            f"{LOCK_TIMEOUT:.0f} s; wait for it, or stop it and retry"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _build(
        self,
        files: list[Source],
        records: list[FileRecord],
        key: str,
        progress: Callable[[Source, int], None] | None,
    ) -> None:
        for stale in self.root.iterdir():  # left by a process that died while holding the lock
            if _STAGING.fullmatch(stale.name) or _MANIFEST_TMP.fullmatch(stale.name):
                _remove(stale)
        staging = self.root / f".build-{secrets.token_hex(4)}"
        start = time.perf_counter()
        try:
            store = ox.Store(str(staging))
            bulk_extend(store, quads(files, progress))
            drop_duplicates(store, files)
            triples = len(store)
            load_seconds = round(time.perf_counter() - start, 3)
            # its scratch files beside the store, where there is room (and .build-* is cleaned up)
            inferred = materialise(store, scratch=self.root)
            store.flush()
            store.optimize()
            del store  # closes the database before it is moved
            manifest = Manifest(
                key,
                records,
                triples,
                inferred.triples,
                inferred.seconds,
                round(time.perf_counter() - start, 3),
                load_seconds,
                _store_files(staging),
            )
            target = self.root / key
            if target.exists() or target.is_symlink():  # a damaged build (a file or a link where it was)
                _remove(target)
            os.replace(staging, target)
            tmp = self.root / f".{MANIFEST}.{secrets.token_hex(4)}"
            if (self.root / MANIFEST).is_dir():  # damaged: a folder where the manifest was
                _remove(self.root / MANIFEST)
            try:
                tmp.write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
                os.replace(tmp, self.root / MANIFEST)
            finally:
                tmp.unlink(missing_ok=True)
        except KapgraphError:
            raise
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot build the store: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _collect_garbage(self, current: str) -> None:
        """Remove the builds other than *current* that no process has open."""
        for lock_path in self.root.glob("*.inuse"):
            key = lock_path.name.removesuffix(".inuse")
            if key == current or not _BUILD.fullmatch(key):
                continue
            with lock_path.open("ab") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # still open somewhere
                shutil.rmtree(self.root / key, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
        for path in self.root.iterdir():  # builds whose in-use lock file went missing
            orphan = not (self.root / f"{path.name}.inuse").exists()
            if _BUILD.fullmatch(path.name) and path.name != current and orphan:
                _remove(path)
