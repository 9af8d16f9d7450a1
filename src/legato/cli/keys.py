"""`legato keys generate | rotate | status`: the keys of encryption at rest (docs/security.md).

    legato keys generate --key-file /etc/legato/keys      # a new key file, or a new primary key in it
    legato keys generate                                   # print a key for LEGATO_ENCRYPTION_KEYS
    legato keys rotate                                     # re-seal what older keys sealed, in batches
    legato keys rotate --retire                            # ... then drop the old keys from the key file
    legato keys status                                     # how many values each key seals

The keys come from LEGATO_ENCRYPTION_KEY_FILE (or `--key-file`) or LEGATO_ENCRYPTION_KEYS;
the first one seals new values, all of them open old ones. These commands open the database
themselves (LEGATO_DATABASE or `--database`), as `legato audit verify --database` does: a
key never travels over the API.

Rotating a key: `generate` puts a new primary key first in the key file; restart (or roll)
every server and worker so that all of them seal with it; then `rotate` re-seals the old
values while they keep running, and `rotate --retire` (or a later run) removes the old keys
once nothing is sealed with them. `rotate` can be stopped and run again at any time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from legato.cli import render
from legato.cli.context import CliContext, Failure

KEY_FILE_HELP = "The key file (default: LEGATO_ENCRYPTION_KEY_FILE)."
DATABASE_HELP = "The database (default: LEGATO_DATABASE): SQLite path or postgresql://..."


@click.group()
def keys() -> None:
    """The keys of encryption at rest: generate, rotate, status (docs/security.md)."""


@keys.command("generate")
@click.option("--key-file", metavar="PATH", help=KEY_FILE_HELP)
@click.pass_obj
def keys_generate(obj: CliContext, key_file: str | None) -> None:
    """A new key: a new key file (mode 0600), or a new primary key first in an existing one.

    Without a key file, the key is printed, for LEGATO_ENCRYPTION_KEYS.
    """
    from legato.store.sealing import Keyring, encode_key, key_id, new_key

    key = new_key()
    path = key_file or obj.settings.encryption_key_file
    if path is None:
        obj.out.print(encode_key(key), markup=False)
        return
    file = Path(path)
    if file.exists():
        ring = _failing(lambda: Keyring.from_file(file)).with_new_primary(key)
        old = [kid for kid in ring.ids[1:]]
        ring.write(file)
        obj.out.print(f"new primary key {key_id(key)} in {file}; it seals new values from now on", markup=False)
        obj.out.print(
            f"older keys {', '.join(old)} still open what they sealed: restart the servers and workers, "
            "then run `legato keys rotate`",
            markup=False,
        )
        return
    Keyring(keys=(key,)).write(file)
    obj.out.print(f"wrote {file} (mode 0600) with key {key_id(key)}", markup=False)
    obj.out.print(
        f"set LEGATO_ENCRYPTION_KEY_FILE={file} for `legato server` and `legato worker`; back the file up: "
        "without it, encrypted values cannot be read",
        markup=False,
    )


@keys.command("rotate")
@click.option("--key-file", metavar="PATH", help=KEY_FILE_HELP)
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True, help="Rows a transaction.")
@click.option(
    "--retire", is_flag=True, help="When nothing is left under an old key, remove the old keys from the file."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def keys_rotate(
    obj: CliContext, key_file: str | None, database: str | None, batch: int, retire: bool, as_json: bool
) -> None:
    """Re-seal every value sealed with an older key with the primary key; resumable."""
    from legato.store.key_rotation import rotate

    ring, path = _keyring(obj, key_file)
    with _store(obj, database, ring) as store:
        assert store.sealer is not None

        def progress(column: str, rows: int) -> None:
            if not as_json:
                obj.err.print(f"{column}: {rows} rows looked at", markup=False)

        result = _failing(lambda: rotate(store.database, store.sealer, batch=batch, progress=progress))
    retired: list[str] = []
    if retire and result.done and not result.unknown and len(ring.keys) > 1:
        if path is None:
            raise Failure("INVALID_INPUT", "--retire edits a key file: pass --key-file or LEGATO_ENCRYPTION_KEY_FILE")
        retired = list(ring.ids[1:])
        ring.only_primary().write(path)
    if as_json:
        render.print_json({**result.public(), "retired": retired})
    else:
        obj.out.print(
            f"re-sealed {result.resealed} values in {result.rows} rows with key {result.primary} "
            f"({result.passes} passes; {result.raced} rows changed meanwhile were looked at again)",
            markup=False,
        )
        if retired:
            obj.out.print(f"removed the old keys {', '.join(retired)} from {path}", markup=False)
        elif result.done and len(ring.keys) > 1:
            obj.out.print("nothing is sealed with the older keys any more: `--retire` removes them", markup=False)
    if result.unknown:
        keys_named = ", ".join(f"{kid} ({count} values)" for kid, count in sorted(result.unknown.items()))
        raise Failure(
            "ENCRYPTION_KEY_MISSING", f"values sealed with keys this key file lacks stay as they are: {keys_named}"
        )
    if not result.done:
        raise Failure("ROTATION_INCOMPLETE", f"{result.remaining} values are still under older keys: run it again")


@keys.command("seal")
@click.option("--key-file", metavar="PATH", help=KEY_FILE_HELP)
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.option(
    "--batch", type=click.IntRange(1, 100_000), default=500, show_default=True, help="Instances a transaction."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def keys_seal(obj: CliContext, key_file: str | None, database: str | None, batch: int, as_json: bool) -> None:
    """Seal what was stored before encryption was on (or before LEGATO_ENCRYPT=all); resumable.

    \b
      legato keys seal                  after turning encryption on: the rows written before it
    """
    from legato.store.seal_existing import seal_existing

    ring, _path = _keyring(obj, key_file)
    with _store(obj, database, ring) as store:
        assert store.sealer is not None

        def progress(what: str, rows: int) -> None:
            if not as_json:
                obj.err.print(f"{what}: {rows} looked at", markup=False)

        result = _failing(
            lambda: seal_existing(store.database, store.sealer, store.sensitive_names, batch=batch, progress=progress)
        )
    if as_json:
        render.print_json(result.public())
        return
    obj.out.print(
        f"sealed {result.values} values in {result.rows} rows of {result.instances} instances with key {ring.primary}"
        + (f" ({result.raced} rows a server rewrote meanwhile, sealed by it)" if result.raced else ""),
        markup=False,
    )


@keys.command("status")
@click.option("--key-file", metavar="PATH", help=KEY_FILE_HELP)
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.pass_obj
def keys_status(obj: CliContext, key_file: str | None, database: str | None) -> None:
    """The keys in the ring, the primary first, and how many stored values are left under older ones."""
    from legato.store.key_rotation import count_old

    ring, _path = _keyring(obj, key_file)
    with _store(obj, database, ring) as store:
        assert store.sealer is not None
        remaining, unknown = _failing(lambda: count_old(store.database, store.sealer))
    obj.out.print(f"primary key {ring.primary}; older keys: {', '.join(ring.ids[1:]) or 'none'}", markup=False)
    obj.out.print(f"values under older keys: {remaining}", markup=False)
    for kid, count in sorted(unknown.items()):
        obj.out.print(f"values under key {kid}, which the ring lacks: {count}", markup=False)


def _keyring(obj: CliContext, key_file: str | None) -> tuple[Any, Path | None]:
    settings = obj.override(encryption_key_file=key_file)
    ring = _failing(settings.keyring)
    if ring is None:
        raise Failure(
            "INVALID_INPUT",
            "no encryption keys: set LEGATO_ENCRYPTION_KEY_FILE (or pass --key-file) or LEGATO_ENCRYPTION_KEYS",
            exit_code=2,
        )
    path = Path(settings.encryption_key_file) if settings.encryption_key_file and not settings.encryption_keys else None
    return ring, path


@contextmanager
def _store(obj: CliContext, database: str | None, ring: Any) -> Iterator[Any]:
    from legato.cli.demo import hide_password
    from legato.store import Store

    settings = obj.override(database=database)
    try:
        store = Store(
            settings.database,
            encryption_keys=ring,
            sensitive=settings.sensitive_variables,
            encrypt="all" if settings.encrypt == "all" else "sensitive",
        )
    except Exception as exc:
        raise Failure(
            "DATABASE_UNAVAILABLE", f"cannot open the database {hide_password(settings.database)}: {exc}"
        ) from None
    try:
        yield store
    finally:
        store.close()


def _failing(call: Any) -> Any:
    from legato.errors import LegatoError

    try:
        return call()
    except LegatoError as exc:
        raise Failure(exc.code, exc.message) from None
