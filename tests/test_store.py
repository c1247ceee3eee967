"""The native Oxigraph store: one named graph per file, and the on-disk store reused while its
sources are unchanged, rebuilt when they change, and never trusted when damaged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kapgraph import loading
from kapgraph.api import run_query
from kapgraph.backends import open_engine
from kapgraph.backends.oxigraph import OxigraphEngine
from kapgraph.cli import cli
from kapgraph.errors import LoadError, StoreError
from kapgraph.loading import sources
from kapgraph.namespaces import GRAPH_BASE, STUDY_IRI
from kapgraph.store import MANIFEST, StoreDir
from tests.conftest import ROOT, TEST_DATA

STUDIES = ROOT / "data" / "studies"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A small data folder of three real studies (a copy the test may change)."""
    folder = tmp_path / "data"
    folder.mkdir()
    for slug in ("dakwar2019", "ocker2020", "halstead2021"):
        shutil.copy(STUDIES / f"{slug}.ttl", folder / f"{slug}.ttl")
    return folder


def studies(engine: OxigraphEngine) -> set[str]:
    return {s.removeprefix(STUDY_IRI) for s in run_query("studies", engine=engine).values("study")}


def open_store(data: Path, folder: Path) -> OxigraphEngine:
    engine = open_engine("oxigraph", [data], store=folder)
    assert isinstance(engine, OxigraphEngine) and engine.location is not None
    return engine


def builds(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


# --- named graphs ---------------------------------------------------------------------------


def test_each_file_is_a_named_graph_and_files_of_finds_it(oxigraph: OxigraphEngine) -> None:
    names = {g.value for g in oxigraph.store.named_graphs()}
    assert f"{GRAPH_BASE}data/studies/dakwar2019.ttl" in names
    assert f"{GRAPH_BASE}ontology/kap.ttl" in names
    assert len(names) == len(oxigraph.sources) + 1  # and the inferred graph (kapgraph.materialise)
    assert f"{GRAPH_BASE}inferred" in names
    assert not list(oxigraph.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    dose = ox.NamedNode(STUDY_IRI + "dakwar2019/ketamine-dose")
    assert oxigraph.files_of(dose) == [STUDIES / "dakwar2019.ttl"]


def test_a_triple_stated_in_two_files_is_counted_once(tmp_path: Path, data: Path) -> None:
    shutil.copy(data / "ocker2020.ttl", tmp_path / "data" / "ocker2020-again.ttl")
    engine = open_engine("oxigraph", [data])
    reference = open_engine("rdflib", [data])
    assert engine.triple_count() == reference.triple_count()
    assert len(run_query("studies", engine=engine).rows) == 3
    # kept in the first file (in sorted order), removed from the second
    ocker = ox.NamedNode(STUDY_IRI + "ocker2020")
    assert isinstance(engine, OxigraphEngine)
    assert engine.files_of(ocker) == [data / "ocker2020-again.ttl"]


@pytest.mark.parametrize("how", ["the file twice", "its folder and the file", "a link to the file", "the ontology"])
def test_a_file_reached_twice_is_read_once(tmp_path: Path, data: Path, how: str) -> None:
    # read twice, its blank nodes (the evidence selectors) would be stated twice, as other nodes
    file = data / "dakwar2019.ttl"
    if how == "the file twice":
        paths = [file, file]
    elif how == "its folder and the file":
        paths = [data, file]
    elif how == "a link to the file":
        (tmp_path / "link.ttl").symlink_to(file)
        paths = [file, tmp_path / "link.ttl"]
    else:
        paths = [file, ROOT / "ontology"]
    once = open_engine("oxigraph", [data] if how == "its folder and the file" else [file])
    twice = open_engine("oxigraph", paths)
    assert [s.path for s in twice.sources] == [s.path for s in once.sources]
    assert twice.triple_count() == once.triple_count()


@pytest.mark.parametrize("part", [1, 50])
def test_the_duplicate_check_in_parts_keeps_what_the_whole_check_keeps(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, part: int
) -> None:
    # parts by predicate, and by object (rdf:type by class) where a predicate is larger than the part
    shutil.copy(data / "ocker2020.ttl", tmp_path / "data" / "ocker2020-again.ttl")
    whole = open_engine("oxigraph", [data])
    monkeypatch.setattr(loading, "PARTITION_QUADS", part)
    parts = loading._partitions(whole.store)  # type: ignore[attr-defined]
    rdf_type = "?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    assert any(part.pattern.startswith(rdf_type + "<https://w3id.org/kap/ontology#") for part in parts)
    assert sum(part.quads for part in parts) == len(whole.store)  # type: ignore[attr-defined]
    split = open_engine("oxigraph", [data])
    assert isinstance(whole, OxigraphEngine) and isinstance(split, OxigraphEngine)
    assert len(split.store) == len(whole.store)

    def named(engine: OxigraphEngine) -> set[ox.Quad]:  # blank nodes are renamed by every load
        everything = engine.store.quads_for_pattern(None, None, None, None)
        return {
            q for q in everything if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)
        }

    assert named(split) == named(whole)
    assert split.files_of(ox.NamedNode(STUDY_IRI + "ocker2020")) == [data / "ocker2020-again.ttl"]


def ground(store: ox.Store) -> int:
    """The quads without blank nodes (those of two files are never the same)."""
    return sum(1 for q in store if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode))


