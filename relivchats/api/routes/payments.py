"""`/api/payments`: buy coins. Orders are idempotent per Idempotency-Key; webhooks are signed.

Webhook routes read the raw body and hand it to the provider's SDK for verification before
anything else is parsed or stored; a delivery that fails is answered 400 and leaves no trace.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from relivchats.api.contract import WRITTEN, error_responses, link, linked, replayed
from relivchats.api.dependencies import (
    CurrentUser,
    PaymentProviders,
    ReadDb,
    RequiredIdempotencyKey,
    Store,
    Webhooks,
    rate_limited,
    wait_for_min_position,
)
from relivchats.api.errors import ApiError
from relivchats.api.schemas.payments import OrderPlaced, OrderRequest, OrderView, WebhookAck
from relivchats.api.switches import Switches
from relivchats.commands.payments import PlacedOrder, create_order
from relivchats.commands.unit_of_work import dispatch
from relivchats.projections.payment_queries import order_for_user

router = APIRouter(prefix="/api/payments", tags=["payments"])
# The webhooks on a router of their own, so api/app.py can match them first and the hottest
# read right after them.
webhooks_router = APIRouter(prefix="/api/payments", tags=["payments"])

# Webhook routes read the raw body themselves (the signature covers its exact bytes), so FastAPI
# cannot infer their parameters: they are declared here for the OpenAPI document.
_WEBHOOK_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object", "description": "the event"}}},
}


def _webhook_contract(*headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "requestBody": _WEBHOOK_BODY,
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": True,
                "description": description,
                "schema": {"type": "string"},
            }
            for name, description in headers
        ],
    }


RAZORPAY_WEBHOOK = _webhook_contract(
    ("X-Razorpay-Signature", "hex HMAC-SHA256 of the raw body with the webhook secret"),
    ("X-Razorpay-Event-Id", "the delivery's event id (deduplication)"),
)
STRIPE_WEBHOOK = _webhook_contract(
    ("Stripe-Signature", "t=<timestamp>,v1=<HMAC-SHA256 of timestamp.body>; 300 s tolerance"),
)
WEBHOOK_ERRORS = error_responses(400, 503)


@router.post(
    "/orders",
    response_model=OrderPlaced,
    status_code=201,
    dependencies=[Depends(rate_limited("order", lambda settings: settings.rate_limit_order))],
    responses={
        **error_responses(400, 401, 404, 409, 422, 502, 503, rate_limit="rate_limit_order"),
        **replayed(OrderPlaced),
        **linked(
            201,
            ReadOrder=link(
                "GET",
                "/api/payments/orders/{order_id}",
                order_id="$response.body#/order_id",
                min_position=WRITTEN,
            ),
        ),
    },
)
async def place_order(
    body: OrderRequest,
    idempotency_key: RequiredIdempotencyKey,
    user: CurrentUser,
    store: Store,
    providers: PaymentProviders,
    response: Response,
    switches: Switches,
) -> OrderPlaced:
    await switches.require(f"orders.{body.provider}", user.user_id)
    provider = providers[body.provider]
    placed = await dispatch(
        store, create_order, provider, user.user_id, idempotency_key, body.package_id
    )
    response.status_code = 201 if placed.changed else 200
    return _placed(placed)


@router.get(
    "/orders/{order_id}",
    response_model=OrderView,
    dependencies=[Depends(wait_for_min_position)],
    responses=error_responses(401, 404, 422, 503),
)
async def order_status(order_id: UUID, user: CurrentUser, db: ReadDb) -> OrderView:
    row = await order_for_user(db, order_id, user.user_id)
    if row is None:
        raise ApiError(404, "no such order")
    return OrderView(**dict(row))


def _webhook_route(provider: str, contract: dict[str, Any]) -> None:
    """`POST /webhooks/<provider>`: every provider's webhook is handled alike, under its name."""

    async def receive(request: Request, webhooks: Webhooks) -> WebhookAck:
        handled = await webhooks.acknowledge(provider, await request.body(), request.headers)
        return WebhookAck(
            outcome=handled.outcome,
            order_id=handled.order_id,
            order_status=handled.order_status,
            position=handled.position,
        )

    webhooks_router.add_api_route(
        f"/webhooks/{provider}",
        receive,
        methods=["POST"],
        name=f"{provider}_webhook",
        response_model=WebhookAck,
        responses=WEBHOOK_ERRORS,
        openapi_extra=contract,
    )


_webhook_route("razorpay", RAZORPAY_WEBHOOK)
_webhook_route("stripe", STRIPE_WEBHOOK)


def _placed(placed: PlacedOrder) -> OrderPlaced:
    order = placed.order
    return OrderPlaced(
        order_id=order.id,
        created=placed.changed,
        status=order.status,
        package_id=order.package_id,
        coins=order.coins,
        provider=order.provider,
        amount_minor=order.amount_minor,
        currency=order.currency,
        provider_order_id=order.provider_order_id,
        client_secret=placed.client_secret,
        key_id=placed.key_id,
        position=placed.position,
    )
