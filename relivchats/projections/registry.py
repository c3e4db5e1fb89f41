"""Every projection the projector runs, by name."""

from __future__ import annotations

from relivchats.projections.base import Projection
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.payments import PaymentOrdersProjection
from relivchats.projections.users import UsersProjection


def all_projections() -> list[Projection]:
    return [UsersProjection(), PaymentOrdersProjection(), LedgerProjection(), ChatsProjection()]


def projection_named(name: str) -> Projection:
    for projection in all_projections():
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in all_projections())
    raise KeyError(f"no projection named {name!r} (known: {known})")
