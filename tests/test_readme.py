"""The README's examples show real output: each ``$ kapgraph ...`` of a console block on the bundled graph.

A line ``...`` in the README stands for lines left out; the standard error follows the standard output.

Data-driven: every console block command that needs no server (no ``--endpoint``, no ``serve``/``push``,
no Java) is run in-process and its output compared with the lines printed under it in the README. A
``| grep TEXT`` or ``| grep -v TEXT`` after the command is applied to the output as grep would.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from kapgraph.cli import cli
from tests.conftest import ROOT

#: commands that need a server, Java or a store folder: the endpoint tests cover them
NOT_HERE = re.compile(r"endpoint[= ]|\bserve\b|\bpush\b|\breason\b|\bload\b|--store|\$\?|oxigraph |curl |export ")


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    expected: list[str]

    @property
    def id(self) -> str:
        return f"README:{self.line}:{self.command[:60]}"


def _examples() -> list[Example]:
    examples: list[Example] = []
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block: list[tuple[int, str]] | None = None
    for number, text in enumerate(lines, 1):
        if text.startswith("```console"):
            block = []
        elif text.startswith("```") and block is not None:
            examples += _commands(block)
            block = None
        elif block is not None:
            block.append((number, text))
    return examples


def _commands(block: list[tuple[int, str]]) -> list[Example]:
    found: list[Example] = []
    current: tuple[int, str] | None = None
    output: list[str] = []
    for number, text in [*block, (0, "$ ")]:
        if text.startswith("$ "):
            if current is not None and not NOT_HERE.search(current[1]) and not current[1].endswith("\\"):
                while output and not output[-1].strip():
                    output.pop()
                found.append(Example(current[0], current[1], output))
            current, output = (number, text[2:]), []
        else:
            output.append(text)
    return found


EXAMPLES = _examples()


def _run(command: str) -> list[str]:
    command = re.sub(r"\s+#.*$", "", command)  # a trailing shell comment
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    pipeline: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            pipeline.append([])
        else:
            pipeline[-1].append(token)
    args = pipeline[0]
    assert args[0] == "kapgraph", command
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    for stage in pipeline[1:]:
        match stage:
            case ["grep", "-v", pattern]:
                out = [line for line in out if pattern not in line]
            case ["grep", pattern]:
                out = [line for line in out if pattern in line]
            case _:
                raise AssertionError(f"README: unsupported pipe stage {stage} in {command!r}")
    return out + result.stderr.splitlines()  # a pipe passes the standard error by, as a terminal shows it


def test_the_readme_has_examples_to_check() -> None:
    # the main command and the ten questions at least: an empty list would make the test below vacuous
    assert len(EXAMPLES) >= 12, [e.id for e in EXAMPLES]


def _matches(printed: list[str], shown: list[str]) -> bool:
    """Whether the README's lines are the printed ones, a line "..." standing for any lines (none too)."""
    if not shown:
        return not printed
    if shown[0] == "...":
        return any(_matches(printed[i:], shown[1:]) for i in range(len(printed) + 1))
    return bool(printed) and printed[0] == shown[0] and _matches(printed[1:], shown[1:])


def test_ellipsis_stands_for_any_lines_and_nothing_else() -> None:
    assert _matches(["a", "b", "c"], ["a", "...", "c"]) and _matches(["a", "c"], ["a", "...", "c"])
    assert not _matches(["a", "b"], ["a", "...", "c"]) and not _matches(["a", "b"], ["a"])
    assert not _matches(["a"], []) and not _matches(["a", "x"], ["a", "b"])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_readme_example_prints_what_the_readme_shows(example: Example) -> None:
    printed = _run(example.command)
    assert example.expected, f"{example.id}: the README shows the command without its output"
    assert _matches(printed, example.expected), "\n".join(["printed:", *printed, "README shows:", *example.expected])
