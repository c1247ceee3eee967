"""Inputs the hostile cases need, made in the case's own temporary folder.

Each function takes the folder and keyword arguments from the case's ``setup_args`` and returns
placeholders for the case's command (``{name}``). Nothing here touches anything outside the folder
except :func:`silent_endpoint`, which listens on a free loopback port and never answers.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import socket
import stat
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
EX = "@prefix ex: <http://example.org/> .\n"

#: resources to close after the case (sockets)
OPEN: list[Any] = []


def _query(kind: str, n: int) -> str:
    if kind == "paren":
        return "SELECT * WHERE { BIND(" + "(" * n + "1" + ")" * n + " AS ?x) }"
    if kind == "brace":
        return "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n
    if kind == "bracket":
        return "SELECT * WHERE { ?s ?p " + "[ ex:p " * n + "1" + " ]" * n + " }"
    if kind == "subquery":
        return "SELECT * WHERE { " + "{ SELECT * WHERE " * n + "{ ?s ?p ?o }" + " }" * n + " }"
    if kind == "mixed":
        return "SELECT * WHERE { " + "{ FILTER(" * n + "true" + ") }" * n + " }"
    if kind == "collection":
        return "SELECT * WHERE { ?s ?p " + "(" * n + " 1 " + ")" * n + " }"
    if kind == "less-than":  # '1<' and a later '>': read as an IRI, the brackets between went uncounted
        return "ASK { FILTER(1<" + "(" * n + "1" + ")" * n + "&&3>2) }"
    raise ValueError(kind)


def deep_query(tmp: Path, kind: str, n: int) -> dict[str, str]:
    text = _query(kind, n).replace("ex:p", "<http://example.org/p>")
    (tmp / "q.rq").write_text(text, encoding="utf-8")
    return {"query": text if len(text) < 60_000 else ""}


def query_bytes(tmp: Path, data: str, encoding: str = "utf-8", bom: str = "") -> dict[str, str]:
    boms = {"utf8": codecs.BOM_UTF8, "utf16": codecs.BOM_UTF16_LE, "": b""}
    raw = boms[bom] + data.encode(encoding)
    (tmp / "q.rq").write_bytes(raw)
    return {}


def latin1_query(tmp: Path) -> dict[str, str]:
    (tmp / "q.rq").write_bytes('SELECT * WHERE { ?s ?p "café" }'.encode("latin-1"))
    return {}


def data_copy(tmp: Path, edit: str = "", drop: str = "") -> dict[str, str]:
    """A copy of the bundled data in tmp/data, with one edit ("file|old|new") and/or a file dropped."""
    target = tmp / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("*.md"))
    if drop:
        for name in drop.split(","):
            (target / name).unlink()
    if edit:
        name, old, new = edit.split("|")
        path = target / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return {"data": str(target)}


def synth_data(tmp: Path, studies: int) -> dict[str, str]:
    """*studies* synthetic studies in tmp/synth (kapgraph synth): work that lasts long enough to interrupt."""
    import subprocess
    import sys

    target = tmp / "synth"
    subprocess.run(
        [sys.executable, "-m", "kapgraph", "synth", "--studies", str(studies), "--out", str(target)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return {"synth": str(target)}


def one_study(tmp: Path, text: str) -> dict[str, str]:
    folder = tmp / "d"
    folder.mkdir()
    (folder / "study.ttl").write_text(EX + text, encoding="utf-8")
    return {"data": str(folder)}


def big_literal(tmp: Path, mib: int, suffix: str = "ttl") -> dict[str, str]:
    folder = tmp / "d"
    folder.mkdir()
    big = "x" * (mib * 1024 * 1024)
    if suffix == "ttl":
        text = EX + f'ex:a ex:p "{big}" .\n'
    elif suffix == "nt":
        text = f'<http://example.org/a> <http://example.org/p> "{big}" .\n'
    elif suffix == "jsonld":
        text = '{"@id": "http://example.org/a", "http://example.org/p": "' + big + '"}'
    else:
        text = (
            '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/a"><ex:p>{big}</ex:p>'
            "</rdf:Description></rdf:RDF>\n"
        )
    (folder / f"big.{suffix}").write_text(text, encoding="utf-8")
    return {"data": str(folder)}


def deep_bnodes(tmp: Path, n: int) -> dict[str, str]:
    folder = tmp / "d"
    folder.mkdir()
    (folder / "deep.ttl").write_text(EX + "ex:a ex:p " + "[ ex:p " * n + "1" + " ]" * n + " .\n", encoding="utf-8")
    return {"data": str(folder)}


_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">\n'
    '<rdf:Description rdf:about="http://example.org/a"><ex:p>&lol9;</ex:p></rdf:Description>\n</rdf:RDF>\n'
)


def billion_laughs(tmp: Path, suffix: str = "rdf", doctype: str = "DOCTYPE") -> dict[str, str]:
    folder = tmp / "d"
    folder.mkdir()
    text = _LAUGHS if doctype == "DOCTYPE" else _LAUGHS.replace("<!DOCTYPE", "<!doctype")
    (folder / f"laughs.{suffix}").write_text(text, encoding="utf-8")
    return {"data": str(folder), "file": str(folder / f"laughs.{suffix}")}


def named_graph_jsonld(tmp: Path) -> dict[str, str]:
    """A study in a JSON-LD named graph (Oxigraph would keep it apart, rdflib drop it) beside the bundled data."""
    target = data_copy(tmp)["data"]
    node = {"@id": "https://w3id.org/kap/id/study/graphed", "@type": "https://w3id.org/kap/ontology#Study"}
    document = {"@id": "urn:kapgraph:test:graph", "@graph": [node]}
    (Path(target) / "studies" / "graphed.jsonld").write_text(json.dumps(document), encoding="utf-8")
    return {"data": target, "file": str(Path(target) / "studies" / "graphed.jsonld")}


def remote_context(tmp: Path) -> dict[str, str]:
    """A JSON-LD file whose @context is a URL (a port nothing listens on: it must not be fetched at all)."""
    folder = tmp / "d"
    folder.mkdir()
    document = {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "urn:kapgraph:test:x", "label": "x"}
    (folder / "remote.jsonld").write_text(json.dumps(document), encoding="utf-8")
    return {"data": str(folder)}


def unread_rdf(tmp: Path, suffix: str) -> dict[str, str]:
    """An RDF file kapgraph does not read (TriG, N-Quads, N3) in a copy of the bundled data."""
    target = data_copy(tmp)["data"]
    (Path(target) / "studies" / f"more.{suffix}").write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    return {"data": target}


def devices(tmp: Path) -> dict[str, str]:
    """A null and a full character device (copies of /dev/null and /dev/full made with mknod), a FIFO."""
    os.mknod(tmp / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(tmp / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    os.mkfifo(tmp / "fifo")
    return {"null": str(tmp / "null"), "full": str(tmp / "full"), "fifo": str(tmp / "fifo")}


def symlinked_output(tmp: Path) -> dict[str, str]:
    (tmp / "real.ttl").write_text("old\n", encoding="utf-8")
    (tmp / "link.ttl").symlink_to(tmp / "real.ttl")
    return {}


def not_a_file(tmp: Path, kind: str) -> dict[str, str]:
    target = data_copy(tmp)["data"]
    if kind == "fifo":
        os.mkfifo(Path(target) / "studies" / "pipe.ttl")
    else:
        (Path(target) / "studies" / "gone.ttl").symlink_to(tmp / "nowhere.ttl")
    return {"data": target}


def unreadable(tmp: Path, what: str) -> dict[str, str]:
    target = Path(data_copy(tmp)["data"])
    (target / "studies").chmod(0) if what == "folder" else (target / "studies" / "duek2019.ttl").chmod(0)
    return {"data": str(target)}


def silent_endpoint(tmp: Path) -> dict[str, str]:
    """A loopback socket that accepts connections (the kernel's backlog) and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    OPEN.append(server)
    return {"port": str(server.getsockname()[1])}


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()


def _chr(path: Path, major: int, minor: int) -> None:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))


