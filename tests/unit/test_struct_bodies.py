"""A body typed as a msgspec Struct (not a web.bodies.Body) still answers 422 in this API's terms.

Litestar checks such bodies itself and stops at the first problem; web/problems.py
turns its messages into the same field names and codes a Body reports.
"""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from slotwise.web.bodies import TypedBodies
from slotwise.web.problems import problem_details_plugin


class Customer(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class Order(msgspec.Struct, forbid_unknown_fields=True):
    service: str
    notify: bool = True
    count: int = 1
    customer: Customer | None = None


@post("/orders")
async def order(data: JSONBody[Order]) -> None:
    return None


@pytest.mark.parametrize(("body", "name", "code"), [
    ({"service": 1}, "service", "string-expected"),
    ({"service": "a", "notify": "yes"}, "notify", "boolean-expected"),
    ({"service": "a", "zz": 1}, "zz", "field-unknown"),
    ({"notify": True}, "service", "required"),
    ({"service": "a", "customer": {"name": "A", "fax": "1"}}, "customer.fax", "field-unknown"),
    ({"service": "a", "customer": "A"}, "customer", "value-invalid"),
    ({"service": "a", "count": "many"}, "count", "value-invalid"),
    (None, "body", "required"),
])
async def test_a_structs_first_problem_is_named_with_our_code(body, name, code):
    app = Litestar([order], plugins=[problem_details_plugin(), TypedBodies()])
    async with AsyncTestClient(app) as client:
        response = await client.post("/orders", json=body) if body is not None else await client.post(
            "/orders", headers={"content-type": "application/json"})

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["name"], error["code"]) == (name, code)
