"""Masking applied: every answer that carries variables passes through one `Masker`.

The decisions are access/masking.py's; this module finds what they need for the rows of
an answer (each instance's process, the names its process holds sensitive, the values to
look for in text) with one query per answer, and skips all of it for a caller who may see
everything (an operator, an admin, `--insecure-no-auth`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from legato.access import Principal
from legato.access.masking import (
    Secrets,
    Visibility,
    mask_evaluation,
    mask_event,
    mask_incident,
    mask_instance,
    mask_task,
    mask_variables,
    scrub_message,
    secrets_of,
)
from legato.api.security import authorize
from legato.model.elements import BusinessRuleTask
from legato.model.sensitive import SensitiveNames
from legato.runtime.app import Legato


class Masker:
    """Masks the answers of one request for its caller."""

    def __init__(self, legato: Legato, principal: Principal) -> None:
        self.legato = legato
        self.principal = principal
        self.everywhere = Visibility.of(principal)

    @property
    def sees_everything(self) -> bool:
        return self.everywhere.sensitive and self.everywhere.stacks

    # -- per answer ------------------------------------------------------------------------

    def instance(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        return self.instances([instance])[0]

    def instances(self, instances: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if self.sees_everything:
            return [mask_instance(i, SensitiveNames(), Secrets(), self.everywhere) for i in instances]
        context = self._context(i["id"] for i in instances)
        masked = []
        for instance in instances:
            names, secrets, visibility, _definition = context.get(instance["id"], _UNKNOWN)
            if "history" in instance:  # values a sensitive variable had before count too
                secrets = _with_history(secrets, names, instance["history"])
            masked.append(mask_instance(instance, names, secrets, visibility))
        return masked

    def history(self, instance_id: str, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        names, secrets, visibility, _definition = self._one(instance_id)
        secrets = _with_history(secrets, names, events)
        return [mask_event(e, names, secrets, visibility) for e in events]

    def tasks(self, tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        context = {} if self.sees_everything else self._context(t["instance_id"] for t in tasks)
        return [mask_task(t, *context.get(t["instance_id"], self._everything())[:3]) for t in tasks]

    def task(self, task: Mapping[str, Any]) -> dict[str, Any]:
        return self.tasks([task])[0]

    def incidents(self, incidents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        context = {} if self.sees_everything else self._context(i["instance_id"] for i in incidents)
        result = []
        for incident in incidents:
            _names, secrets, visibility, _definition = context.get(incident["instance_id"], self._everything())
            result.append(mask_incident(incident, secrets, visibility))
        return result

    def incident(self, incident: Mapping[str, Any]) -> dict[str, Any]:
        return self.incidents([incident])[0]

    def evaluations(self, evaluations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if self.sees_everything:
            return [mask_evaluation(e, SensitiveNames(), Secrets(), self.everywhere) for e in evaluations]
        context = self._context(e["instance_id"] for e in evaluations if e.get("instance_id"))
        result = []
        for evaluation in evaluations:
            names, secrets, visibility, definition = context.get(evaluation.get("instance_id") or "", _global(self))
            whole = False
            if definition is not None and evaluation.get("element"):
                element = self.legato.store.definitions.by_id(definition).model.elements.get(evaluation["element"])
                target = element.result_variable if isinstance(element, BusinessRuleTask) else None
                whole = target is not None and names.matches(target)
            result.append(mask_evaluation(evaluation, names, secrets, visibility, whole=whole))
        return result

    def evaluated(self, result: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """A direct evaluation: the caller's own inputs, masked by the settings' patterns."""
        names = self.legato.store.sensitive
        return mask_evaluation(result, names, secrets_of(inputs, names), self.everywhere)

    def message(self, text: str, inputs: Mapping[str, Any]) -> str:
        """An error message that may echo the caller's inputs, scrubbed by the settings' patterns."""
        if self.everywhere.sensitive:
            return text
        return scrub_message(text, secrets_of(inputs, self.legato.store.sensitive))

    def variables(self, variables: Mapping[str, Any], definition_id: int) -> tuple[Any, list[str]]:
        names = self.legato.store.sensitive_names(definition_id)
        return mask_variables(dict(variables), names, secrets_of(variables, names))

    # -- what masking needs ----------------------------------------------------------------

    def _everything(self) -> tuple[SensitiveNames, Secrets, Visibility, int | None]:
        return SensitiveNames(), Secrets(), self.everywhere, None

    def _one(self, instance_id: str) -> tuple[SensitiveNames, Secrets, Visibility, int | None]:
        if self.sees_everything:
            return self._everything()
        return self._context([instance_id]).get(instance_id, _UNKNOWN)

    def _context(self, ids: Iterable[str]) -> dict[str, tuple[SensitiveNames, Secrets, Visibility, int | None]]:
        store = self.legato.store
        context: dict[str, tuple[SensitiveNames, Secrets, Visibility, int | None]] = {}
        for instance_id, (process, definition_id, variables) in store.queries.variables_of(ids).items():
            names = store.sensitive_names(definition_id)
            visibility = self.everywhere if process is None else Visibility.of(self.principal, process)
            secrets = Secrets() if visibility.sensitive else secrets_of(variables, names)
            context[instance_id] = (names, secrets, visibility, definition_id)
        return context


_UNKNOWN = (SensitiveNames(("*",)), Secrets(), Visibility(sensitive=False, stacks=False), None)
"""An instance that vanished between the query and the masking: show nothing of it."""


def _global(masker: Masker) -> tuple[SensitiveNames, Secrets, Visibility, int | None]:
    return masker.legato.store.sensitive, Secrets(), masker.everywhere, None


def _with_history(secrets: Secrets, names: SensitiveNames, events: Iterable[Mapping[str, Any]]) -> Secrets:
    """The values sensitive variables had in the history as well as now."""
    earlier = []
    for event in events:
        data = event.get("data")
        if isinstance(data, dict) and isinstance(data.get("variables"), dict):
            earlier.append(data["variables"])
    if not earlier:
        return secrets
    found = set(secrets.values)
    for variables in earlier:
        found |= secrets_of(variables, names).values
    return Secrets(frozenset(found))


def get_masker(request: Request, principal: Annotated[Principal, Depends(authorize)]) -> Masker:
    return Masker(request.app.state.legato, principal)


MaskerDep = Annotated[Masker, Depends(get_masker)]