def special_query_files(tmp: Path) -> dict[str, str]:
    """Query "files" that never end or block: /dev/zero and /dev/urandom copies, a FIFO; one over the cap."""
    _chr(tmp / "zero.rq", 1, 5)
    _chr(tmp / "urandom.rq", 1, 9)
    os.mkfifo(tmp / "fifo.rq")
    with open(tmp / "big.rq", "wb") as handle:  # sparse: 9 MiB of nothing after a comment sign
        handle.write(b"#")
        handle.truncate(9 * 1024 * 1024)
    return {}


def special_data_files(tmp: Path) -> dict[str, str]:
    """Data "files" named .ttl that are a /dev/zero copy and a FIFO."""
    _chr(tmp / "zero.ttl", 1, 5)
    os.mkfifo(tmp / "fifo.ttl")
    return {"zero": str(tmp / "zero.ttl"), "fifo": str(tmp / "fifo.ttl")}


def linked_studies(tmp: Path, edit: str = "", how: str = "link") -> dict[str, str]:
    """A data copy whose studies/ folder lives elsewhere and is reached by a symbolic link.

    how: "link" (data/studies -> ../elsewhere), "loop" (also studies/up -> .. inside it),
    "broken" (a link without a suffix to nothing, beside the real folders).
    """
    target = Path(data_copy(tmp, edit=edit)["data"])
    if how == "broken":
        (target / "more").symlink_to(tmp / "nowhere")
        return {"data": str(target)}
    (target / "studies").rename(tmp / "elsewhere")
    (target / "studies").symlink_to(Path("..") / "elsewhere")
    if how == "loop":
        (tmp / "elsewhere" / "up").symlink_to(Path(".."))
    return {"data": str(target)}


