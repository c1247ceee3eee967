"""kapgraph.figures: the review's Figure 2, Figure 3, Table 1 and Table 2 regenerated from the graph."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kapgraph.api import run_query
from kapgraph.backends import Engine
from kapgraph.errors import KapgraphError
from kapgraph.figures import FIGURES, markdown_table, render_figure
from kapgraph.results import Term, to_python, value

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _count(record: dict[str, Term], key: str) -> int:
    return int(to_python(record[key]))  # type: ignore[call-overload]


@pytest.mark.parametrize("name", FIGURES)
def test_png(oxigraph: Engine, tmp_path: Path, name: str) -> None:
    from matplotlib.image import imread

    out = render_figure(name, tmp_path / f"{name}.png", engine=oxigraph)
    assert out == tmp_path / f"{name}.png"
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    image = imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0, "the image is blank"
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.png"], "a temporary file was left behind"


@pytest.mark.parametrize("name", FIGURES)
def test_svg(oxigraph: Engine, tmp_path: Path, name: str) -> None:
    out = render_figure(name, tmp_path / f"{name}.svg", engine=oxigraph)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    assert len(root) > 0


def test_svg_is_reproducible(oxigraph: Engine, tmp_path: Path) -> None:
    first = render_figure("fig3", tmp_path / "a.svg", engine=oxigraph).read_bytes()
    second = render_figure("fig3", tmp_path / "b.svg", engine=oxigraph).read_bytes()
    assert first == second


def test_overwrites_and_respects_umask(oxigraph: Engine, tmp_path: Path) -> None:
    out = tmp_path / "table2.md"
    out.write_text("old", encoding="utf-8")
    previous = os.umask(0o022)
    try:
        render_figure("table2", out, engine=oxigraph)
    finally:
        os.umask(previous)
    assert out.read_text(encoding="utf-8").startswith("| Timing of Psychotherapy")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's owner-only 0o600


def _table1_expected(engine: Engine) -> str:
    """Table 1 rebuilt here from review/route-frequency, zeros filled in, totals summed."""
    columns = [
        "single-session",
        "multiple-sessions",
        "continuous-infusion",
        "single-or-multiple-sessions",
        "multiple-administrations-within-multiple-sessions",
    ]
    rows = {"IV": "IV", "IM": "IM", "SL": "SL", "IN": "IN", "IM-SL": "IM + SL"}
    cells: dict[tuple[str, str], int] = {}
    for rec in run_query("review/route-frequency", engine=engine).records():
        cells[(value(rec["route"]).rsplit("/", 1)[1], value(rec["frequency"]).rsplit("/", 1)[1])] = _count(
            rec, "studies"
        )
    lines = [
        "| Route of KET Admin. | Total No. of Studies | Single KET Session | Multiple KET Session "
        "| Continuous KET Infusion | Single OR Multiple KET Sessions | Multiple KET Admin. Within Multiple Sessions |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in rows.items():
        counts = [cells.get((key, column), 0) for column in columns]
        lines.append(f"| {label} | {sum(counts)} | " + " | ".join(map(str, counts)) + " |")
    return "\n".join(lines) + "\n"


def test_table1_markdown(oxigraph: Engine, tmp_path: Path) -> None:
    out = render_figure("table1", tmp_path / "table1.md", engine=oxigraph)
    text = out.read_text(encoding="utf-8")
    assert text == _table1_expected(oxigraph) == markdown_table("table1", oxigraph)
    # the review's printed Table 1, which the graph reproduces
    assert text.splitlines()[2:] == [
        "| IV | 11 | 5 | 3 | 2 | 1 | 0 |",
        "| IM | 3 | 1 | 0 | 0 | 2 | 0 |",
        "| SL | 1 | 0 | 1 | 0 | 0 | 0 |",
        "| IN | 1 | 0 | 0 | 0 | 0 | 1 |",
        "| IM + SL | 1 | 0 | 1 | 0 | 0 | 0 |",
    ]


def test_table1_totals_match_review_table1_query(oxigraph: Engine) -> None:
    """The totals this module sums agree with review/table1's independent count per route."""
    graph = {value(r["id"]): _count(r, "graph") for r in run_query("review/table1", engine=oxigraph).records()}
    rows = [line.split(" | ") for line in markdown_table("table1", oxigraph).splitlines()[2:]]
    for row in rows:
        key = row[0].strip("| ").lower().replace(" + ", "-")
        assert int(row[1]) == graph[f"table1-{key}-total"]


def test_table2_markdown(oxigraph: Engine, tmp_path: Path) -> None:
    out = render_figure("table2", tmp_path / "table2.md", engine=oxigraph)
    records = run_query("review/timing", engine=oxigraph).records()
    expected = [
        "| Timing of Psychotherapy in Relation to Ketamine Administration | Number of Studies |",
        "|---|---|",
        *(f"| {value(rec['label'])} | {_count(rec, 'studies')} |" for rec in records),
    ]
    assert out.read_text(encoding="utf-8") == "\n".join(expected) + "\n"
    # the review's printed Table 2
    assert out.read_text(encoding="utf-8").splitlines()[2:] == [
        "| Before + After | 5 |",
        "| Concurrently | 2 |",
        "| Concurrently + After | 1 |",
        "| After | 2 |",
        "| Before + Concurrently + After | 7 |",
    ]


def test_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(KapgraphError, match=r"fig4.*fig2, fig3, table1, table2"):
        render_figure("fig4", tmp_path / "fig4.png")
    with pytest.raises(KapgraphError, match="table1, table2"):
        markdown_table("fig2")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "filename"), [("fig2", "fig2.pdf"), ("fig3", "fig3.md"), ("table1", "table1")])
def test_unsupported_suffix(tmp_path: Path, name: str, filename: str) -> None:
    with pytest.raises(KapgraphError, match=r"\.png, \.svg"):
        render_figure(name, tmp_path / filename)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(oxigraph: Engine, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(KapgraphError, match=str(missing)):
        render_figure("fig2", missing / "fig2.png", engine=oxigraph)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(oxigraph: Engine, tmp_path: Path) -> None:
    target = tmp_path / "taken.png"
    target.mkdir()  # a folder is refused before anything is written (kapgraph.output.write_output)
    with pytest.raises(KapgraphError, match=r"taken\.png: is a folder"):
        render_figure("table2", target, engine=oxigraph)
    assert [p.name for p in tmp_path.iterdir()] == ["taken.png"]
    assert list(target.iterdir()) == []
