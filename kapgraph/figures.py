"""Regenerate the review's Figure 2, Figure 3, Table 1 and Table 2 from the graph.

Every count comes from a stored query (``review/diagnoses``, ``review/route-frequency``,
``review/timing``); this module only fixes the layout: the order of the rows and columns and
the headers as the review prints them. Images are drawn with matplotlib's object-oriented API
(:class:`matplotlib.figure.Figure`, no pyplot), so rendering is headless (Agg for PNG) and never
changes the caller's global matplotlib backend.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kapgraph.api import run_query
from kapgraph.backends import Engine, open_engine
from kapgraph.errors import KapgraphError
from kapgraph.namespaces import PREFIXES
from kapgraph.output import write_output
from kapgraph.results import to_python, value

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES = ("fig2", "fig3", "table1", "table2")
IMAGE_SUFFIXES = (".png", ".svg")
MARKDOWN_TABLES = ("table1", "table2")

_ROUTE = PREFIXES["route"]
_FREQ = PREFIXES["freq"]

#: Table 1's rows (route IRI, label as printed) and frequency columns (IRI, header as printed).
TABLE1_ROWS = (
    (_ROUTE + "IV", "IV"),
    (_ROUTE + "IM", "IM"),
    (_ROUTE + "SL", "SL"),
    (_ROUTE + "IN", "IN"),
    (_ROUTE + "IM-SL", "IM + SL"),
)
TABLE1_COLUMNS = (
    (_FREQ + "single-session", "Single KET Session"),
    (_FREQ + "multiple-sessions", "Multiple KET Session"),
    (_FREQ + "continuous-infusion", "Continuous KET Infusion"),
    (_FREQ + "single-or-multiple-sessions", "Single OR Multiple KET Sessions"),
    (_FREQ + "multiple-administrations-within-multiple-sessions", "Multiple KET Admin. Within Multiple Sessions"),
)
TABLE1_HEADER = ("Route of KET Admin.", "Total No. of Studies", *(header for _, header in TABLE1_COLUMNS))
TABLE2_HEADER = ("Timing of Psychotherapy in Relation to Ketamine Administration", "Number of Studies")

TITLES = {
    "fig2": "Distribution of primary and comorbid diagnoses",
    "fig3": "Frequency and route of ketamine administration",
    "table1": "Table 1. Methods of ketamine administration",
    "table2": "Table 2. Timing of psychotherapy in relation to ketamine administration",
}

# Colour-blind-safe palette (Okabe–Ito).
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")

Table = tuple[tuple[str, ...], list[tuple[str | int, ...]]]


# --- data -------------------------------------------------------------------------------------


def _records(name: str, engine: Engine) -> list[dict[str, Any]]:
    records = run_query(name, engine=engine).records()
    return [{k: to_python(v) if isinstance(v, ox.Literal) else value(v) for k, v in rec.items()} for rec in records]


def route_frequency(engine: Engine) -> dict[str, dict[str, int]]:
    """Table 1's cells: ``{route IRI: {frequency IRI: studies}}`` with zeros filled in."""
    cells = {route: dict.fromkeys((freq for freq, _ in TABLE1_COLUMNS), 0) for route, _ in TABLE1_ROWS}
    for rec in _records("review/route-frequency", engine):
        route, freq = str(rec["route"]), str(rec["frequency"])
        if route not in cells or freq not in cells[route]:
            # a cell outside the review's layout would silently drop studies from the totals
            raise KapgraphError(
                f"review/route-frequency returned a cell outside Table 1's layout: {route} x {freq}; "
                "add the route or frequency to TABLE1_ROWS / TABLE1_COLUMNS in kapgraph/figures.py"
            )
        cells[route][freq] = int(rec["studies"])
    return cells


def table_data(name: str, engine: Engine) -> Table:
    """The header and rows of Table 1 or Table 2, as the review prints them."""
    if name == "table1":
        cells = route_frequency(engine)
        rows1: list[tuple[str | int, ...]] = []
        for route, label in TABLE1_ROWS:
            counts = [cells[route][freq] for freq, _ in TABLE1_COLUMNS]
            rows1.append((label, sum(counts), *counts))
        return TABLE1_HEADER, rows1
    if name == "table2":
        rows2: list[tuple[str | int, ...]] = [
            (str(rec["label"]), int(rec["studies"])) for rec in _records("review/timing", engine)
        ]
        return TABLE2_HEADER, rows2
    raise KapgraphError(f"no table named {name!r}; Markdown tables: {', '.join(MARKDOWN_TABLES)}")


def markdown_table(name: str, engine: Engine | None = None) -> str:
    """Table 1 or Table 2 as a GitHub Markdown table (pipes), ending with a newline."""
    if name not in MARKDOWN_TABLES:
        raise KapgraphError(f"no table named {name!r}; Markdown tables: {', '.join(MARKDOWN_TABLES)}")
    header, rows = table_data(name, engine if engine is not None else open_engine("oxigraph"))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- drawing ----------------------------------------------------------------------------------


