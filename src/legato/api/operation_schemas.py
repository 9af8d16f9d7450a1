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


class CycleTime(BaseModel):
    p50: float | None
    p90: float | None
    p99: float | None


class KpiElement(BaseModel):
    element: str
    passes: int
    p50_seconds: float | None = Field(description="median time from entering to completing the element")
    p90_seconds: float | None


class Kpis(BaseModel):
    process: str
    version: int
    since: datetime
    until: datetime
    started: int = Field(description="instances started in the window")
    completed: int = Field(description="instances completed in the window")
    ended_otherwise: int = Field(description="instances terminated or cancelled in the window")
    cycle_time_seconds: CycleTime = Field(description="start to end of the instances completed in the window")
    throughput_per_day: float = Field(description="instances completed per day of the window")
    error_rate: float | None = Field(
        description="of the instances that ended in the window, the share that did not complete or met an incident"
    )
    automation_rate: float | None = Field(description="of those completed, the share that ran with no user task")
    per_element: list[KpiElement] = Field(description="time spent at each element (the heatmap's)")
