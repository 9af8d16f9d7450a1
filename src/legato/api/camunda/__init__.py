"""Camunda 7 REST compatibility: the external-task protocol and the calls scripts make (routes.py)."""

from legato.api.camunda.routes import PREFIX, router

__all__ = ["PREFIX", "router"]
