"""``kapgraph cache info`` and ``kapgraph cache clear``: what the cache holds, and clearing it safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kapgraph.cache import cache_root
from kapgraph.cli import cli
from kapgraph.loading import sources
from kapgraph.store import StoreDir


def _info(runner: CliRunner) -> dict[str, int]:
    result = runner.invoke(cli, ["cache", "info"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"cache: {cache_root()}"
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+) entries", result.output, re.M)}


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of its own, filled by a query (inferred graph, marker, header) and a store."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    runner = CliRunner()
    result = runner.invoke(cli, ["query", "studies-by-diagnosis", "--param", "diagnosis=PTSD"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = cache_root() / "stores" / "bundled"
    StoreDir(folder).open(sources()).close()
    return folder


def test_info_counts_each_part(cache: Path) -> None:
    counts = _info(CliRunner())
    assert set(counts) == {"stores", "inferred", "loaded", "headers"}
    assert counts["stores"] == 1
    assert counts["inferred"] >= 1 and counts["loaded"] >= 1 and counts["headers"] >= 1


def test_clear_keeps_a_store_in_use_and_removes_the_rest(cache: Path) -> None:
    runner = CliRunner()
    opened = StoreDir(cache).open(sources())  # holds the build's in-use lock, as a running query does
    try:
        result = runner.invoke(cli, ["cache", "clear"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert f"kept {cache}: in use" in result.output
        assert re.search(r"removed 0 stores, [1-9]\d* inferred, [1-9]\d* loaded, [1-9]\d* headers", result.output)
        assert _info(runner) == {"stores": 1, "inferred": 0, "loaded": 0, "headers": 0}
        assert len(opened.store) > 0  # the open build is intact
    finally:
        opened.close()
    result = runner.invoke(cli, ["cache", "clear", "stores"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output.startswith("removed 1 stores"), result.output
    assert _info(runner)["stores"] == 0
    assert [p.name for p in cache.iterdir()] == ["build.lock"]  # a process may be waiting on it
    # the cleared store is built again when next used
    result = runner.invoke(cli, ["--store", str(cache), "query", "studies"], catch_exceptions=False)
    assert result.exit_code == 0 and "dakwar2019" in result.output, result.output
    assert _info(runner)["stores"] == 1


def test_clear_older_than_keeps_what_is_newer(cache: Path) -> None:
    runner = CliRunner()
    before = _info(runner)
    result = runner.invoke(cli, ["cache", "clear", "--older-than", "1"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output.startswith("removed 0 stores, 0 inferred, 0 loaded, 0 headers")
    assert _info(runner) == before


def test_an_unknown_part_is_a_usage_error(cache: Path) -> None:
    result = CliRunner().invoke(cli, ["cache", "clear", "everything"])
    assert result.exit_code == 2 and "'everything' is not one of" in result.output


def test_older_than_counts_a_store_from_when_it_was_last_opened(cache: Path) -> None:
    import os
    import time

    runner = CliRunner()
    old = time.time() - 40 * 86400
    for path in cache.iterdir():  # built and last opened 40 days ago
        os.utime(path, (old, old))
    StoreDir(cache).open(sources()).close()  # opened today: used, though built long ago
    assert (cache / "manifest.json").stat().st_mtime == old
    result = runner.invoke(cli, ["cache", "clear", "stores", "--older-than", "30"], catch_exceptions=False)
    assert result.output.startswith("removed 0 stores"), result.output
    for path in cache.iterdir():
        os.utime(path, (old, old))
    result = runner.invoke(cli, ["cache", "clear", "stores", "--older-than", "30"], catch_exceptions=False)
    assert result.output.startswith("removed 1 stores"), result.output


def test_links_in_the_cache_are_removed_never_followed(cache: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "sub" / "keep.txt").write_text("keep", encoding="utf-8")
    (cache_root() / "stores" / "link").symlink_to(victim)
    (cache_root() / "inferred" / "zz-folder.nt").symlink_to(victim)
    (cache_root() / "loaded" / "zz-broken").symlink_to(tmp_path / "nowhere")
    result = CliRunner().invoke(cli, ["cache", "clear"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.match(r"removed 2 stores, [1-9]\d* inferred, [2-9]\d* loaded", result.output), result.output
    assert [str(p.relative_to(victim)) for p in sorted(victim.rglob("*"))] == ["sub", "sub/keep.txt"]
    for part in ("stores", "inferred", "loaded"):
        assert not any(p.is_symlink() for p in (cache_root() / part).iterdir())


def test_a_part_named_twice_is_counted_once(cache: Path) -> None:
    count = _info(CliRunner())["inferred"]
    result = CliRunner().invoke(cli, ["cache", "clear", "inferred", "inferred"], catch_exceptions=False)
    assert result.output.startswith(f"removed {count} inferred:"), result.output


@pytest.mark.parametrize("days", ["nan", "-nan", "-1", "-inf", "soon"])
def test_older_than_must_be_a_number_of_days(cache: Path, days: str) -> None:
    before = _info(CliRunner())
    result = CliRunner().invoke(cli, ["cache", "clear", "--older-than", days])
    assert result.exit_code == 2 and "--older-than" in result.output, result.output
    assert _info(CliRunner()) == before


@pytest.mark.parametrize("damage", ["emptied", "cut at a line's end", "a line changed"])
def test_a_damaged_inferred_graph_entry_is_computed_again_not_trusted(cache: Path, damage: str) -> None:
    runner = CliRunner()

    def inferred() -> int:
        result = runner.invoke(cli, ["info"], catch_exceptions=False)
        return int(re.search(r"^inferred_triples: (\d+)$", result.output, re.M)[1])  # type: ignore[index]

    expected = inferred()
    assert expected > 100
    [entry] = [p for p in (cache_root() / "inferred").iterdir()]
    lines = entry.read_bytes().splitlines(keepends=True)
    if damage == "emptied":
        entry.write_bytes(b"")
    elif damage == "cut at a line's end":
        entry.write_bytes(b"".join(lines[: len(lines) // 2]))
    else:
        entry.write_bytes(b"".join([*lines[:-1], b'<urn:x> <urn:y> "z" .\n']))
    assert inferred() == expected
    assert entry.read_bytes() == b"".join(lines)  # written again, whole
