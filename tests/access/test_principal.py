from __future__ import annotations

from legato.access import ANONYMOUS_DEV, Principal


def test_exact_resource_wide_and_global_grants() -> None:
    viewer = Principal(name="ann", kind="user", permissions=frozenset({"instances:read", "tasks:*"}))
    assert viewer.may("instances:read")
    assert viewer.may("tasks:complete")
    assert not viewer.may("instances:cancel")
    assert not viewer.may("definitions:read")
    assert ANONYMOUS_DEV.may("users:admin")


def test_a_grant_for_one_resource_does_not_leak_to_a_prefix_of_it() -> None:
    p = Principal(name="bob", kind="token", permissions=frozenset({"task:*"}))
    assert not p.may("tasks:read")
