"""The command line: `legato server`, `legato worker` and the client commands."""

from legato.cli.context import CliContext
from legato.cli.main import cli

__all__ = ["CliContext", "cli"]
