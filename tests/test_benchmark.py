"""The benchmark runs end to end at a small size (its numbers are printed, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT


def test_benchmark_runs_at_small_n_and_writes_results_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmark = _benchmark_module()
    out, png = tmp_path / "results.json", tmp_path / "results.png"
    # in a process of its own, as it is run: it forks children that open on-disk stores, and a fork
    # of a process that has a RocksDB store open (as this test process may) can hang in the child
    subprocess.run([
        sys.executable, str(ROOT / "benchmarks" / "run.py"),
        "--sizes", "17,20", "--queries", "studies,psychotherapy-before-and-after,studies-by-design", "--repeat", "1",
        "--cli-runs", "1", "--timeout", "60", "--rdflib-max", "20", "--validate-max", "20",
        "--workdir", str(tmp_path / "work"), "--out", str(out), "--plot", str(png),
    ], check=True, timeout=900)  # fmt: skip
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["machine"]["cores"] >= 1
    assert [r["studies"] for r in results["sizes"]] == [17, 20]
    for size in results["sizes"]:
        assert size["load_oxigraph"]["triples"] > 1000 and size["load_oxigraph"]["triples_per_s"] > 0
        assert size["load_rdflib"]["triples"] == size["load_oxigraph"]["triples"]
        for engine in ("oxigraph", "rdflib"):
            timings = size[f"queries_{engine}"]
            assert set(timings) == {"studies", "psychotherapy-before-and-after", "studies-by-design"}
            assert all(t["median_ms"] is not None and t["rows"] >= 1 for t in timings.values()), timings
        assert size["queries_oxigraph"]["studies"]["rows"] == size["studies"]
        assert size["validation"]["violations"] == 0
        assert size["cli"]["median_s"] > 0 and size["cli"]["import_rdflib_s"] > 0
    assert png.read_bytes().startswith(b"\x89PNG")
    # the README's table: one row a size, with the numbers of the run
    capsys.readouterr()
    benchmark.main(["--out", str(out), "--table"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 2 + len(results["sizes"])
    for line, size in zip(printed[2:], results["sizes"], strict=True):
        assert line.startswith(f"| {size['studies']:,} | {size['load_oxigraph']['triples']:,} |")
        assert f"({size['cli']['ratio']}×)" in line


def _benchmark_module() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run as benchmark
    finally:
        sys.path.pop(0)
    return benchmark


def test_a_run_over_its_time_limit_is_reported_as_timeout_and_its_process_stopped() -> None:
    import os
    import time

    benchmark = _benchmark_module()
    status, result = benchmark._in_child(lambda: time.sleep(60), 0.5)
    assert (status, result) == ("timeout", None)
    status, result = benchmark._in_child(lambda: os.getpid(), 30)
    assert status == "ok" and result != os.getpid()  # the work ran in another process
    status, result = benchmark._in_child(lambda: 1 / 0, 30)
    assert status == "error" and "ZeroDivisionError" in result


def test_a_query_over_the_per_run_limit_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import time

    import kapgraph.api

    benchmark = _benchmark_module()
    real = kapgraph.api.run_query

    def slow(name: str, *args: object, **kwargs: object) -> object:
        if name == "studies-by-design":
            time.sleep(60)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kapgraph.api, "run_query", slow)
    from kapgraph.backends import open_engine

    args = argparse.Namespace(timeout=2.0, repeat=2, queries="studies,studies-by-design")
    timings = benchmark._time_queries("oxigraph", lambda: open_engine("oxigraph"), args)
    assert timings["studies-by-design"] == {"median_ms": None, "timeout_s": 2.0, "note": "> 2 s"}
    assert timings["studies"]["rows"] == 17 and timings["studies"]["runs"] == 2
