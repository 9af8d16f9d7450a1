"""What route functions share: the `Legato` the app was made for, and the actor name."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from legato.runtime.app import Legato

API_ACTOR = "api"


def get_legato(request: Request) -> Legato:
    legato: Legato = request.app.state.legato
    return legato


LegatoDep = Annotated[Legato, Depends(get_legato)]
