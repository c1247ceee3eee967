"""The package declares what it imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from tests.conftest import ROOT

#: import name -> distribution name, where they differ
DISTRIBUTIONS = {"yaml": "pyyaml", "SPARQLWrapper": "sparqlwrapper"}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = {
        re.split(r"[<>=!~\[ ]", dep, maxsplit=1)[0].lower()
        for dep in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    }
    imported = set()
    for path in (ROOT / "kapgraph").rglob("*.py"):  # the subpackages too (kapgraph/backends/)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "kapgraph"}
    missing = {DISTRIBUTIONS.get(name, name) for name in third_party} - declared
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"