def test_files_found_without_duplicates_are_not_searched_again_until_they_change(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kapgraph import loading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = sources([data])
    first, key = loading.load_small(files)
    checked = list((tmp_path / "cache" / "kapgraph" / "loaded").iterdir())
    assert key is not None and [p.name for p in checked] == [f"{key[:24]}.no-duplicates"]

    def searched(store: ox.Store, files: list[loading.Source]) -> int:
        calls.append(len(files))
        return drop_duplicates(store, files)

    calls: list[int] = []
    drop_duplicates = loading.drop_duplicates
    monkeypatch.setattr(loading, "drop_duplicates", searched)
    again, same = loading.load_small(files)
    assert same == key and calls == [] and ground(again) == ground(first)
    # a triple stated twice: other contents, another key; searched (and so each time), the copy dropped
    shutil.copy(data / "ocker2020.ttl", data / "ocker2020-again.ttl")
    files = sources([data])
    for _ in range(2):
        twice, other = loading.load_small(files)
        assert other not in (None, key) and ground(twice) == ground(first)
    assert calls == [len(files), len(files)]
    assert len(list((tmp_path / "cache" / "kapgraph" / "loaded").iterdir())) == 1


def test_parse_error_names_file_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"unterminated\.ttl:3:\d+: RDF syntax error"):
        open_engine("oxigraph", [TEST_DATA / "bad" / "unterminated.ttl"])


# --- the on-disk store ----------------------------------------------------------------------


