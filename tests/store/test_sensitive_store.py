"""Sensitive data in the store: encrypted at rest, never echoed by a database error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from legato.store import Store
from sensitive_support import IBAN


def test_a_database_error_does_not_echo_the_values_it_was_given(database_url: str) -> None:
    """SQLAlchemy puts a failed statement's parameters into its message, which a worker
    logs (`committing ... failed`): the store hides them."""
    store = Store(database_url)
    try:
        row = {"instance_id": "i-1", "seq": 1, "at": 0.0, "type": "t", "data": f'{{"iban": "{IBAN}"}}'}
        insert = sa.text(
            "INSERT INTO history (instance_id, seq, at, type, data) VALUES (:instance_id, :seq, :at, :type, :data)"
        )
        with store.database.write() as conn:
            conn.execute(insert, row)
        with pytest.raises(sa.exc.IntegrityError) as caught, store.database.write() as conn:
            conn.execute(insert, row)
        assert IBAN not in str(caught.value)
        assert "hidden due to hide_parameters" in str(caught.value)
    finally:
        store.close()
