"""Demo handlers for `order_to_cash.yaml`: deterministic stand-ins for real systems.

`legato server --demo` registers them; `legato worker --handlers legato.examples.handlers`
runs them in a worker of their own. They return at once and derive every value from the
job, so a demo run and a test run tell the same story:

- `credit.check` denies credit (BPMN error CREDIT_DENIED, caught by a boundary event)
  when `amount` is over `credit_limit` (default 25000), so amounts above 10000 still
  reach the approval task and amounts above 25000 are rejected;
- the others answer like a mail server, a warehouse, billing and a carrier would.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from legato.errors import BpmnError
from legato.runtime.handlers import Handlers, Job

if TYPE_CHECKING:
    from legato.runtime.app import Legato

DEFAULT_CREDIT_LIMIT = 25_000

handlers = Handlers()


def _reference(prefix: str, job: Job) -> str:
    """A stable reference number for this order (the same on every retry)."""
    seed = str(job.variables.get("order_id") or job.instance_id)
    return f"{prefix}-{hashlib.sha256(seed.encode()).hexdigest()[:8].upper()}"


@handlers("credit.check")
def check_credit(job: Job) -> dict[str, Any]:
    amount = job.variables.get("amount", 0)
    limit = job.variables.get("credit_limit", DEFAULT_CREDIT_LIMIT)
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise ValueError(f"amount must be a number, not {amount!r}")
    if amount > limit:
        raise BpmnError(
            "CREDIT_DENIED",
            f"amount {amount} is over the credit limit of {limit}",
            variables={"credit_denied_reason": "over limit"},
        )
    return {"credit_approved": True, "credit_limit": limit}


@handlers("mail.rejection")
def notify_rejection(job: Job) -> dict[str, Any]:
    return {"rejection_sent": True, "rejection_mail_id": _reference("MAIL", job)}


@handlers("mail.reminder")
def remind_approver(job: Job) -> dict[str, Any]:
    return {"reminder_sent": True}


@handlers("stock.reserve")
def reserve_stock(job: Job) -> dict[str, Any]:
    return {"reservation_id": _reference("RES", job)}


@handlers("billing.invoice")
def create_invoice(job: Job) -> dict[str, Any]:
    return {"invoice_id": _reference("INV", job)}


@handlers("shipping.book")
def book_carrier(job: Job) -> dict[str, Any]:
    return {"carrier": "Parcelwise", "tracking_number": _reference("TRK", job)}


@handlers("ops.escalate")
def escalate_delivery(job: Job) -> dict[str, Any]:
    return {"escalated": True, "ticket_id": _reference("OPS", job)}


@handlers("billing.collect")
def collect_payment(job: Job) -> dict[str, Any]:
    return {"paid": True, "payment_id": _reference("PAY", job)}


def register(legato: Legato) -> None:
    """Register every demo handler with `legato`."""
    for task_type in handlers.types():
        handler = handlers.get(task_type)
        assert handler is not None
        legato.register(task_type, handler.function, timeout=handler.timeout)


__all__ = ["DEFAULT_CREDIT_LIMIT", "handlers", "register"]
