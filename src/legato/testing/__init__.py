"""Test doubles that ship with Legato, so users test their processes the way we test ours."""

from legato.testing.engine_harness import EngineHarness, HarnessError, Incident, OpenWait

__all__ = ["EngineHarness", "HarnessError", "Incident", "OpenWait"]
