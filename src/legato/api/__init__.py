"""The REST API (FastAPI): `create_app(legato)` returns the ASGI app."""

from legato.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