def _draw_fig2(fig: Figure, engine: Engine) -> None:
    from matplotlib.ticker import MaxNLocator

    recs = _records("review/diagnoses", engine)
    labels = [str(r["label"]) for r in recs]
    primary = [int(r["primary"]) for r in recs]
    comorbid = [int(r["comorbid"]) for r in recs]
    ax = fig.add_subplot()
    ypos = range(len(labels))
    for values, left, name, colour in (
        (primary, [0] * len(labels), "Primary diagnosis", _COLOURS[0]),
        (comorbid, primary, "Comorbid diagnosis", _COLOURS[1]),
    ):
        bars = ax.barh(ypos, values, left=left, label=name, color=colour, edgecolor="white")
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", color="white")
    for y, total in zip(ypos, map(sum, zip(primary, comorbid, strict=True)), strict=True):
        ax.annotate(f"{total}", (total, y), xytext=(4, 0), textcoords="offset points", va="center", weight="bold")
    ax.set_yticks(list(ypos), labels)
    ax.invert_yaxis()  # first diagnosis at the top, as the query orders them
    ax.set_xlabel("Number of studies")
    ax.set_ylabel("Diagnosis")
    ax.set_xlim(0, max(p + c for p, c in zip(primary, comorbid, strict=True)) + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(TITLES["fig2"])


def _draw_fig3(fig: Figure, engine: Engine) -> None:
    from matplotlib.ticker import MaxNLocator

    cells = route_frequency(engine)
    labels = [label for _, label in TABLE1_ROWS]
    ax = fig.add_subplot()
    bottom = [0] * len(labels)
    for (freq, header), colour in zip(TABLE1_COLUMNS, _COLOURS, strict=True):
        values = [cells[route][freq] for route, _ in TABLE1_ROWS]
        bars = ax.bar(labels, values, bottom=bottom, label=header, color=colour, edgecolor="white")
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", color="white")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        ax.annotate(f"{total}", (x, total), xytext=(0, 3), textcoords="offset points", ha="center", weight="bold")
    ax.set_xlabel("Route of ketamine administration")
    ax.set_ylabel("Number of studies")
    ax.set_ylim(0, max(bottom) + 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(title="Frequency of administration", loc="upper right", frameon=False)
    ax.set_title(TITLES["fig3"])


def _draw_table(fig: Figure, name: str, engine: Engine) -> None:
    from matplotlib.transforms import Bbox

    header, rows = table_data(name, engine)
    wrapped = [textwrap.fill(h, 13 if name == "table1" else 36) for h in header]
    header_lines = max(h.count("\n") + 1 for h in wrapped)
    # size the figure to the table: 0.4 in per body row, 0.22 in per header line, room for the title
    fig.set_size_inches(9, 0.4 * len(rows) + 0.22 * header_lines + 0.9)
    ax = fig.add_subplot()
    ax.axis("off")
    widths = [1 / len(header)] * len(header) if name == "table1" else [0.72, 0.28]
    table = ax.table(
        cellText=[[str(cell) for cell in row] for row in rows],
        colLabels=wrapped,
        colWidths=widths,
        cellLoc="center",
        bbox=Bbox.from_bounds(0, 0, 1, 1) if name == "table1" else Bbox.from_bounds(0.1, 0, 0.8, 1),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    for (row, col), cell in table.get_celld().items():
        cell.set_height(0.55 * header_lines + 0.4 if row == 0 else 1.0)  # relative; the bbox scales them
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#DDE6F0")
        elif col == 0:
            cell.set_text_props(weight="bold")
            if name == "table2":
                cell.set_text_props(ha="left")
                cell.PAD = 0.03
    ax.set_title(TITLES[name], weight="bold", pad=12)


_DRAW: dict[str, Callable[[Figure, Engine], None]] = {
    "fig2": _draw_fig2,
    "fig3": _draw_fig3,
    "table1": lambda fig, engine: _draw_table(fig, "table1", engine),
    "table2": lambda fig, engine: _draw_table(fig, "table2", engine),
}


def render_figure(name: str, out: Path, engine: Engine | None = None) -> Path:
    """Write figure or table *name* to *out* (.png or .svg; .md for tables) and return *out*."""
    out = Path(out)
    if name not in FIGURES:
        raise KapgraphError(f"unknown figure {name!r}; choose one of: {', '.join(FIGURES)}")
    suffix = out.suffix.lower()
    allowed = IMAGE_SUFFIXES + ((".md",) if name in MARKDOWN_TABLES else ())
    if suffix not in allowed:
        raise KapgraphError(
            f"{out}: cannot write {name} as {suffix or 'a file without a suffix'}; use one of: {', '.join(allowed)}"
        )
    if not out.parent.is_dir():
        raise KapgraphError(f"{out}: the folder {out.parent} does not exist; create it first")
    engine = engine if engine is not None else open_engine("oxigraph")

    if suffix == ".md":
        text = markdown_table(name, engine)
        write_output(out, text)
        return out

    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), layout="constrained")
    _DRAW[name](fig, engine)
    fmt = suffix[1:]
    # fixed metadata and hash salt make the output reproducible byte for byte
    metadata = {"Date": None} if fmt == "svg" else {}

    image = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "kapgraph"}):
        fig.savefig(image, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
    # a device, FIFO or symbolic link stays what it is (see kapgraph.output)
    write_output(out, image.getvalue())
    return out
