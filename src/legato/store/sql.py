"""Hot-path statements on the driver's cursor, inside SQLAlchemy's transaction.

SQLAlchemy owns connections, pooling, dialects and migrations. For the few statements a
worker runs thousands of times a second (load instances, write effects), its
per-statement work (compiling parameters, result wrapping) costs several times what the
database does, so these run on the DBAPI cursor of the same connection and transaction.
Statements are written once with `:name` parameters; PostgreSQL's `%(name)s` form is
derived from that. A list parameter for `IN` is written `:ids` inside `IN_LIST(...)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy.engine import Connection

_PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
_IN_LIST = re.compile(r"IN_LIST\(:([A-Za-z_][A-Za-z0-9_]*)\)")


@lru_cache(maxsize=256)
def _translate(sql: str, sqlite: bool) -> str:
    if sqlite:
        return _IN_LIST.sub(r"IN (SELECT value FROM json_each(:\1))", sql)
    sql = _IN_LIST.sub(r"= ANY(:\1)", sql)
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def _cursor(conn: Connection) -> Any:
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _prepare(params: Mapping[str, Any], sqlite: bool, lists: Iterable[str]) -> Mapping[str, Any]:
    if not sqlite:
        return params
    converted = dict(params)
    for name in lists:
        converted[name] = orjson.dumps(list(converted[name])).decode()
    return converted


def fetch(conn: Connection, sql: str, params: Mapping[str, Any], *, lists: Sequence[str] = ()) -> list[Any]:
    sqlite = conn.dialect.name == "sqlite"
    cursor = _cursor(conn)
    try:
        cursor.execute(_translate(sql, sqlite), _prepare(params, sqlite, lists))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def execute_many(conn: Connection, sql: str, rows: Sequence[Mapping[str, Any]]) -> int:
    if not rows:
        return 0
    sqlite = conn.dialect.name == "sqlite"
    cursor = _cursor(conn)
    try:
        cursor.executemany(_translate(sql, sqlite), rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()
