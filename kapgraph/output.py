"""Writing a command's output without ever destroying what it writes to.

* ``-`` (or no target) is standard output.
* A regular file (or a new path) is replaced atomically: a temporary file beside it, then a rename.
  A symbolic link is followed first, so the link stays and its target is replaced.
* Anything else (a character device such as ``/dev/null``, a FIFO, a socket) is written directly:
  renaming over it would replace the device with a regular file.

A failed write (disk full, a closed pipe, no permission) raises :class:`OutputError` with one line
naming the target; the temporary file is removed, also when the process is stopped by SIGINT or
SIGTERM (see :mod:`kapgraph.interrupt`, which turns SIGTERM into an exception so ``finally`` runs).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

from kapgraph.errors import KapgraphError


class OutputError(KapgraphError):
    """The output could not be written (exit 2); nothing half-written is left behind."""


class ReaderGone(Exception):
    """Standard output's reader closed the pipe (``kapgraph list | head -1``): not an error."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def is_stdout(target: Path | str | None) -> bool:
    return target is None or str(target) == "-"


def write_stdout(data: bytes | str) -> None:
    """Write *data* to standard output and flush it; ReaderGone if the pipe closed, OutputError on failure."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise ReaderGone() from None
    except OSError as exc:
        raise OutputError(f"standard output: cannot write: {_reason(exc)}") from None


def write_output(target: Path | str | None, data: bytes | str) -> str:
    """Write *data* to *target* (see the module docstring); return how the target was named."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if is_stdout(target):
        write_stdout(raw)
        return "standard output"
    assert target is not None
    real = os.path.realpath(target)  # follows every symbolic link, also a chain of them
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{target}: cannot write: {_reason(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{target}: is a folder; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        _write_special(str(target), real, raw, mode)
    else:
        _write_atomically(str(target), real, raw)
    return str(target)


def _write_special(shown: str, real: str, raw: bytes, mode: int) -> None:
    flags = os.O_WRONLY
    if stat.S_ISFIFO(mode):
        flags |= os.O_NONBLOCK  # fail at once when nobody reads the FIFO, instead of hanging
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputError(f"{shown}: cannot write: the FIFO has no reader") from None
        raise OutputError(f"{shown}: cannot write: {_reason(exc)}") from None
    try:
        if stat.S_ISFIFO(mode):
            os.set_blocking(fd, True)
        view = memoryview(raw)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write: {_reason(exc)}") from None
    finally:
        os.close(fd)


def _write_atomically(shown: str, real: str, raw: bytes) -> None:
    import secrets  # here: the query path writes to standard output only

    folder, name = os.path.split(real)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        # mode 0o666: the umask decides the permissions, as for any new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.exists(real):
            os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))  # replacing keeps the file's permissions
        os.replace(tmp, real)
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write: {_reason(exc)}") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
