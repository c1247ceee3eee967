"""Where the bundled ontology, shapes, data and stored queries are.

In an installed wheel they sit in ``kapgraph/_bundled/``; in a source checkout (or an editable
install) they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_root(name: str) -> Path:
    """The folder of the bundled ontology, shapes, data or queries."""
    bundled = _PACKAGE / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / name


def ontology_file() -> Path:
    """The ontology proper (classes, properties, concept schemes)."""
    return bundled_root("ontology") / "kap.ttl"


def ontology_files() -> list[Path]:
    """Every file of the vocabulary layer: the ontology and its mappings to external vocabularies."""
    return sorted(bundled_root("ontology").glob("*.ttl"))


def shapes_dir() -> Path:
    return bundled_root("shapes")


def data_dir() -> Path:
    return bundled_root("data")


def queries_dir() -> Path:
    return bundled_root("queries")
