"""What a payment order's decision does to the buyer's coins, decided in the same command.

`PaymentDecision.outcome` says how many coins the order now grants more or less than before;
this turns it into the credit account's own events: a purchase credited once per order, and
reversals, one per step in which refunds or a dispute take coins back. Each step is keyed by
the order's version after it, so steps never collide with each other.
"""

from __future__ import annotations

from relivchats.domain import credits_rules
from relivchats.domain.credits import CreditAccount, CreditEvent, ReversalReason
from relivchats.domain.events import deterministic_id
from relivchats.domain.payments import PaymentDecision


def coin_events(account: CreditAccount | None, decision: PaymentDecision) -> list[CreditEvent]:
    order, outcome = decision.order, decision.outcome
    if outcome.credit_coins:
        return credits_rules.purchase(account, order.id, outcome.credit_coins)
    if outcome.reverse_coins:
        reason: ReversalReason = "dispute" if order.disputed else "refund"
        step = deterministic_id("order-reversal", order.id, order.version)
        return credits_rules.reverse(account, order.id, outcome.reverse_coins, reason, step)
    return []
