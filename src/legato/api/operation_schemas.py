"""Response bodies of the operations views: diagram statistics, heatmaps, incident groups,
bulk actions, and the instance's diagram overlay.

They describe exactly what `legato.store.statistics`, `legato.store.search` and the bulk
routes return, so the browser app can generate its types from the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from legato.api.schemas import InstanceCounts


class ElementStatistics(BaseModel):
    element: str = Field(description="the element id, as in the diagram")
    active: int = Field(description="tokens waiting at the element now")
    incidents: int = Field(description="open incidents at the element")
    completed: int = Field(description="passes completed at the element")


class DefinitionStatistics(BaseModel):
    key: str
    version: int
    definition_id: int
    instances: InstanceCounts = Field(description="instances of this version")
    elements: list[ElementStatistics] = Field(description="only elements with something to show")


class HeatmapElement(BaseModel):
    element: str
    passes: int = Field(description="completions in the window")
    p50_seconds: float | None = Field(description="median time from entering to completing")
    p90_seconds: float | None
    percentile_seconds: float | None = Field(default=None, description="the `percentile` asked for")


class Heatmap(BaseModel):
    key: str
    version: int
    since: datetime | None
    until: datetime | None
    percentile: float | None
    elements: list[HeatmapElement]
