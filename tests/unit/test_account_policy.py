"""Every command that reads or moves coins gets the account through the unit of work's one policy.

Registration, unlock, a payment webhook and the sweeper each run in a "process" whose cached
account is stale (coins were bought through another process since): each must consult
`UnitOfWork.account`, decide correctly anyway, and leave the process's cache current.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from relivchats.adapters.account_cache import account_cache
from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.adapters.payments.sandbox import SandboxProvider
from relivchats.commands.chats import record_upload
from relivchats.commands.insight_outcomes import expire_due
from relivchats.commands.insights import unlock
from relivchats.commands.payments import create_order, handle_webhook
from relivchats.commands.unit_of_work import UnitOfWork, execute
from relivchats.commands.users import register_user
from relivchats.domain import credits
from relivchats.domain.payment_signals import PaymentSignal, SignalKind
from tests.ledger_commands import purchase_coins
from tests.unit.command_world import summary
from tests.unit.process_views import Process

PROVIDER = SandboxProvider(name="razorpay", webhook_secret="secret")


def registration(process: Process, user_id: UUID, subject: str) -> int:
    return execute(process, register_user, subject).account.available


def unlocking(process: Process, user_id: UUID, subject: str) -> int:
    chat_id = uuid.uuid4()
    execute(process, record_upload, chat_id, user_id, summary(), None)
    opened = execute(process, unlock, user_id, chat_id, "friendship", None, timedelta(hours=1))
    return opened.available + opened.job.cost  # what the account held before the reservation


def webhook(process: Process, user_id: UUID, subject: str) -> int:
    order = execute(process, create_order, PROVIDER, user_id, "k", "starter").order
    captured = PaymentSignal(
        "evt_1", SignalKind.CAPTURED, "payment.captured", order.provider_order_id, "pay_1",
        order.amount_minor, order.currency,
    )  # fmt: skip
    execute(process, handle_webhook, "razorpay", captured)
    account = account_cache(process).cached(credits.account_id_for(user_id))
    assert account is not None
    return account.available - 400  # what it held before this capture


def sweeping(process: Process, user_id: UUID, subject: str) -> int:
    return execute(process, expire_due, user_id, datetime.now(UTC)).account.available


PATHS: list[Callable[[Process, UUID, str], int]] = [registration, unlocking, webhook, sweeping]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
def test_each_path_decides_on_the_account_through_the_one_policy(path, monkeypatch):
    store = InMemoryEventStore()
    here, elsewhere = Process(store), Process(store)
    subject = f"user-{uuid.uuid4()}"
    user_id = execute(here, register_user, subject).user.id  # cached here: 50 coins
    execute(elsewhere, purchase_coins, user_id, uuid.uuid4(), 400)  # here is now stale
    consulted: list[UUID] = []
    policy = UnitOfWork.account

    def spied(uow: UnitOfWork, user: UUID) -> credits.CreditAccount | None:
        consulted.append(user)
        return policy(uow, user)

    monkeypatch.setattr(UnitOfWork, "account", spied)
    held_before = path(here, user_id, subject)

    assert user_id in consulted
    assert held_before == 450  # decided on the caught-up account, not the stale 50
    account_id = credits.account_id_for(user_id)
    assert account_cache(here).cached(account_id) == credits.replay(store.load(account_id))
