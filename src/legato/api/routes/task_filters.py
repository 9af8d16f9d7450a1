"""Saved task filters: named queries of `GET /tasks`, a person's own or shared with a group.

`GET /tasks?filter=ID` uses one. Every route needs `tasks:read` (a filter only reads);
the store decides who sees and changes which filter (store/task_filters.py): the owner,
the members of the group it is shared with, and operators (`tasks:assign`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from legato.access import Principal
from legato.api.deps import LegatoDep
from legato.api.problems import problem_responses
from legato.api.schemas import SaveTaskFilter, TaskFilter, TaskFilterList
from legato.api.security import PrincipalDep
from legato.api.task_queries import task_query
from legato.runtime.app import Legato

router = APIRouter(tags=["tasks"])


def _operator(principal: Principal) -> bool:
    return principal.may("tasks:assign")


def _checked(legato: Legato, body: SaveTaskFilter, principal: Principal) -> None:
    """A filter that could not run is refused now, naming the field (400 INVALID_FILTER)."""
    task_query(body.query, principal, legato.clock.now())


@router.get(
    "/task-filters",
    response_model=TaskFilterList,
    summary="Your task filters and your groups'",
    responses=problem_responses(),
)
def list_filters(legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"items": legato.store.task_filters.list_for(principal.name, principal.groups)}


@router.post(
    "/task-filters",
    response_model=TaskFilter,
    status_code=201,
    summary="Save a task filter, for yourself or shared with one of your groups",
    responses=problem_responses(403, 404),
)
def create_filter(body: SaveTaskFilter, legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    _checked(legato, body, principal)
    return legato.store.task_filters.create(
        name=body.name,
        owner=principal.name,
        query=body.query,
        group=body.group,
        groups=principal.groups,
        operator=_operator(principal),
        now=legato.clock.now().timestamp(),
    )


@router.get(
    "/task-filters/{filter_id}", response_model=TaskFilter, summary="One task filter", responses=problem_responses(404)
)
def get_filter(filter_id: int, legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    return legato.store.task_filters.get(
        filter_id, user=principal.name, groups=principal.groups, operator=_operator(principal)
    )


@router.put(
    "/task-filters/{filter_id}",
    response_model=TaskFilter,
    summary="Change a task filter (its owner or an operator)",
    responses=problem_responses(403, 404),
)
def update_filter(filter_id: int, body: SaveTaskFilter, legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    _checked(legato, body, principal)
    return legato.store.task_filters.update(
        filter_id,
        name=body.name,
        query=body.query,
        group=body.group,
        user=principal.name,
        groups=principal.groups,
        operator=_operator(principal),
        now=legato.clock.now().timestamp(),
    )


@router.delete(
    "/task-filters/{filter_id}",
    status_code=204,
    summary="Delete a task filter (its owner or an operator)",
    responses=problem_responses(403, 404),
)
def delete_filter(filter_id: int, legato: LegatoDep, principal: PrincipalDep) -> Response:
    legato.store.task_filters.delete(
        filter_id, user=principal.name, groups=principal.groups, operator=_operator(principal)
    )
    return Response(status_code=204)
