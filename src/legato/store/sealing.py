"""Encryption at rest: sensitive variables sealed with AES-256-GCM, each value naming its key.

A sealed value is what the database holds in place of a plaintext: inside JSON, the object
`{"$sealed": "1.<key id>.<base64url(nonce || ciphertext || tag)>"}`; in a text column, the
string `"$sealed:1.<key id>.<...>"`. The plaintext is the JSON of the value (the UTF-8 of
the text). GCM's tag makes a changed byte fail to open (`SealedValueTampered`), and the key
id says which key opens it, so keys rotate: new values are sealed with the primary key, old
ones open with any key still in the ring until `legato keys rotate` has re-sealed them.

What is sealed (`Sealing`, per instance, from its variables and its process's sensitive
names; docs/security.md, "Encryption at rest"):

- in `instances.variables`, the value of each sensitive variable, and of any other variable
  that holds a sensitive datum (a nested key such as `customer.password`, or a copy of a
  sensitive value); the names stay readable, so the other variables stay searchable;
- in `instances.state`, the same for the local variables of subprocesses and loops;
- documents no query looks into (history data, job payloads, user task payloads and
  drafts, decision results) and texts (incident messages and stacks, job errors): whole,
  when they hold a sensitive datum;
- with `mode="all"`, every variable's value and every such document and text.

Keys never touch the database: they come from a key file or the environment (`Keyring`).
Opening is transparent: the store's reads return plaintext (`Sealer.open_tree`), and what a
caller may see of it is decided above, by masking.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from legato.errors import EncryptionKeyMissing, InvalidInput, SealedValueTampered
from legato.model.sensitive import SensitiveNames

SEALED: Final = "$sealed"
TEXT_PREFIX: Final = "$sealed:"
FORMAT: Final = "1"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
MIN_SECRET: Final = 4
"""Shorter values are not looked for inside documents (as masking does: access/masking.py)."""
_AAD: Final = b"legato sealed value v1"
_MARKER: Final = '"$sealed"'

Mode = Literal["sensitive", "all"]
MODES: Final = ("sensitive", "all")


def key_id(key: bytes) -> str:
    """A short, stable name for a key, kept in every value it seals (it reveals nothing of the key)."""
    return hashlib.sha256(b"legato-encryption-key-id:" + key).hexdigest()[:12]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def decode_key(text: str, *, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise InvalidInput(
            f"{where}: an encryption key is {KEY_BYTES} random bytes in base64 (`legato keys generate` makes one)",
            details={"setting": where},
        )
    return key


@dataclass(frozen=True, kw_only=True, slots=True)
class Keyring:
    """The keys that open sealed values, and the primary one that seals new values."""

    keys: tuple[bytes, ...]  # the first is the primary

    def __post_init__(self) -> None:
        if not self.keys:
            raise InvalidInput("an encryption keyring needs at least one key")

    @property
    def primary(self) -> str:
        return key_id(self.keys[0])

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(key) for key in self.keys)

    @classmethod
    def parse(cls, text: str, *, where: str) -> Keyring:
        """Keys one a line (or separated by commas), `#` comments; the first is the primary."""
        parts = [part.strip() for line in text.splitlines() for part in line.split("#", 1)[0].split(",")]
        return cls(keys=tuple(decode_key(part, where=where) for part in parts if part))

    @classmethod
    def from_file(cls, path: str | Path) -> Keyring:
        file = Path(path)
        try:
            text = file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"cannot read the encryption key file {str(file)!r}: {exc}", details={"setting": "key file"}
            ) from None
        return cls.parse(text, where=f"key file {file}")

    def text(self) -> str:
        """The key file's content: the primary first."""
        lines = ["# Legato encryption keys: the first seals, all open. Keep this file secret and backed up."]
        lines += [f"{encode_key(key)}  # {key_id(key)}" for key in self.keys]
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path) -> None:
        """Write the key file (mode 0600) through a temporary file, so no reader sees half a file."""
        file = Path(path)
        scratch = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(self.text())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(scratch, file)
        finally:
            scratch.unlink(missing_ok=True)

    def with_new_primary(self, key: bytes) -> Keyring:
        return Keyring(keys=(key, *(k for k in self.keys if k != key)))

    def only_primary(self) -> Keyring:
        return Keyring(keys=self.keys[:1])


