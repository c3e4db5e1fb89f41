"""`POST /api/payments/orders` and `GET /api/payments/orders/{id}` through the HTTP API.

The session app runs the sandbox providers (no keys). Provider failures are driven through the
real SDKs: a second app is configured with keys whose base URLs point at local fake servers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from relivchats.api.app import create_app
from relivchats.domain.payments import order_id_for
from relivchats.settings import Settings
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.stripe_server import FakeStripe
from tests.payment_flows import Buyer, place_order, registered_buyer

PROVIDERS = ["razorpay", "stripe"]


@pytest.fixture
async def buyer(client, store, token_for, subject) -> Buyer:
    return await registered_buyer(client, store, token_for(subject))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_same_key_and_body_return_the_same_order(client, buyer, provider):
    first = await place_order(client, buyer, provider, key="key-1")
    again = await place_order(client, buyer, provider, key="key-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    same = ("order_id", "provider_order_id", "client_secret", "key_id", "amount_minor")
    assert [first.json()[k] for k in same] == [again.json()[k] for k in same]
    assert first.json()["order_id"] == str(order_id_for(buyer.user_id, "key-1"))


async def test_order_is_priced_in_the_provider_currency(client, buyer):
    razorpay = (await place_order(client, buyer, "razorpay", "pro")).json()
    stripe = (await place_order(client, buyer, "stripe", "pro")).json()
    assert (razorpay["amount_minor"], razorpay["currency"], razorpay["coins"]) == (
        149_900,
        "INR",
        1600,
    )
    assert (stripe["amount_minor"], stripe["currency"]) == (1799, "USD")
    assert razorpay["key_id"] and razorpay["client_secret"] is None
    assert stripe["client_secret"] and stripe["key_id"] is None


async def test_same_key_with_another_body_is_409(client, buyer):
    await place_order(client, buyer, "razorpay", "starter", key="key-2")
    other = await place_order(client, buyer, "razorpay", "pro", key="key-2")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"


async def test_unknown_package_is_404_and_records_nothing(client, buyer, store):
    response = await place_order(client, buyer, "stripe", "platinum", key="key-3")
    assert response.status_code == 404
    assert store.load(order_id_for(buyer.user_id, "key-3")) == []


async def test_an_order_needs_an_idempotency_key(client, buyer):
    response = await client.post(
        "/api/payments/orders",
        json={"package_id": "starter", "provider": "stripe"},
        headers=buyer.headers,
    )
    assert response.status_code == 422


async def test_ordering_before_registering_is_404(client, token_for, subject):
    stranger = Buyer(uuid.uuid4(), {"Authorization": f"Bearer {token_for(subject)}"})
    response = await place_order(client, stranger, "stripe")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "account_not_opened"


async def test_order_status_is_the_owners_only(client, projector, store, buyer, token_for):
    placed = (await place_order(client, buyer, "razorpay")).json()
    url = f"/api/payments/orders/{placed['order_id']}?min_position={placed['position']}"

    mine = await client.get(url, headers=buyer.headers)
    assert mine.status_code == 200
    assert (mine.json()["status"], mine.json()["coins_granted"]) == ("created", 0)
    assert mine.json()["provider_order_id"] == placed["provider_order_id"]

    other = await registered_buyer(client, store, token_for(f"user-{uuid.uuid4().hex}"))
    theirs = await client.get(url, headers=other.headers)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"


# --- real SDKs against local fake provider servers -------------------------------------------


@pytest.fixture(scope="module")
def fakes() -> Any:
    with (
        FakeRazorpay(key_id="rzp_test_fake", key_secret="fake_secret") as razorpay,
        FakeStripe(secret_key="sk_test_fake") as stripe,
    ):
        yield {"razorpay": razorpay, "stripe": stripe}


@pytest.fixture(scope="module")
async def keyed_client(settings: Settings, fakes) -> AsyncIterator[httpx.AsyncClient]:
    keyed = settings.model_copy(
        update={
            "razorpay_key_id": "rzp_test_fake",
            "razorpay_key_secret": SecretStr("fake_secret"),
            "razorpay_webhook_secret": SecretStr("whsec_razorpay_fake"),
            "razorpay_base_url": fakes["razorpay"].url,
            "stripe_secret_key": SecretStr("sk_test_fake"),
            "stripe_webhook_secret": SecretStr("whsec_stripe_fake"),
            "stripe_base_url": fakes["stripe"].url,
            "payment_timeout_s": 2.0,
            "payment_max_retries": 1,
        }
    )
    app = create_app(keyed)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://keyed") as http:
            yield http


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_order_is_created_at_the_provider(keyed_client, fakes, store, token_for, provider):
    buyer = await registered_buyer(keyed_client, store, token_for(f"user-{uuid.uuid4().hex}"))
    first = await place_order(keyed_client, buyer, provider, key="real-1")
    again = await place_order(keyed_client, buyer, provider, key="real-1")

    assert (first.status_code, again.status_code) == (201, 200)
    created = first.json()
    at_provider = getattr(fakes[provider], "orders" if provider == "razorpay" else "intents")
    assert at_provider[created["provider_order_id"]]["amount"] == created["amount_minor"]
    assert again.json()["client_secret"] == created["client_secret"]
    assert again.json()["key_id"] == created["key_id"]


@pytest.mark.parametrize(("fault", "status"), [(503, 503), (500, 503), (400, 502)])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_failure_answers_in_the_envelope_and_records_nothing(
    keyed_client, fakes, store, token_for, provider, fault, status
):
    buyer = await registered_buyer(keyed_client, store, token_for(f"user-{uuid.uuid4().hex}"))
    head = store.head()
    fakes[provider].fail_next(5, status=fault)
    try:
        response = await place_order(keyed_client, buyer, provider, key="doomed")
    finally:
        fakes[provider].clear_faults()

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == {503: "provider_unavailable", 502: "provider_rejected"}[status]
    assert error["request_id"]
    assert store.load(order_id_for(buyer.user_id, "doomed")) == []
    assert store.head() == head


async def test_the_eleventh_order_in_a_minute_is_refused_with_retry_after(client, buyer):
    placed = [await place_order(client, buyer, "razorpay") for _ in range(11)]

    assert [response.status_code for response in placed] == [201] * 10 + [429]
    refused = placed[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"] == {"limit": 10, "window_s": 60}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
