"""The benchmark runs end to end at a small size (its numbers are printed, never asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_benchmark_runs_at_small_n_and_writes_results_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run as benchmark
    finally:
        sys.path.pop(0)
    out, png = tmp_path / "results.json", tmp_path / "results.png"
    benchmark.main([
        "--sizes", "17,20", "--queries", "studies,psychotherapy-before-and-after,studies-by-design", "--repeat", "1",
        "--cli-runs", "1", "--timeout", "60", "--rdflib-max", "20", "--validate-max", "20",
        "--workdir", str(tmp_path / "work"), "--out", str(out), "--plot", str(png),
    ])  # fmt: skip
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
