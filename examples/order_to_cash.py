"""Order to cash, written with the Python builder.

The same process as `src/legato/examples/order_to_cash.yaml`; both give a definition
with the same checksum (tests/formats/test_yaml_format.py holds them to it), and
docs/modeling.md shows the two side by side.

    python examples/order_to_cash.py    # prints the checksum
"""

from __future__ import annotations

from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition


def build() -> ProcessDefinition:
    p = Process("order_to_cash", name="Order to cash")

    # Made first because two paths lead into each: a credit denial and a refused
    # approval both notify the customer; small and approved orders are both fulfilled.
    notify_rejection = p.service("notify_rejection", "mail.rejection", name="Notify rejection")
    notify_rejection.then(p.end("order_rejected", name="Order rejected"))
    fulfil = p.parallel("fulfil", name="Fulfil")
    # Both ways an order is accepted meet here. A parallel gateway with two incoming flows
    # would wait for both (BPMN 2.0, 10.6.4), so the alternatives merge exclusively first.
    accepted = p.exclusive("order_accepted", name="Order accepted")
    accepted.then(fulfil)

    check_credit = p.start("order_received", name="Order received").then(
        p.service(
            "check_credit",
            "credit.check",
            name="Check credit",
            retry=RetryPolicy(max_attempts=5, initial_backoff=1),
            timeout=10,
        )
    )
    check_credit.on_error("CREDIT_DENIED", id="credit_denied", name="Credit denied").then(
        notify_rejection
    )

    order_size = check_credit.then(p.exclusive("order_size", name="Order size?"))
    approve_order = order_size.then(
        p.user("approve_order", name="Approve order", candidate_groups=["sales-leads"]),
        when="amount > 10000",
    )
    order_size.otherwise(accepted)

    approve_order.on_timer(duration="P2D", interrupting=False, id="approval_overdue").then(
        p.service("remind_approver", "mail.reminder", name="Remind approver")
    ).then(p.end("reminder_sent"))
    decision = approve_order.then(p.exclusive("approval_decision", name="Approved?"))
    decision.then(accepted, when="approved")
    decision.otherwise(notify_rejection)

    fulfilled = p.parallel("fulfilled", name="Fulfilled")
    fulfil.then(p.service("reserve_stock", "stock.reserve", name="Reserve stock")).then(fulfilled)
    fulfil.then(p.service("create_invoice", "billing.invoice", name="Create invoice")).then(
        fulfilled
    )

    with fulfilled.then(p.subprocess("shipping", name="Shipping")) as shipping:
        shipping.start("shipping_started").then(
            shipping.service("book_carrier", "shipping.book", name="Book carrier")
        ).then(
            shipping.catch_message("delivered", "order.delivered", correlation_key="order_id")
        ).then(shipping.end("shipping_done"))
    shipping.on_timer(duration="P14D", id="delivery_overdue", name="Delivery overdue").then(
        p.service("escalate_delivery", "ops.escalate", name="Escalate delivery")
    ).then(p.end("escalated"))

    shipping.then(p.service("collect_payment", "billing.collect", name="Collect payment")).then(
        p.end("order_completed", name="Order completed")
    )
    return p.build()


if __name__ == "__main__":
    from legato.model.serialize import checksum

    print(checksum(build()))
