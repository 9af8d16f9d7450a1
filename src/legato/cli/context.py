"""What every command gets: settings, consoles, and a client of the server.

`main()` builds a `CliContext` from the process environment. Tests build their own and
pass it as click's `obj`, with the environment they want and an HTTP client that talks
to an app in the same process:

    runner.invoke(cli, ["instances"], obj=CliContext(env={}, http=TestClient(app)))
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.console import Console

from legato.cli.client import ApiClient, HttpClient, make_http
from legato.errors import LegatoError
from legato.settings import Settings

PIPE_WIDTH = 200


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
    http: HttpClient | None = None
    width: int | None = None  # console width; None: the terminal's
    url: str | None = None  # --url, over LEGATO_URL
    _settings: Settings | None = None
    _client: ApiClient | None = None

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
    def client(self) -> ApiClient:
        if self._client is None:
            url = self.settings.url
            if self.http is not None:
                http = self.http
            else:
                from legato.cli.credentials import token_for

                http = make_http(url, token=token_for(url, self.env))
            self._client = ApiClient(http, url)
        return self._client

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
