"""A fake Razorpay API for the real `razorpay` SDK: POST /v1/orders with HTTP Basic auth."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fakes.stripe_server import RecordedRequest, Reply, ScriptedProviderServer, json_reply


class FakeRazorpay(ScriptedProviderServer):
    def __init__(self, *, key_id: str, key_secret: str) -> None:
        super().__init__()
        self.credentials = f"{key_id}:{key_secret}"
        self.orders: dict[str, dict[str, Any]] = {}

    def error_body(self, status: int) -> bytes:
        code = "SERVER_ERROR" if status >= 500 else "BAD_REQUEST_ERROR"
        return json.dumps({"error": {"code": code, "description": "fake failure"}}).encode()

    def route(self, request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != _basic(self.credentials):
            return _razorpay_error(401, "Authentication failed")
        if (request.method, request.path) != ("POST", "/v1/orders"):
            return _razorpay_error(404, "The requested URL was not found on the server.")
        return self._create_order(json.loads(request.body or b"{}"))

    def _create_order(self, data: dict[str, Any]) -> Reply:
        amount = data.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _razorpay_error(400, "The amount must be atleast INR 1.00")
        with self._lock:
            order_id = f"order_fake{len(self.orders):010d}"
            order = {
                "id": order_id,
                "entity": "order",
                "amount": amount,
                "amount_paid": 0,
                "amount_due": amount,
                "currency": data.get("currency", "INR"),
                "receipt": data.get("receipt"),
                "status": "created",
                "attempts": 0,
                "notes": data.get("notes") or [],
            }
            self.orders[order_id] = order
        return json_reply(200, order)


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _razorpay_error(status: int, description: str) -> Reply:
    return json_reply(status, {"error": {"code": "BAD_REQUEST_ERROR", "description": description}})
