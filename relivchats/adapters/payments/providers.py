"""Which payment providers a process uses: the real API where keys are set, else the sandbox.

Production refuses to start with a sandbox unless the operator opted in, and never with the
public development webhook secret (relivchats/production.py).
"""

from __future__ import annotations

from relivchats.adapters.payments.base import PaymentProvider
from relivchats.adapters.payments.razorpay import RazorpayProvider
from relivchats.adapters.payments.sandbox import SandboxProvider
from relivchats.adapters.payments.stripe import StripeProvider
from relivchats.settings import Settings


def build_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """One provider per name ("razorpay", "stripe"); built once per process, no network."""
    providers: dict[str, PaymentProvider] = {
        "razorpay": _razorpay(settings) or _sandbox("razorpay", settings),
        "stripe": _stripe(settings) or _sandbox("stripe", settings),
    }
    return providers


def _razorpay(settings: Settings) -> RazorpayProvider | None:
    key_id, secret, webhook = (
        settings.razorpay_key_id,
        settings.razorpay_key_secret,
        settings.razorpay_webhook_secret,
    )
    if not (key_id and secret and webhook):
        return None
    return RazorpayProvider(
        key_id=key_id,
        key_secret=secret.get_secret_value(),
        webhook_secret=webhook.get_secret_value(),
        base_url=settings.razorpay_base_url,
        timeout_s=settings.payment_timeout_s,
        max_retries=settings.payment_max_retries,
    )


def _stripe(settings: Settings) -> StripeProvider | None:
    secret, webhook = settings.stripe_secret_key, settings.stripe_webhook_secret
    if not (secret and webhook):
        return None
    return StripeProvider(
        secret_key=secret.get_secret_value(),
        webhook_secret=webhook.get_secret_value(),
        base_url=settings.stripe_base_url,
        timeout_s=settings.payment_timeout_s,
        max_retries=settings.payment_max_retries,
    )


def _sandbox(name: str, settings: Settings) -> SandboxProvider:
    return SandboxProvider(
        name=name, webhook_secret=settings.sandbox_webhook_secret.get_secret_value()
    )
