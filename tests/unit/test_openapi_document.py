"""The OpenAPI document itself: errors in the one envelope, limits and signatures declared.

The schemathesis run (tests/e2e/test_openapi_contract.py) checks the server against this
document; these check the document says what clients need before any request is made.
"""

from __future__ import annotations

from typing import Any

import pytest

from relivchats.api.app import create_app
from relivchats.settings import Settings

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(environment="test")).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_error_status_answers_the_envelope(document):
    for method, path, operation in operations(document):
        if path == "/health/ready":  # its 503 is the readiness report, like its 200
            continue
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == ENVELOPE, f"{method} {path} {status}"


def test_every_route_with_a_token_declares_401_and_every_read_of_the_database_503(document):
    for method, path, operation in operations(document):
        if operation.get("security"):
            assert "401" in operation["responses"], f"{method} {path}"
        if path.startswith("/api/"):
            assert "503" in operation["responses"], f"{method} {path}"


def test_rate_limited_routes_declare_429_with_their_limit_and_retry_after(document):
    limited = {
        "/api/payments/orders": "10/minute",
        "/api/chats/upload": "20/hour",
        "/api/insights/unlock": "10/hour,3/minute",
    }
    for path, limit in limited.items():
        refused = document["paths"][path]["post"]["responses"]["429"]
        assert limit in refused["description"]
        assert refused["headers"]["Retry-After"]["required"] is True


def test_webhooks_declare_their_signature_headers_and_400(document):
    signatures = {"razorpay": "X-Razorpay-Signature", "stripe": "Stripe-Signature"}
    for provider, header in signatures.items():
        operation = document["paths"][f"/api/payments/webhooks/{provider}"]["post"]
        declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert declared[header]["required"] is True
        assert "400" in operation["responses"]


def test_min_position_is_an_integer_that_cannot_be_null(document):
    parameters = document["paths"]["/api/users/me"]["get"]["parameters"]
    for parameter in parameters:
        if parameter["name"] in ("min_position", "x-min-position"):
            assert parameter["schema"]["type"] == "integer"
            assert "anyOf" not in parameter["schema"]
