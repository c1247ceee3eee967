"""A syntax error in a stored query names the .rq file and the line in that file, also after binding."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kapgraph.api import run_query
from kapgraph.backends import Engine
from kapgraph.catalog import Catalog
from kapgraph.errors import QuerySyntaxError

ROOT = Path(__file__).resolve().parents[2]


def test_syntax_error_line_is_the_files_line(tmp_path: Path, engine: Engine) -> None:
    shutil.copy(ROOT / "queries" / "studies-by-comparator.rq", tmp_path / "broken.rq")
    path = tmp_path / "broken.rq"
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = next(i for i, line in enumerate(lines) if line.strip().startswith("OPTIONAL { ?arm"))
    lines[bad] = lines[bad].replace("OPTIONAL {", "OPTIONAL {{ ?")  # a syntax error on this line, after the WHERE {
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(QuerySyntaxError) as info:
        run_query("broken", {"comparator": "midazolam"}, engine=engine, catalog=Catalog(tmp_path))
    match = re.match(rf"{re.escape(str(path))}:(\d+):\d+: SPARQL syntax error", str(info.value))
    assert match, str(info.value)
    line = int(match.group(1))
    if engine.name == "oxigraph":
        assert line == bad + 1, (str(info.value), lines[bad])
    else:  # pyparsing reports where the failing group began: a line of the file, never one shifted by binding
        where = next(i for i, text in enumerate(lines) if text.startswith("WHERE {")) + 1
        assert where < line <= bad + 1, (str(info.value), lines[bad])
