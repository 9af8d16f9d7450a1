"""Legato: durable process orchestration."""
