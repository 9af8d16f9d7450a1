"""The `legato ...` examples a user reads: in the docs, in `--help`, and in the server's banner.

A user copies these literally, so they are tested literally: every one must name a command
and options that exist, and the ones a reader can run against the quick start's server
(the demo, plus the files in `examples/`) must run there and do what their text promises.

Where a documented command cannot run in a test (it serves forever, or it needs a host, a
file or a database the reader has and we do not), it is still parsed, so a renamed command
or option fails here.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from legato.cli import cli
from legato.cli import demo as demo_module
from legato.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```(\w*)\s*$")
_SHELL_BLOCKS = {"console", "bash", "sh", "shell", ""}


@dataclass(frozen=True, slots=True)
class Example:
    """One `legato` command as printed somewhere a user reads it."""

    where: str  # "docs/cli.md:255", "legato start --help", "the server's banner"
    words: tuple[str, ...]  # the arguments after `legato`
    env: tuple[tuple[str, str], ...] = ()  # `LEGATO_PORT=abc legato server`
    output: tuple[str, ...] = ()  # what the docs print under it (console blocks)

    @property
    def text(self) -> str:
        return shlex.join(["legato", *self.words])


PLACEHOLDERS = {"<instance-id>": "INSTANCE_ID", "<task-id>": "TASK_ID", "<incident-id>": "INCIDENT_ID"}


def _commands_of(line: str, where: str, output: tuple[str, ...] = ()) -> Iterator[Example]:
    """The `legato` invocations on one shell line, `$(...)`, `&&` and env prefixes included."""
    for placeholder, name in PLACEHOLDERS.items():
        line = line.replace(placeholder, name)
    line = re.sub(r"\$\((legato [^)]*)\)", r" && \1 && ", line)  # TOKEN=$(legato tokens create x)
    try:
        words = shlex.split(line, comments=True)
    except ValueError:  # an unfinished quote: not a command line (a continuation of JSON, say)
        return
    command: list[str] = []
    for word in [*words, "&&"]:
        if word in {"&&", "||", ";", "|", "&"} or word.startswith((">", "<")):
            if command:
                yield from _example(command, where, output)
            command = []
        else:
            command.append(word)


def _example(command: list[str], where: str, output: tuple[str, ...]) -> Iterator[Example]:
    env: list[tuple[str, str]] = []
    while command and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", command[0]):
        name, _, value = command.pop(0).partition("=")
        env.append((name, value))
    if command and command[0] == "legato":
        # redirections are not commands: `legato audit export > audit.jsonl`
        args = [word for word in command[1:] if not word.startswith((">", "<"))]
        yield Example(where=where, words=tuple(args), env=tuple(env), output=output)


def doc_examples() -> list[Example]:
    """Every `legato` command in a shell block of the README and docs/*.md."""
    found: list[Example] = []
    for path in DOCS:
        name = str(path.relative_to(ROOT))
        lines = path.read_text(encoding="utf-8").splitlines()
        language: str | None = None
        block: list[tuple[int, str]] = []
        for number, line in enumerate(lines, start=1):
            fence = _FENCE.match(line)
            if fence and language is None:
                language, block = fence.group(1), []
            elif fence:
                if language in _SHELL_BLOCKS:
                    found += _block_examples(name, language, block)
                language = None
            elif language is not None:
                block.append((number, line))
    return found


def _block_examples(name: str, language: str, block: list[tuple[int, str]]) -> list[Example]:
    """A console block: `$ ` lines are commands, what follows them their output. A bash block:
    every line is a command. A bare block holds a synopsis (`legato server [--demo] ...`) only
    when its lines are not commands, so it is read as commands only when they parse as such."""
    found: list[Example] = []
    joined: list[tuple[int, str]] = []
    for number, line in block:  # backslash continuations
        if joined and joined[-1][1].endswith("\\"):
            joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line.strip())
        else:
            joined.append((number, line))
    if language == "console":
        commands = [(i, n, line[2:]) for i, (n, line) in enumerate(joined) if line.startswith("$ ")]
        for position, (index, number, line) in enumerate(commands):
            end = commands[position + 1][0] if position + 1 < len(commands) else len(joined)
            output = tuple(text for _, text in joined[index + 1 : end])
            found += _commands_of(line, f"{name}:{number}", output)
    elif language:
        for number, line in joined:
            found += _commands_of(line, f"{name}:{number}")
    return found


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            sub = command.get_command(click.Context(command), name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, (*path, name))


def help_examples() -> list[Example]:
    """The `legato ...` lines of every command's `--help` (its docstring's example block)."""
    found: list[Example] = []
    for path, command in _walk(cli, ()):
        where = shlex.join(["legato", *path, "--help"])
        for line in (command.help or "").splitlines():
            stripped = line.strip()
            if stripped.startswith("legato "):
                found += _commands_of(_code_of(stripped), where)
    return found


def banner_examples(url: str = "http://127.0.0.1:8080") -> list[Example]:
    """The "Try:" lines `legato server` prints on a new database (the demo deployed)."""
    settings = Settings.from_env({})
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(demo_module.banner(settings, demo_module.Demo(deployed="order_to_cash v1"), ["credit.check"]))
    found: list[Example] = []
    for line in console.export_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("legato "):
            found += _commands_of(_code_of(stripped), "the server's banner")
    return found


def _code_of(line: str) -> str:
    """A help line is `legato ... ` then two or more spaces then words of explanation."""
    return re.split(r"\s{2,}(?!-)", line, maxsplit=1)[0] if "  " in line else line


def parse(example: Example) -> click.Command:
    """Resolve the example to its command and parse its arguments as click would, so an
    unknown command, an unknown option or a bad value fails. Nothing runs."""
    command: click.Command = cli
    args = list(example.words)
    context = cli.make_context("legato", args, resilient_parsing=False)
    while isinstance(command, click.Group):
        rest = [*context._protected_args, *context.args]  # click keeps the subcommand here
        if not rest and command.invoke_without_command:
            return command
        if not rest:
            raise click.UsageError(f"{example.text}: no command", context)
        name, sub, rest = command.resolve_command(context, rest)
        assert sub is not None and name is not None
        command = sub
        context = sub.make_context(name, rest, parent=context, resilient_parsing=False)
    return command