def test_store_answers_like_memory_and_is_reused(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    first = open_store(data, folder)
    assert first._opened.built  # type: ignore[attr-defined]
    assert not list(folder.glob(".build-*"))  # neither the staging build nor the rules' scratch files
    memory = open_engine("oxigraph", [data])
    assert first.triple_count() == memory.triple_count()
    assert studies(first) == studies(memory) == {"dakwar2019", "ocker2020", "halstead2021"}
    again = open_store(data, folder)
    assert not again._opened.built and again.location == first.location  # type: ignore[attr-defined]


def test_touching_a_file_without_changing_it_reuses_the_store(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    first = open_store(data, folder).location
    os.utime(data / "ocker2020.ttl", ns=(1, 1))
    engine = open_store(data, folder)
    assert engine.location == first and not engine._opened.built  # type: ignore[attr-defined]


@pytest.mark.parametrize("change", ["one byte", "file added", "file removed"])
def test_any_change_of_the_sources_rebuilds(tmp_path: Path, data: Path, change: str) -> None:
    folder = tmp_path / "store"
    before = open_store(data, folder)
    old_location = before.location
    if change == "one byte":
        path = data / "ocker2020.ttl"
        text = path.read_text(encoding="utf-8")
        assert "Ocker" in text
        path.write_text(text.replace("Ocker", "Ockex", 1), encoding="utf-8")  # same size, one byte
    elif change == "file added":
        shutil.copy(STUDIES / "becker2014.ttl", data / "becker2014.ttl")
    else:
        (data / "halstead2021.ttl").unlink()
    del before
    after = open_store(data, folder)
    assert after._opened.built and after.location != old_location  # type: ignore[attr-defined]
    assert studies(after) == studies(open_engine("oxigraph", [data]))
    assert builds(folder) == [after.location.name]  # type: ignore[union-attr]  # the old build is gone


def test_a_build_in_use_is_not_removed(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    reader = open_store(data, folder)
    (data / "halstead2021.ttl").unlink()
    writer = open_store(data, folder)
    assert set(builds(folder)) == {reader.location.name, writer.location.name}  # type: ignore[union-attr]
    assert len(studies(reader)) == 3 and len(studies(writer)) == 2


DAMAGE = [
    "manifest garbage", "manifest missing", "manifest a folder", "build file truncated",
    "build file corrupt, same size", "build missing", "build a file",
]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_store_is_rebuilt_not_trusted(tmp_path: Path, data: Path, damage: str) -> None:
    folder = tmp_path / "store"
    location = open_store(data, folder).location
    assert location is not None
    if damage == "manifest garbage":
        (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    elif damage == "manifest missing":
        (folder / MANIFEST).unlink()
    elif damage == "manifest a folder":
        (folder / MANIFEST).unlink()
        (folder / MANIFEST).mkdir()
    elif damage == "build file truncated":
        sst = max(location.glob("*.sst"), key=lambda p: p.stat().st_size)
        with sst.open("r+b") as handle:
            handle.truncate(sst.stat().st_size // 2)
    elif damage == "build file corrupt, same size":  # RocksDB's checksums find it
        sst = max(location.glob("*.sst"), key=lambda p: p.stat().st_size)
        raw = bytearray(sst.read_bytes())
        for i in range(100, len(raw) - 100, 997):
            raw[i] ^= 0xFF
        sst.write_bytes(bytes(raw))
    elif damage == "build a file":
        shutil.rmtree(location)
        location.write_text("not a build", encoding="utf-8")
    else:
        shutil.rmtree(location)
    engine = open_store(data, folder)
    assert engine._opened.built  # type: ignore[attr-defined]
    assert studies(engine) == {"dakwar2019", "ocker2020", "halstead2021"}
    assert json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["key"] == engine.location.name  # type: ignore[union-attr]


@pytest.mark.parametrize("foreign", ["notes/todo.txt", "README.md", ".build-mine/x", "0123456789abcdef01234567x/y"])
def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path: Path, data: Path, foreign: str) -> None:
    # old builds are deleted in a store folder: it must never be a project folder (--store .) or the data
    folder = tmp_path / "project"
    (folder / foreign).parent.mkdir(parents=True, exist_ok=True)
    (folder / foreign).write_text("keep me", encoding="utf-8")
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    with pytest.raises(StoreError, match=r"holds '[^']+', which is not part of a kapgraph store"):
        open_store(data, folder)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before


def test_the_data_folder_as_its_own_store_is_refused(tmp_path: Path, data: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--data", str(data), "--store", str(data), "info"])
    assert result.exit_code == 2 and "not part of a kapgraph store" in result.output, result.output
    assert sorted(p.name for p in data.iterdir()) == ["dakwar2019.ttl", "halstead2021.ttl", "ocker2020.ttl"]


def test_a_half_built_store_is_cleaned_up(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / ".build-deadbeef").mkdir()  # left by a process killed while building
    (folder / ".build-deadbeef" / "000001.sst").write_bytes(b"half")
    engine = open_store(data, folder)
    assert not list(folder.glob(".build-*"))
    assert len(studies(engine)) == 3


def test_a_parse_error_while_building_leaves_the_old_store(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    good = open_store(data, folder).location
    manifest = (folder / MANIFEST).read_text(encoding="utf-8")
    shutil.copy(TEST_DATA / "bad" / "unterminated.ttl", data / "unterminated.ttl")
    with pytest.raises(LoadError, match=r"unterminated\.ttl:3:"):
        open_store(data, folder)
    assert (folder / MANIFEST).read_text(encoding="utf-8") == manifest
    assert builds(folder) == [good.name]  # type: ignore[union-attr]
    assert not list(folder.glob(".build-*"))


def test_two_concurrent_first_runs_both_succeed_and_leave_one_store(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    command = [sys.executable, "-m", "kapgraph", "--data", str(data), "--store", str(folder), "info"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0] and "studies: 3" in outputs[0][0]
    assert len(builds(folder)) == 1
    assert StoreDir(folder).open(sources([data])).built is False


def test_automatic_cache_above_the_threshold(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kapgraph.backends.oxigraph as embedded

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("KAPGRAPH_STORE", raising=False)
    assert open_engine("oxigraph", [data]).location is None  # type: ignore[attr-defined]  # small: in memory
    monkeypatch.setattr(embedded, "CACHE_THRESHOLD", 0)
    engine = open_engine("oxigraph", [data])
    assert isinstance(engine, OxigraphEngine) and engine.location is not None
    assert engine.location.is_relative_to(tmp_path / "cache" / "kapgraph")


def test_store_folder_that_is_a_file_is_a_clear_error(tmp_path: Path, data: Path) -> None:
    path = tmp_path / "afile"
    path.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--data", str(data), "--store", str(path), "query", "studies"])
    assert result.exit_code == 2 and "Traceback" not in result.output


# --- kapgraph load --------------------------------------------------------------------------


def test_load_command_reports_triples_and_rate_then_reuses(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "store"
    runner = CliRunner()
    first = runner.invoke(cli, ["load", str(data), "--store", str(folder)])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    # the asserted load and its rate, the inference and its time, each on a line of its own
    assert lines[0].startswith(f"loaded {manifest['triples']:,} asserted triples from 5 files"), lines
    assert "triples/s" in lines[0] and f"in {manifest['load_seconds']:.2f} s" in lines[0]
    assert 0 < manifest["load_seconds"] < manifest["seconds"]
    assert manifest["inferred"] > 0
    assert lines[1] == f"inferred {manifest['inferred']:,} triples in {manifest['inference_seconds']:.2f} s"
    assert lines[2].startswith(f"built in {manifest['seconds']:.2f} s")
    second = runner.invoke(cli, ["load", str(data), "--store", str(folder)])
    assert second.exit_code == 0 and "is up to date" in second.stdout
    query = runner.invoke(cli, ["--data", str(data), "--store", str(folder), "query", "studies", "--format", "csv"])
    assert query.exit_code == 0 and "ocker2020" in query.stdout
    assert len(builds(folder)) == 1


@pytest.mark.parametrize("where", ["before the command", "KAPGRAPH_STORE", "nowhere"])
def test_load_takes_the_store_from_the_group_or_the_environment(
    tmp_path: Path, data: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "store"
    args = ["load", str(data)]
    if where == "before the command":
        args = ["--store", str(folder), *args]
    elif where == "KAPGRAPH_STORE":
        monkeypatch.setenv("KAPGRAPH_STORE", str(folder))
    else:
        monkeypatch.delenv("KAPGRAPH_STORE", raising=False)
    result = CliRunner().invoke(cli, args)
    if where == "nowhere":
        assert result.exit_code == 2 and "name the store folder" in result.output, result.output
        assert not folder.exists()
    else:
        assert result.exit_code == 0 and result.stdout.startswith("loaded "), result.output
        assert len(builds(folder)) == 1


# --- the query path stays light -------------------------------------------------------------

HEAVY = ("rdflib", "pyshacl", "owlready2", "matplotlib")
#: what a query has no use for once kapgraph's caches are warm (the header cache spares PyYAML), each a
#: few milliseconds of a cold start; a cold cache needs yaml, and secrets to write the cache's files
UNUSED = ("yaml", "logging", "secrets", "kapgraph.store", "importlib.metadata")
#: ... and what only rich's table needs
UNUSED_BUT_BY_TABLES = ("shutil", "dataclasses")
QUERY_SCRIPT = (
    "import sys\n"
    "from kapgraph.cli import main\n"
    "fmt, unused = sys.argv[1], sys.argv[2].split()\n"
    "sys.argv = ['kapgraph', 'query', 'psychotherapy-before-and-after', '--param', 'diagnosis=PTSD', '--format', fmt]\n"
    "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
    "print('LOADED', sorted(m for m in unused if m in sys.modules), file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose cache folder one query has filled (headers, duplicates, inferred graph)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    command = [sys.executable, "-c", QUERY_SCRIPT, "tsv", ""]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize("fmt", ["tsv", "json", "xml", "csv", "md", "table"])
def test_query_path_does_not_import_rdflib_pyshacl_owlready2_or_matplotlib(
    fmt: str, warm_cache: dict[str, str]
) -> None:
    unused = HEAVY + UNUSED + (UNUSED_BUT_BY_TABLES if fmt != "table" else ())
    command = [sys.executable, "-c", QUERY_SCRIPT, fmt, " ".join(unused)]
    done = subprocess.run(command, capture_output=True, text=True, env=warm_cache, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "duek2019" in done.stdout
    assert "LOADED []" in done.stderr


def test_bulk_extend_goes_in_bounded_calls() -> None:
    # the bulk loader holds a call's quads in memory: kapgraph hands it at most BULK_CHUNK at a time
    from kapgraph.store import bulk_extend

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def bulk_extend(self, batch: list[ox.Quad]) -> None:
            self.calls.append(len(batch))

    quads = (ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(str(i))) for i in range(10))
    recorder = Recorder()
    bulk_extend(recorder, quads, chunk=3)  # type: ignore[arg-type]
    assert recorder.calls == [3, 3, 3, 1]
    store = ox.Store()
    seven = [ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal("x")) for i in range(7)]
    bulk_extend(store, seven, chunk=2)
    assert len(store) == 7
