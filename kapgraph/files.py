"""Writing output files atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kapgraph.errors import KapgraphError


def write_atomically(out: Path, write: Callable[[str], object]) -> None:
    """Call ``write(temp_path)`` on a new file beside *out*, then move it onto *out*.

    The temporary file is created with mode 0o666 so the umask decides the final permissions
    (``tempfile.mkstemp`` would leave the file readable by its owner only).
    """
    import secrets  # here: a cold query that writes nothing does not import it

    tmp = str(out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise KapgraphError(f"{out}: cannot write: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
