"""Every projection the projector runs, by name.

Read models (`all_projections`) are what reads wait for and what `rebuild all` replays. Effect
projections (the dispatcher, which enqueues tasks) run beside them in the projector, but are
never rebuilt and never waited for by reads.
"""

from __future__ import annotations

from relivchats.projections.base import Projection
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.conversations import ConversationsProjection
from relivchats.projections.dispatcher import DispatcherProjection
from relivchats.projections.insights import InsightsProjection
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.payments import PaymentOrdersProjection
from relivchats.projections.users import UsersProjection


def all_projections() -> list[Projection]:
    """The read models."""
    return [
        UsersProjection(),
        PaymentOrdersProjection(),
        LedgerProjection(),
        ChatsProjection(),
        InsightsProjection(),
        ConversationsProjection(),
    ]


def effect_projections() -> list[Projection]:
    return [DispatcherProjection()]


def running_projections() -> list[Projection]:
    """What the projector process runs: the read models and the effects."""
    return [*all_projections(), *effect_projections()]


def projection_named(name: str) -> Projection:
    for projection in running_projections():
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in running_projections())
    raise KeyError(f"no projection named {name!r} (known: {known})")
