"""What route functions share: the `Legato` the app was made for, and who is acting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from legato.access import Principal
from legato.api.security import authorize
from legato.runtime.app import Legato


def get_legato(request: Request) -> Legato:
    legato: Legato = request.app.state.legato
    return legato


def get_actor(principal: Annotated[Principal, Depends(authorize)]) -> str:
    """The name recorded in the history for what this request does: the caller's."""
    return principal.name


LegatoDep = Annotated[Legato, Depends(get_legato)]
ActorDep = Annotated[str, Depends(get_actor)]
