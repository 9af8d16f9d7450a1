"""Where `legato login` keeps its token: one file per user, readable by that user only.

`$LEGATO_CONFIG_DIR/credentials.json` (default `$XDG_CONFIG_HOME/legato`, else
`~/.config/legato`), a map of server URL to token, written with mode 0600 in a 0700
folder. `LEGATO_TOKEN` in the environment wins over the file (for scripts and CI).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


def config_dir(env: Mapping[str, str]) -> Path:
    if env.get("LEGATO_CONFIG_DIR"):
        return Path(env["LEGATO_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "legato"


def _file(env: Mapping[str, str]) -> Path:
    return config_dir(env) / "credentials.json"


def _read(env: Mapping[str, str]) -> dict[str, str]:
    try:
        data = json.loads(_file(env).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def token_for(url: str, env: Mapping[str, str]) -> str | None:
    return env.get("LEGATO_TOKEN") or _read(env).get(url.rstrip("/"))


def store_token(url: str, token: str | None, env: Mapping[str, str]) -> Path:
    """Keep (or with None, forget) the token for `url`; the file is never world-readable."""
    folder = config_dir(env)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tokens = _read(env)
    if token is None:
        tokens.pop(url.rstrip("/"), None)
    else:
        tokens[url.rstrip("/")] = token
    path = _file(env)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(tokens, handle, indent=2)
    os.chmod(path, 0o600)
    return path
