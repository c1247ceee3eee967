"""A command stopped by SIGTERM or Ctrl-C in the middle of writing its output leaves nothing behind.

The write is held at the one moment that matters — the temporary file beside the target exists and holds
part of the output, the rename has not happened — by replacing ``os.fsync`` in the child process with a
function that says so on standard error and waits. The signal then arrives mid-write: the exit code must be
the documented one, the target must keep its old content and no temporary file may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import os, sys, time

    def held_fsync(fd):
        sys.stderr.write("HELD %d\\n" % os.fstat(fd).st_size)
        sys.stderr.flush()
        time.sleep(60)

    os.fsync = held_fsync
    sys.argv = ["kapgraph", "export", "--format", "turtle", "--output", sys.argv[1]]
    from kapgraph.cli import main
    main()
    """
)


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_mid_write_leaves_the_target_as_it_was(tmp_path: Path, signum: int, code: int, word: str) -> None:
    target = tmp_path / "graph.ttl"
    target.write_text("old content\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPGRAPH_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target)], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()  # blocks until the write is held (or the child ends)
        assert line.startswith("HELD "), f"the export never reached its write: {line!r}"
        assert int(line.split()[1]) > 0, "the temporary file should hold part of the output"
        held = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert held, "a temporary file should exist while the write is held"
        child.send_signal(signum)
        _out, err = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == code, err
    assert f"kapgraph: {word}" in err
    assert "Traceback" not in err
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["graph.ttl"]
