"""Settings for the CLI and the API server, read from `LEGATO_*` variables in one place.

    settings = Settings.from_env()              # os.environ
    settings = Settings.from_env({"LEGATO_PORT": "9000"})   # tests pass their own mapping

Only the command line and the API read settings: the engine, the store and the runtime
take plain arguments, so an embedded user of `Legato(...)` never meets an environment
variable by surprise. An empty variable counts as unset. A bad value raises
`InvalidInput` naming the variable, before anything is opened or started.

| variable                    | default                 | meaning                                  |
| --------------------------- | ----------------------- | ---------------------------------------- |
| LEGATO_DATABASE             | legato.db (in the cwd)  | SQLite path or URL, or postgresql://...  |
| LEGATO_URL                  | http://127.0.0.1:8080   | the server the client commands talk to   |
| LEGATO_HOST                 | 127.0.0.1               | where `legato server` listens            |
| LEGATO_PORT                 | 8080                    |                                          |
| LEGATO_WORKER_CONCURRENCY   | 64                      | handlers running at once, per worker     |
| LEGATO_LOCK_SECONDS         | 30                      | how long a claimed job stays locked      |
| LEGATO_POLL_INTERVAL        | 0.5                     | seconds between polls for others' jobs   |
| LEGATO_SQLITE_SYNCHRONOUS   | NORMAL                  | OFF, NORMAL, FULL or EXTRA               |
| LEGATO_ALLOWED_HOSTS        | (loopback + LEGATO_HOST)| Host names the server answers to, commas |
| LEGATO_CORS_ORIGINS         | (none: CORS off)        | origins allowed to call the API, commas  |
| LEGATO_SENSITIVE_VARIABLES  | (none)                  | glob patterns of sensitive variables     |
| LEGATO_DATABASE_CONNECT_TIMEOUT | 5                   | seconds to connect or to wait for a pooled one |
| LEGATO_DATABASE_TIMEOUT     | 10                      | PostgreSQL statement timeout, seconds    |
| LEGATO_LOG_LEVEL            | info                    | a level, or per logger: warning,legato.jobs=info |
| LEGATO_LOG_FORMAT           | text                    | text or json (one object per line)       |
| LEGATO_ACCESS_LOG           | on                      | `legato server` logs every request (on/off) |
| LEGATO_OIDC_ISSUER          | (none: no SSO)          | the OpenID Connect provider's issuer URL |
| LEGATO_OIDC_CLIENT_ID       | (required with issuer)  | this server's client id at the provider  |
| LEGATO_OIDC_CLIENT_SECRET   | (none: a public client) | its secret, for a confidential client    |
| LEGATO_OIDC_SCOPES          | openid profile email    | scopes asked for at login (spaces/commas)|
| LEGATO_OIDC_REDIRECT_URL    | (this server's callback)| public URL of .../api/v1/auth/oidc/callback |
| LEGATO_OIDC_USERNAME_CLAIM  | preferred_username      | the claim that names the user (else sub) |
| LEGATO_OIDC_GROUPS_CLAIM    | groups                  | the claim listing the provider's groups  |
| LEGATO_OIDC_GROUP_MAP       | (none)                  | idp-group=legato-group,... (others: none)|
| LEGATO_OIDC_DISPLAY_NAME    | Single sign-on          | the login button's text                  |
| LEGATO_OIDC_AUDIENCE        | (the client id)         | audiences a bearer JWT may name, commas  |
| LEGATO_OIDC_ALGORITHMS      | RS*, PS*, ES*, EdDSA    | accepted signature algorithms, commas    |
| LEGATO_AUDIT_KEY            | (generated, see below)  | the audit chain's HMAC key(s), commas    |
| LEGATO_ENCRYPTION_KEY_FILE  | (none: no encryption)   | the key file of encryption at rest       |
| LEGATO_ENCRYPTION_KEYS      | (none)                  | or the keys themselves, base64, commas   |
| LEGATO_ENCRYPT              | sensitive               | what is encrypted: sensitive or all      |
| LEGATO_EXPRESSION_CPU_LIMIT | 0.1                     | CPU seconds one expression may take      |
| LEGATO_SCRIPT_CPU_LIMIT     | 1                       | CPU seconds one script or decision may take |

LEGATO_AUDIT_KEY: the first key signs new audit rows, all of them verify old ones (key
rotation). Unset, a key is generated once (legato.store.audit says where).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from legato.errors import InvalidInput

if TYPE_CHECKING:
    from legato.access.oidc import OidcSettings
    from legato.runtime.worker import WorkerSettings
    from legato.store.sealing import Keyring

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    database: str = "legato.db"
    url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    worker_concurrency: int = 64
    lock_seconds: float = 30.0
    poll_interval: float = 0.5
    sqlite_synchronous: str = "NORMAL"
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    sensitive_variables: tuple[str, ...] = ()
    database_connect_timeout: float = 5.0
    database_timeout: float = 10.0
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = True
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: tuple[str, ...] = ("openid", "profile", "email")
    oidc_redirect_url: str | None = None
    oidc_username_claim: str = "preferred_username"
    oidc_groups_claim: str = "groups"
    oidc_group_map: tuple[tuple[str, str], ...] = ()
    oidc_display_name: str = "Single sign-on"
    oidc_audience: tuple[str, ...] = ()
    oidc_algorithms: tuple[str, ...] = ()
    audit_keys: tuple[bytes, ...] = dataclasses.field(default=(), repr=False)  # secret: never printed
    task_attachment_max_bytes: int = 10 * 1024 * 1024  # store/task_files.py
    encryption_key_file: str | None = None
    encryption_keys: tuple[bytes, ...] = dataclasses.field(default=(), repr=False)  # secret: never printed
    encrypt: str = "sensitive"
    expression_cpu_limit: float = 0.1  # legato.expressions.DEFAULT_EXPRESSION_CPU_LIMIT
    script_cpu_limit: float = 1.0  # legato.expressions.DEFAULT_SCRIPT_CPU_LIMIT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: the process environment)."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field, (variable, parse) in _VARIABLES.items():
            raw = source.get(variable, "").strip()
            if raw:
                values[field] = parse(variable, raw)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """These settings with command-line options laid over them; None leaves a value.

        Values are checked as the variables are, and an error names the option.
        """
        checked: dict[str, Any] = {}
        for field, value in changes.items():
            if value is None:
                continue
            _variable, parse = _VARIABLES[field]
            option = _OPTIONS.get(field, "--" + field.replace("_", "-"))
            checked[field] = parse(option, str(value))
        return dataclasses.replace(self, **checked)

    def oidc(self) -> OidcSettings | None:
        """The single sign-on provider, or None when LEGATO_OIDC_ISSUER is unset."""
        if self.oidc_issuer is None:
            return None
        from legato.access.oidc import OidcSettings

        if not self.oidc_client_id:
            raise InvalidInput(
                "LEGATO_OIDC_ISSUER is set: LEGATO_OIDC_CLIENT_ID must be too",
                details={"variable": "LEGATO_OIDC_CLIENT_ID"},
            )
        optional: dict[str, Any] = {"algorithms": self.oidc_algorithms} if self.oidc_algorithms else {}
        return OidcSettings(
            issuer=self.oidc_issuer,
            client_id=self.oidc_client_id,
            client_secret=self.oidc_client_secret,
            scopes=self.oidc_scopes,
            redirect_url=self.oidc_redirect_url,
            username_claim=self.oidc_username_claim,
            groups_claim=self.oidc_groups_claim,
            group_map=dict(self.oidc_group_map),
            display_name=self.oidc_display_name,
            audiences=self.oidc_audience,
            **optional,
        )

    def keyring(self) -> Keyring | None:
        """The keys of encryption at rest (store/sealing.py), or None: encryption is off.

        From LEGATO_ENCRYPTION_KEYS or the key file LEGATO_ENCRYPTION_KEY_FILE, not both (which
        would leave unclear which key seals)."""
        from legato.store.sealing import Keyring

        if self.encryption_keys and self.encryption_key_file:
            raise InvalidInput(
                "set LEGATO_ENCRYPTION_KEYS or LEGATO_ENCRYPTION_KEY_FILE, not both",
                details={"variable": "LEGATO_ENCRYPTION_KEYS"},
            )
        if self.encryption_keys:
            return Keyring(keys=self.encryption_keys)
        if self.encryption_key_file:
            return Keyring.from_file(self.encryption_key_file)
        return None

    def worker_settings(self) -> WorkerSettings:
        from legato.runtime.worker import WorkerSettings

        return WorkerSettings(
            concurrency=self.worker_concurrency,
            lock_seconds=self.lock_seconds,
            poll_interval=self.poll_interval,
        )


def _database(variable: str, raw: str) -> str:
    if "://" in raw:
        scheme = raw.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in DATABASE_SCHEMES:
            raise _bad(variable, raw, "a SQLite path, a sqlite:/// URL or a postgresql:// URL")
    return raw


def _url(variable: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or len(raw) <= len("https://"):
        raise _bad(variable, raw, "an http:// or https:// URL")
    return raw.rstrip("/")


def _host(variable: str, raw: str) -> str:
    if any(c.isspace() for c in raw):
        raise _bad(variable, raw, "a host name or IP address")
    return raw


def _integer(low: int, high: int) -> Callable[[str, str], int]:
    def parse(variable: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise _bad(variable, raw, f"an integer from {low} to {high}") from None
        if not low <= value <= high:
            raise _bad(variable, raw, f"an integer from {low} to {high}")
        return value

    return parse


def _seconds(variable: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _bad(variable, raw, "a positive number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise _bad(variable, raw, "a positive number of seconds")
    return value


def _synchronous(variable: str, raw: str) -> str:
    value = raw.upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise _bad(variable, raw, "one of " + ", ".join(SQLITE_SYNCHRONOUS))
    return value


def _hosts(variable: str, raw: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in raw.split(",") if name.strip())
    if any(c.isspace() or c in "/@" for name in names for c in name):
        raise _bad(variable, raw, "host names separated by commas")
    return names


def _origins(variable: str, raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise _bad(variable, raw, "origins like https://app.example.com separated by commas")
    return origins


def _patterns(variable: str, raw: str) -> tuple[str, ...]:
    from legato.model.sensitive import parse_patterns

    try:
        return parse_patterns(raw)
    except ValueError as exc:
        raise _bad(variable, raw, f"variable names or glob patterns separated by commas ({exc})") from None


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _log_levels(variable: str, raw: str) -> str:
    """`info`, or `warning,legato.jobs=info,legato.http=warning`: a level for the root and per logger."""
    items = []
    for item in (part.strip() for part in raw.split(",") if part.strip()):
        name, equals, level = item.rpartition("=")
        level = level.strip().lower()
        if level not in _LOG_LEVELS or (equals and not name.strip()):
            raise _bad(variable, raw, f"a level ({', '.join(_LOG_LEVELS)}) or LOGGER=LEVEL items separated by commas")
        items.append(f"{name.strip()}={level}" if equals else level)
    if not items:
        raise _bad(variable, raw, "a log level")
    return ",".join(items)


def _log_format(variable: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("text", "json"):
        raise _bad(variable, raw, "text or json")
    return value


def _switch(variable: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise _bad(variable, raw, "on or off")


def _text(variable: str, raw: str) -> str:
    return raw


def _words(variable: str, raw: str) -> tuple[str, ...]:
    return tuple(word for word in raw.replace(",", " ").split() if word)


def _list(variable: str, raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _http_url(variable: str, raw: str) -> str:
    scheme, _, rest = raw.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in raw):
        raise _bad(variable, raw, "an https:// URL")
    return raw


def _group_map(variable: str, raw: str) -> tuple[tuple[str, str], ...]:
    """`idp-group=legato-group,...`; the Legato side is a Legato group name (lower case)."""
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        provider_group, sep, legato_group = item.rpartition("=")
        provider_group, legato_group = provider_group.strip(), legato_group.strip().lower()
        if not sep or not provider_group or not legato_group or any(c in legato_group for c in " /\\\t"):
            raise _bad(variable, raw, "pairs idp-group=legato-group separated by commas")
        pairs.append((provider_group, legato_group))
    return tuple(pairs)


def _audit_keys(variable: str, raw: str) -> tuple[bytes, ...]:
    from legato.store.audit import parse_keys

    return parse_keys(raw)


def _encryption_keys(variable: str, raw: str) -> tuple[bytes, ...]:
    from legato.store.sealing import Keyring

    return Keyring.parse(raw, where=variable).keys


def _encrypt(variable: str, raw: str) -> str:
    from legato.store.sealing import MODES

    if raw.lower() not in MODES:
        raise _bad(variable, raw, " or ".join(MODES))
    return raw.lower()


def _bad(variable: str, raw: str, expected: str) -> InvalidInput:
    return InvalidInput(f"{variable} must be {expected}, not {raw!r}", details={"variable": variable})


_VARIABLES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "database": ("LEGATO_DATABASE", _database),
    "url": ("LEGATO_URL", _url),
    "host": ("LEGATO_HOST", _host),
    "port": ("LEGATO_PORT", _integer(1, 65535)),
    "worker_concurrency": ("LEGATO_WORKER_CONCURRENCY", _integer(1, 10_000)),
    "lock_seconds": ("LEGATO_LOCK_SECONDS", _seconds),
    "poll_interval": ("LEGATO_POLL_INTERVAL", _seconds),
    "sqlite_synchronous": ("LEGATO_SQLITE_SYNCHRONOUS", _synchronous),
    "allowed_hosts": ("LEGATO_ALLOWED_HOSTS", _hosts),
    "cors_origins": ("LEGATO_CORS_ORIGINS", _origins),
    "sensitive_variables": ("LEGATO_SENSITIVE_VARIABLES", _patterns),
    "database_connect_timeout": ("LEGATO_DATABASE_CONNECT_TIMEOUT", _seconds),
    "database_timeout": ("LEGATO_DATABASE_TIMEOUT", _seconds),
    "log_level": ("LEGATO_LOG_LEVEL", _log_levels),
    "log_format": ("LEGATO_LOG_FORMAT", _log_format),
    "access_log": ("LEGATO_ACCESS_LOG", _switch),
    "oidc_issuer": ("LEGATO_OIDC_ISSUER", _http_url),
    "oidc_client_id": ("LEGATO_OIDC_CLIENT_ID", _text),
    "oidc_client_secret": ("LEGATO_OIDC_CLIENT_SECRET", _text),
    "oidc_scopes": ("LEGATO_OIDC_SCOPES", _words),
    "oidc_redirect_url": ("LEGATO_OIDC_REDIRECT_URL", _http_url),
    "oidc_username_claim": ("LEGATO_OIDC_USERNAME_CLAIM", _text),
    "oidc_groups_claim": ("LEGATO_OIDC_GROUPS_CLAIM", _text),
    "oidc_group_map": ("LEGATO_OIDC_GROUP_MAP", _group_map),
    "oidc_display_name": ("LEGATO_OIDC_DISPLAY_NAME", _text),
    "oidc_audience": ("LEGATO_OIDC_AUDIENCE", _list),
    "oidc_algorithms": ("LEGATO_OIDC_ALGORITHMS", _list),
    "audit_keys": ("LEGATO_AUDIT_KEY", _audit_keys),
    "task_attachment_max_bytes": ("LEGATO_TASK_ATTACHMENT_MAX_BYTES", _integer(1, 100 * 1024 * 1024)),
    "encryption_key_file": ("LEGATO_ENCRYPTION_KEY_FILE", _text),
    "encryption_keys": ("LEGATO_ENCRYPTION_KEYS", _encryption_keys),
    "encrypt": ("LEGATO_ENCRYPT", _encrypt),
    "expression_cpu_limit": ("LEGATO_EXPRESSION_CPU_LIMIT", _seconds),
    "script_cpu_limit": ("LEGATO_SCRIPT_CPU_LIMIT", _seconds),
}

_OPTIONS = {"worker_concurrency": "--concurrency"}

__all__ = ["Settings"]
