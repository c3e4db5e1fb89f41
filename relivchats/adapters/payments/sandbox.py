"""A provider for runs without keys: orders are made up locally, webhooks are verified for real.

The sandbox stands in for Razorpay or Stripe under that provider's name. It creates orders without
any network call, with ids derived from our order id (so a retried create gives the same id), and
it verifies webhooks with that provider's own scheme and a locally configured secret, through the
same parsing code as the real adapter. `signing.py` produces the deliveries it accepts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from uuid import UUID

from relivchats.adapters.payments.base import ProviderEvent, ProviderOrder
from relivchats.adapters.payments.razorpay import parse_razorpay_webhook
from relivchats.adapters.payments.stripe import parse_stripe_webhook

SANDBOX_RAZORPAY_KEY_ID = "rzp_test_sandbox"


class SandboxProvider:
    def __init__(
        self, *, name: str, webhook_secret: str, key_id: str = SANDBOX_RAZORPAY_KEY_ID
    ) -> None:
        if name not in ("razorpay", "stripe"):
            raise ValueError(f"the sandbox cannot stand in for {name!r}")
        self.name = name
        self.webhook_secret = webhook_secret
        self.key_id = key_id

    def create_order(
        self, order_id: UUID, amount_minor: int, currency: str, metadata: Mapping[str, str]
    ) -> ProviderOrder:
        digest = hashlib.sha256(f"sandbox/{order_id}".encode()).hexdigest()
        if self.name == "razorpay":
            return self.checkout(f"order_sbx{digest[:14]}")
        return self.checkout(f"pi_sbx{digest[:24]}")

    def checkout(self, provider_order_id: str) -> ProviderOrder:
        if self.name == "razorpay":
            return ProviderOrder(provider_order_id=provider_order_id, key_id=self.key_id)
        return ProviderOrder(
            provider_order_id=provider_order_id,
            client_secret=f"{provider_order_id}_secret_sandbox",
        )

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        if self.name == "razorpay":
            return parse_razorpay_webhook(raw_body, headers, self.webhook_secret)
        return parse_stripe_webhook(raw_body, headers, self.webhook_secret)