def listable_not_enterable(tmp: Path) -> dict[str, str]:
    """A data copy whose studies/ folder has mode r without x: it can be listed, not entered."""
    target = Path(data_copy(tmp)["data"])
    (target / "studies").chmod(0o644)
    return {"data": str(target)}


def figure_targets(tmp: Path) -> dict[str, str]:
    """Figure outputs that must stay what they are: /dev/full and /dev/null copies, a FIFO, symbolic links."""
    _chr(tmp / "full.png", 1, 7)
    _chr(tmp / "full.md", 1, 7)
    _chr(tmp / "null.svg", 1, 3)
    os.mkfifo(tmp / "fifo.png")
    (tmp / "real.md").write_text("old\n", encoding="utf-8")
    (tmp / "link.md").symlink_to("real.md")
    (tmp / "dangling.svg").symlink_to("nowhere.svg")
    return {}


def bad_out_folders(tmp: Path) -> dict[str, str]:
    """A read-only folder, a regular file (as a parent folder) and a /dev/full copy."""
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o555)
    (tmp / "afile").write_text("hi\n", encoding="utf-8")
    _chr(tmp / "full", 1, 7)
    return {}


def private_tmpdir(tmp: Path) -> dict[str, str]:
    """A folder for TMPDIR, so that a temporary file left behind shows in the case's snapshot."""
    (tmp / "tmpdir").mkdir()
    return {"tmpdir": str(tmp / "tmpdir")}


def flat_query(tmp: Path, kind: str, n: int) -> dict[str, str]:
    """A long flat (not nested) query: n terms joined by + or CONCAT's commas."""
    if kind == "plus":
        text = "SELECT (" + "+".join(["1"] * n) + " AS ?x) {}"
    else:
        text = "SELECT (CONCAT(" + ",".join(['"a"'] * n) + ") AS ?x) {}"
    (tmp / "q.rq").write_text(text, encoding="utf-8")
    return {}
