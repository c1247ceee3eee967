"""The hostile-input suite: every row of cases.toml run as a user would, in a subprocess with a time limit.

Each case gives the input (a setup from setups.py and/or inline files), the command, the expected
exit code and a pattern its message must match. Every case also checks the exit-code contract:
no traceback, no death by a signal, a one-line message on an error, and no file left behind or
changed that the case did not ask to write (in its folder and in the repository's data).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import setups

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
#: no case may run longer than this (a hang is a failure, not a wait)
LIMIT = 120


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        try:
            st = path.lstat()
        except OSError:
            continue
        if path.is_symlink() or not path.is_file():
            out[rel] = (st.st_mode, "")
        else:
            try:
                out[rel] = (st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
            except OSError:  # a file made unreadable on purpose
                out[rel] = (st.st_mode, "unreadable")
    return out


def _repo_snapshot() -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for folder in ("data", "ontology", "shapes", "queries")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_case(case: dict[str, Any], tmp_path: Path) -> None:
    if case.get("needs_non_root") and os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("root reads any file whatever its mode, and setpriv (util-linux) is not here to drop that power")
    work = tmp_path / "work"
    work.mkdir()
    values = {"tmp": str(work), "repo": str(ROOT), "badbyte": "\udcff"}  # argv byte 0xff, not UTF-8
    for name, text in case.get("files", {}).items():
        (work / name).write_text(_fill(text, values), encoding="utf-8")
    try:
        if "setup" in case:
            values.update(getattr(setups, case["setup"])(work, **case.get("setup_args", {})))
        before, repo_before = _snapshot(work), _repo_snapshot()
        result = _run(case, work, tmp_path, values)
        after = _snapshot(work)
    finally:
        setups.close_all()
        for path in work.rglob("*"):  # unreadable things made on purpose: readable again for cleanup
            if not path.is_symlink() and (path.is_dir() or path.is_file()) and not path.stat().st_mode & 0o777:
                path.chmod(0o755)
    code, out, err = result
    assert code >= 0, f"killed by signal {-code}; stderr: {err[-500:]}"
    assert "Traceback" not in err, err[-2000:]
    assert code == case["exit"], f"exit {code}, expected {case['exit']}\nstderr: {err[-1000:]}\nstdout: {out[:500]}"
    if "stderr" in case:
        assert re.search(_fill(case["stderr"], values), err, re.S), (
            f"stderr does not match {case['stderr']!r}: {err[-1000:]}"
        )
    if "stdout" in case:
        assert re.search(case["stdout"], out, re.S), f"stdout does not match {case['stdout']!r}: {out[:1000]}"
    if code in (2, 3):  # one message line (click's usage errors add their usage and help hints)
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("Usage:", "Try "))]
        assert len(lines) == 1, f"expected a one-line message, got: {err[-1000:]}"
    allowed = set(case.get("writes", []))
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)} - allowed
    assert not changed, f"files left behind or changed: {sorted(changed)}"
    for name in case.get("kept", []):  # a device or FIFO must stay what it was
        assert not Path(work / name).is_file() or Path(work / name).is_symlink(), f"{name} became a regular file"
    assert _repo_snapshot() == repo_before, "the repository's data changed"


def _wait_for_the_moment(
    case: dict[str, Any], process: subprocess.Popen[bytes], work: Path, values: dict[str, str]
) -> None:
    """Wait ``signal_after`` seconds, then (with ``signal_when``, a glob) until a matching path exists.

    ``signal_when`` ties the signal to a moment of the command's own (its temporary file exists), not
    to a guess of how long it runs, which a fast machine beats and a slow one overshoots."""
    time.sleep(case.get("signal_after", 0.0 if "signal_when" in case else 4.0))
    if "signal_when" not in case:
        return
    pattern = _fill(case["signal_when"], values)
    deadline = time.monotonic() + LIMIT
    while process.poll() is None and time.monotonic() < deadline:
        root, relative = (Path("/"), pattern.lstrip("/")) if pattern.startswith("/") else (work, pattern)
        if any(root.glob(relative)):
            return
        time.sleep(0.01)
    pytest.fail(f"{pattern} never appeared while the command ran")


def _run(case: dict[str, Any], work: Path, tmp_path: Path, values: dict[str, str]) -> tuple[int, str, str]:
    args = [_fill(a, values) for a in case["args"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPGRAPH_")}
    env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "200"})
    env.update({k: _fill(v, values) for k, v in case.get("env", {}).items()})
    command = [sys.executable, "-m", "kapgraph", *args]
    if case.get("needs_non_root") and os.geteuid() == 0:
        # root reads any file whatever its mode: run without the capabilities that let it, so the
        # permission checks apply as they do for any user
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    stdout_target = case.get("stdout_to")
    if case.get("pipe_head"):
        shell = " ".join(_quote(a) for a in command) + " | head -1; exit ${PIPESTATUS[0]}"
        done = subprocess.run(["bash", "-c", shell], cwd=work, env=env, capture_output=True, timeout=LIMIT)
        return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    stdout: Any = subprocess.PIPE
    if stdout_target:
        stdout = open(work / _fill(stdout_target, values), "wb")  # noqa: SIM115  # a device: closed below
    try:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=stdout, stderr=subprocess.PIPE)
        if "signal" in case:
            _wait_for_the_moment(case, process, work, values)
            if process.poll() is not None:  # a signal that finds the command done tests nothing
                pytest.fail(
                    f"the command ended (exit {process.returncode}) before SIG{case['signal']} was sent: "
                    "give the case more work (a larger setup) or a signal_when"
                )
            process.send_signal(getattr(signal, "SIG" + case["signal"]))
            try:  # "within about a second": a generous bound, so a loaded machine does not fail it
                out, err = process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                pytest.fail(f"still running 15 s after SIG{case['signal']}")
        else:
            try:
                out, err = process.communicate(timeout=LIMIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                pytest.fail(f"still running after {LIMIT} s")
    finally:
        if stdout_target:
            stdout.close()
    return process.returncode, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
