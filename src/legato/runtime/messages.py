"""Messages sent along a collaboration's message flows (BPMN 2.0.2, 9.4 messageFlow).

In a BPMN file with several pools, a message throw event, message end event or send task
without an implementation of its own, whose message flows lead into another process of
the file that runs, gets the reserved task type `legato.message` and its `routes`
(formats/bpmn/reader.py). Every worker runs that task type itself, unless the user
registered their own handler for it: for each route it correlates the message the target
waits for (the target's message name decides, not the sender's) to the target process's
instances waiting at the target element, or its message start event, with the correlation key
the target's message declares, evaluated over the sender's variables, and the sender's
variables as the message's (a send task's input mappings, when it has them). So an
instance of one pool reaches the catching event of another pool's instance, or starts it.

Within the sender's tenant and the shared one, as any message. A message that reaches no
waiting instance and no message start event fails the job (MESSAGE_NOT_CORRELATED), which
retries by the task's policy and then holds in an incident: nothing is dropped in silence.
"""

from __future__ import annotations

from typing import Any

from legato.engine.expressions import evaluate
from legato.errors import EvaluationError
from legato.model.elements import MessageRoute
from legato.runtime.clock import Clock
from legato.runtime.handlers import HandlerFunction, Job
from legato.store import Store

__all__ = ["message_flow_handler"]


def message_flow_handler(store: Store, clock: Clock) -> HandlerFunction:
    """The handler of `legato.message` jobs: correlate along each of the element's routes."""

    def send_along_message_flows(job: Job) -> dict[str, Any]:
        instance = store.queries.instance(job.instance_id)
        stored = store.definitions.by_id(int(instance["definition_id"]))
        routes: tuple[MessageRoute, ...] = getattr(stored.model.elements.get(job.element), "routes", ())
        variables = {name: value for name, value in job.variables.items() if name != "message"}
        within = frozenset({job.tenant}) if job.tenant is not None else frozenset()
        for route in routes:
            key = None
            if route.correlation_key is not None:
                try:
                    value = evaluate(route.correlation_key, variables)
                except EvaluationError as error:
                    raise EvaluationError(
                        f"the correlation key {route.correlation_key!r} of message {route.message!r} "
                        f"(to {route.process!r}) cannot be evaluated over the sender's variables: {error.message}"
                    ) from None
                key = None if value is None else str(value)
            store.executor.correlate(
                message=route.message,
                correlation_key=key,
                variables=variables,
                now=clock.now(),
                actor=f"message flow from {job.element}",
                within=within,
                origin=job.tenant,
                process=route.process,  # the flow's target, not any process that waits for the name
                element=route.element or None,
            )
        return {}

    return send_along_message_flows
