"""What every command gets: settings, consoles, and a client of the server.

`main()` builds a `CliContext` from the process environment. Tests build their own and
pass it as click's `obj`, with the environment they want and an HTTP client that talks
to an app in the same process:

    runner.invoke(cli, ["instances"], obj=CliContext(env={}, http=TestClient(app)))

The client is the public `legato.Client`: what a command does over HTTP, a script can do
the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from legato.client import Client
from legato.errors import LegatoError
from legato.settings import Settings

PIPE_WIDTH = 200
USER_AGENT = "legato-cli"


class Failure(Exception):
    """A command failed here, not on the server: printed as `error CODE: message`.

    Exit status 2 is for what the user must fix before anything can run (settings, an
    unreachable server), 1 for everything else.
    """

    def __init__(self, code: str, message: str, *, exit_code: int = 1) -> None:
        self.code = code
        self.message = message
        self.exit_code = exit_code
        super().__init__(f"{code}: {message}")


def _settings_failure(error: LegatoError) -> Failure:
    return Failure(error.code, error.message, exit_code=2)


@dataclass
class CliContext:
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    http: httpx.Client | None = None
    width: int | None = None  # console width; None: the terminal's
    url: str | None = None  # --url, over LEGATO_URL
    _settings: Settings | None = None
    _client: Client | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env(self.env).replace(url=self.url)
            except LegatoError as exc:
                raise _settings_failure(exc) from None
        return self._settings

    def override(self, **changes: object) -> Settings:
        """The settings with command-line options laid over them (None: not given)."""
        try:
            return self.settings.replace(**changes)
        except LegatoError as exc:
            raise _settings_failure(exc) from None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self.new_client(with_token=True)
        return self._client

    def new_client(self, *, with_token: bool) -> Client:
        """A client of the server: the injected HTTP client's (tests), or one of its own
        with the token `legato login` kept (or LEGATO_TOKEN)."""
        url = self.settings.url
        if self.http is not None:
            return Client(url, http=self.http)
        from legato.cli.credentials import token_for

        token = token_for(url, self.env) if with_token else None
        return Client(url, token=token, user_agent=USER_AGENT)

    @property
    def out(self) -> Console:
        return self._console(stderr=False)

    @property
    def err(self) -> Console:
        return self._console(stderr=True)

    def _console(self, *, stderr: bool) -> Console:
        console = Console(width=self.width, highlight=False, soft_wrap=True, stderr=stderr)
        if self.width is None and not console.is_terminal and "COLUMNS" not in self.env:
            console.width = PIPE_WIDTH  # piped into grep or a file: do not fold ids at 80
        return console
