"""What every engine shares: refusing SPARQL Update, and wording syntax errors alike."""

from __future__ import annotations

import re

from kapgraph.errors import QuerySyntaxError
from kapgraph.namespaces import PREFIXES

_UPDATE = re.compile(
    r"\s*(?:(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*(?:INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
    re.I,
)


def refuse_update(sparql: str) -> None:
    """Raise QuerySyntaxError for SPARQL Update: kapgraph only reads the graph."""
    if _UPDATE.match(re.sub(r"(?m)^\s*#.*$", "", sparql)):  # whole-line comments only: IRIs hold #
        raise QuerySyntaxError(
            "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP...) is not supported: kapgraph only queries "
            "the graph (SELECT, ASK, CONSTRUCT, DESCRIBE); edit the Turtle files instead"
        )


def oxigraph_syntax_message(text: str) -> str:
    """Oxigraph's "error at L:C: ..." as kapgraph words syntax errors."""
    match = re.match(r"error at (\d+):(\d+): (.*)", text, re.S)
    if match:
        line, col, rest = match.groups()
        if "Prefix not found" in rest:
            rest = f"undeclared prefix; declare it with PREFIX (predeclared: {', '.join(PREFIXES)})"
        return f"SPARQL syntax error at line {line}, column {col}: {rest.strip()}"
    return f"SPARQL syntax error: {text}"
