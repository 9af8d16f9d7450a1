"""What route functions share: the `Legato` the app was made for, and who is acting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from legato.access import Principal
from legato.access.tenancy import visible
from legato.api.security import authorize
from legato.runtime.app import Legato
from legato.store.tenants import Visible


def get_legato(request: Request) -> Legato:
    legato: Legato = request.app.state.legato
    return legato


def get_actor(principal: Annotated[Principal, Depends(authorize)]) -> str:
    """The name recorded in the history for what this request does: the caller's."""
    return principal.name


LegatoDep = Annotated[Legato, Depends(get_legato)]
ActorDep = Annotated[str, Depends(get_actor)]


def get_visible(principal: Annotated[Principal, Depends(authorize)]) -> Visible:
    """The tenants whose rows this request may see (None: all): access/tenancy.py."""
    return visible(principal)


VisibleDep = Annotated[Visible, Depends(get_visible)]
TenantQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        description="a tenant: narrows a list to it, or names the tenant to work in "
        "(default: the caller's only tenant if it has exactly one, else the shared tenant)",
    ),
]
