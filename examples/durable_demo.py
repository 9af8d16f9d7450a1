"""Start 10,000 orders, kill this script whenever you like, run it again: all finish.

    python examples/durable_demo.py            # starts the orders and works on them
    kill -9 <pid>                              # or Ctrl-C, at any moment
    python examples/durable_demo.py            # picks up where it stopped

Every side effect of a handler is recorded in a separate database (`demo-effects.db`,
standing in for the systems the process calls) under the job's idempotency key, with a
count of how often a handler ran for it. When all orders have finished, the script checks
that every step's effect exists exactly once and that every instance's history is
gap-free, however often it was killed.
"""

from __future__ import annotations

import argparse
import sqlite3
import threading
import time
from importlib import resources
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from legato import BpmnError, Job, Legato, StartRequest

ORDERS = 10_000


class Effects:
    """The outside world: one row per effect, keyed by idempotency key."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.local = threading.local()
        with self.connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, task_type TEXT, runs INTEGER NOT NULL)"
            )

    def connect(self) -> sqlite3.Connection:
        if not hasattr(self.local, "db"):
            self.local.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.local.db.execute("PRAGMA journal_mode=WAL")
        return self.local.db

    def apply(self, job: Job) -> None:
        self.connect().execute(
            "INSERT INTO effects (key, task_type, runs) VALUES (?, ?, 1) "
            "ON CONFLICT (key) DO UPDATE SET runs = runs + 1",
            (job.idempotency_key, job.task_type),
        )


def build_app(database: str, effects: Effects) -> Legato:
    app = Legato(database)

    def handler(result: dict[str, Any]) -> Any:
        def run(job: Job) -> dict[str, Any]:
            effects.apply(job)
            return result

        return run

    @app.handler("credit.check")
    def check_credit(job: Job) -> dict[str, Any]:
        effects.apply(job)
        if job.variables["amount"] > 9_000:
            raise BpmnError("CREDIT_DENIED")
        return {"credit_ok": True}

    for task_type in ("mail.rejection", "mail.reminder", "stock.reserve", "billing.invoice", "ops.escalate"):
        app.register(task_type, handler({}))
    app.register("shipping.book", handler({"carrier": "Parcelwise"}))
    app.register("billing.collect", handler({"paid": True}))
    app.deploy(resources.files("legato.examples").joinpath("order_to_cash.yaml").read_text())
    return app


def start_orders(app: Legato, count: int) -> None:
    """Idempotent: an order's key is its number, so a rerun never starts one twice."""
    for first in range(0, count, 500):
        app.start_many(
            [
                StartRequest(
                    process="order_to_cash",
                    variables={"order_id": f"A-{n}", "amount": (n * 37) % 10_000},
                    business_key=f"A-{n}",
                    idempotency_key=f"demo-order-{n}",
                )
                for n in range(first, min(first + 500, count))
            ]
        )


def deliver_waiting(app: Legato) -> int:
    """The carrier: deliver every order that waits for its delivery message."""
    delivered = 0
    for instance in app.instances(process="order_to_cash", status="active", limit=1000):
        if "delivered" in instance["waiting_at"]:
            try:
                app.send_message("order.delivered", instance["variables"]["order_id"])
                delivered += 1
            except Exception:  # already delivered by an earlier run: nothing to do
                pass
    return delivered


def verify(app: Legato, effects: Effects, count: int) -> None:
    counts = app.store.queries.count_instances(process="order_to_cash")
    assert counts == {"completed": count}, counts
    db = effects.connect()
    steps = db.execute("SELECT COUNT(*), SUM(runs) FROM effects").fetchone()
    redelivered = db.execute("SELECT COUNT(*) FROM effects WHERE runs > 1").fetchone()[0]
    print(f"{count} orders completed; {steps[0]} step effects, each applied once;")
    print(
        f"{steps[1] - steps[0]} handler runs were repeats after a kill ({redelivered} steps), all absorbed by the key."
    )
    with app.store.database.read() as conn:
        gaps = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM (SELECT instance_id, MAX(seq) AS m, COUNT(*) AS n FROM history "
            "GROUP BY instance_id) WHERE m <> n"
        ).scalar_one()
    assert gaps == 0, f"{gaps} instances have gaps in their history"
    print("every instance's history is complete and gap-free.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--database", default="demo.db")
    parser.add_argument("--effects", default="demo-effects.db")
    args = parser.parse_args()
    effects = Effects(args.effects)
    app = build_app(args.database, effects)
    start_orders(app, args.orders)
    columns = (TextColumn("orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with app.running(), Progress(*columns) as progress:
        bar = progress.add_task("orders", total=args.orders)
        while True:
            done = app.store.queries.count_instances(process="order_to_cash").get("completed", 0)
            progress.update(bar, completed=done)
            if done >= args.orders:
                break
            if not deliver_waiting(app):
                time.sleep(0.2)
    verify(app, effects, args.orders)
    app.close()


if __name__ == "__main__":
    main()