class Sealer:
    """Seals and opens values with a keyring; `mode` says which variables are sealed."""

    def __init__(self, keyring: Keyring | None, *, mode: Mode = "sensitive") -> None:
        """`keyring` None: a sealer that opens nothing and seals nothing, so that a server
        without keys meets a sealed value with ENCRYPTION_KEY_MISSING, never with its ciphertext."""
        if mode not in MODES:
            raise InvalidInput(f"encryption mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.keyring = keyring
        self.mode: Mode = mode
        self._ciphers = {} if keyring is None else {key_id(key): AESGCM(key) for key in keyring.keys}
        self._primary = "" if keyring is None else keyring.primary

    # -- the primitive -----------------------------------------------------------------------

    def seal_bytes(self, plaintext: bytes) -> str:
        if not self._primary:
            raise EncryptionKeyMissing("(none: no encryption key is configured)")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._primary].encrypt(nonce, plaintext, _AAD)
        return f"{FORMAT}.{self._primary}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii').rstrip('=')}"

    def open_bytes(self, token: str) -> bytes:
        version, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        if version != FORMAT or not kid or not body:
            raise SealedValueTampered(f"a sealed value is malformed (it reads {token[:24]!r}...)", key_id=kid or None)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise EncryptionKeyMissing(kid)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD)
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedValueTampered(
                f"a value sealed with key {kid} does not open: it was changed, or the key with that id is not the "
                "one that sealed it",
                key_id=kid,
            ) from None

    def key_of(self, token: str) -> str:
        return token.partition(".")[2].partition(".")[0]

    # -- values, documents, texts -----------------------------------------------------------

    def seal_value(self, value: Any) -> dict[str, str]:
        return {SEALED: self.seal_bytes(orjson.dumps(value))}

    def seal_document(self, value: Any) -> str:
        """A whole JSON document as stored: `{"$sealed": ...}`."""
        return orjson.dumps({SEALED: self.seal_bytes(orjson.dumps(value))}).decode()

    def seal_text(self, text: str) -> str:
        return TEXT_PREFIX + self.seal_bytes(text.encode())

    def open_tree(self, value: Any) -> Any:
        """`value` with every sealed value in it opened (what the store's reads return)."""
        if isinstance(value, dict):
            token = value.get(SEALED)
            if len(value) == 1 and isinstance(token, str):
                return self.open_tree(orjson.loads(self.open_bytes(token)))
            return {key: self.open_tree(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.open_tree(item) for item in value]
        if isinstance(value, str) and value.startswith(TEXT_PREFIX):
            return self.open_bytes(value[len(TEXT_PREFIX) :]).decode()
        return value

    def loads(self, text: str | bytes | None) -> Any:
        """JSON from the database, opened."""
        if text is None:
            return None
        value = orjson.loads(text)
        marked = _MARKER in text if isinstance(text, str) else _MARKER.encode() in text
        return self.open_tree(value) if marked else value

    def tokens(self, value: Any) -> Iterable[str]:
        """Every sealed token in a stored JSON document or text (for rotation)."""
        if isinstance(value, dict):
            token = value.get(SEALED)
            if len(value) == 1 and isinstance(token, str):
                yield token
                return
            for item in value.values():
                yield from self.tokens(item)
        elif isinstance(value, list):
            for item in value:
                yield from self.tokens(item)
        elif isinstance(value, str) and value.startswith(TEXT_PREFIX):
            yield value[len(TEXT_PREFIX) :]

    def reseal(self, value: Any) -> Any:
        """A stored document or text with every sealed token re-sealed with the primary key."""
        if isinstance(value, dict):
            token = value.get(SEALED)
            if len(value) == 1 and isinstance(token, str):
                return (
                    value if self.key_of(token) == self._primary else {SEALED: self.seal_bytes(self.open_bytes(token))}
                )
            return {key: self.reseal(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.reseal(item) for item in value]
        if isinstance(value, str) and value.startswith(TEXT_PREFIX):
            token = value[len(TEXT_PREFIX) :]
            return (
                value if self.key_of(token) == self._primary else TEXT_PREFIX + self.seal_bytes(self.open_bytes(token))
            )
        return value

    def for_instance(self, names: SensitiveNames, *variables: Mapping[str, Any]) -> Sealing:
        """What to seal in the rows of one instance, given its variables before and after a
        step (a value removed in the step is still a secret of what the step records)."""
        if self.mode == "all":
            return Sealing(sealer=self, names=names, everything=True)
        found: frozenset[str] = frozenset()
        for each in variables:
            found |= _secrets(names, each)
        return Sealing(sealer=self, names=names, secrets=found)


@dataclass(frozen=True, kw_only=True, slots=True)
class Sealing:
    """The sealing of one instance's rows: its sensitive names and the values they hold."""

    sealer: Sealer
    names: SensitiveNames
    secrets: frozenset[str] = frozenset()  # each as it appears in JSON text (escaped)
    everything: bool = False

    def variables(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """A variables object as stored: sensitive values (and values holding one) sealed."""
        return {
            name: self.sealer.seal_value(value) if self.holds(name, value) else value
            for name, value in variables.items()
        }

    def holds(self, name: str, value: Any) -> bool:
        """Whether the variable `name` holding `value` must be sealed."""
        if self.everything or self.names.matches(name):
            return True
        if isinstance(value, str):
            return bool(self.secrets) and self._in_text(orjson.dumps(value).decode())
        if isinstance(value, dict | list):
            return self._nested_name(value) or (bool(self.secrets) and self._in_text(orjson.dumps(value).decode()))
        return bool(self.secrets) and _scalar(value) in self.secrets

    def state(self, state: dict[str, Any]) -> dict[str, Any]:
        """A stored instance state: the local variables of its scopes sealed like variables."""
        scopes = state.get("c")
        if not scopes:
            return state
        sealed = []
        for scope in scopes:
            scope = list(scope)
            if len(scope) > 5 and isinstance(scope[5], dict) and scope[5]:
                scope[5] = self.variables(scope[5])
            if len(scope) > 6 and scope[6] is not None and self.document_holds(scope[6]):
                scope[6] = self.sealer.seal_value(scope[6])
            sealed.append(scope)
        return {**state, "c": sealed}

    def document_holds(self, value: Any) -> bool:
        if self.everything:
            return True
        if isinstance(value, dict | list) and self._nested_name(value):
            return True
        return bool(self.secrets) and self._in_text(orjson.dumps(value).decode())

    def document(self, value: Any) -> str:
        """A JSON document as stored: sealed whole if it holds anything sensitive."""
        return self.sealer.seal_document(value) if self.document_holds(value) else orjson.dumps(value).decode()

    def text(self, text: str | None) -> str | None:
        """A text as stored (an error message, a stack): sealed whole if it holds a sensitive value."""
        if not text:
            return text
        if self.everything or (self.secrets and self._in_text(text)):
            return self.sealer.seal_text(text)
        return text

    def _in_text(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)

    def _nested_name(self, value: Any) -> bool:
        if isinstance(value, dict):
            return any(self.names.matches(str(key)) or self._nested_name(item) for key, item in value.items())
        if isinstance(value, list):
            return any(self._nested_name(item) for item in value)
        return False


def _scalar(value: Any) -> str:
    return orjson.dumps(value).decode()


def _secrets(names: SensitiveNames, variables: Mapping[str, Any]) -> frozenset[str]:
    """The sensitive values of an instance, as JSON text finds them: every leaf of a sensitive
    variable and of a nested key that matches, strings as escaped inside JSON, four
    characters or longer (shorter ones would match everywhere and protect nothing)."""
    found: set[str] = set()

    def leaves(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                leaves(item)
        elif isinstance(value, list):
            for item in value:
                leaves(item)
        elif isinstance(value, str):
            if len(value) >= MIN_SECRET:
                found.add(orjson.dumps(value).decode()[1:-1])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text = _scalar(value)
            if len(text) >= MIN_SECRET:
                found.add(text)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if names.matches(str(key)):
                    leaves(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    if names:
        walk(dict(variables))
    return frozenset(found)


KEYLESS: Final = Sealer(None)
"""What opens values on a server without keys: every sealed value is ENCRYPTION_KEY_MISSING."""

__all__ = [
    "FORMAT",
    "KEYLESS",
    "MODES",
    "SEALED",
    "TEXT_PREFIX",
    "Keyring",
    "Mode",
    "Sealer",
    "Sealing",
    "decode_key",
    "encode_key",
    "key_id",
    "new_key",
]
