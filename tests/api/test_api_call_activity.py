"""An instance's detail over HTTP names the instance that called it and those it called."""

from __future__ import annotations

from api_helpers import API, TestClient

from support import eventually

PARENT = """\
process: order
steps:
  - start: received
  - call: pay
    process: payment
  - end: done
"""
CHILD = """\
process: payment
steps:
  - start: start
  - user: approve
  - end: end
"""


def test_instance_detail_shows_parent_and_children(client: TestClient) -> None:
    for name, text in (("order.yaml", PARENT), ("payment.yaml", CHILD)):
        response = client.post(f"{API}/definitions", files={"file": (name, text)})
        assert response.status_code == 201, response.text
    started = client.post(f"{API}/definitions/order/instances", json={"variables": {"n": 1}}).json()
    parent = eventually(lambda: client.get(f"{API}/instances/{started['instance_id']}").json())
    assert parent["parent_id"] is None
    [child_id] = parent["children"]
    child = client.get(f"{API}/instances/{child_id}").json()
    assert (child["parent_id"], child["children"], child["variables"]) == (started["instance_id"], [], {"n": 1})
