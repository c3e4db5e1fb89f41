"""Domain errors: every rule the domain enforces fails with one of these types.

The API maps each type to an HTTP status in one place (api/errors.py).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the business refused a command."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class UserDeleted(DomainError):
    code = "account_deleted"


class Busy(DomainError):
    """Too many concurrent changes to one aggregate: the caller may try again."""

    code = "busy"


class InvalidCommand(DomainError):
    """A command's data breaks a rule on its own (a zero amount, a missing reason)."""

    code = "invalid_command"


class AccountNotOpened(NotFound):
    code = "account_not_opened"


class InsufficientFunds(DomainError):
    """Details carry `required`, `available` and `deficit` so the client can offer a top-up."""

    code = "insufficient_funds"


class UnknownReservation(NotFound):
    code = "unknown_reservation"


class ReservationAlreadyResolved(Conflict):
    """The reservation was already settled the other way (captured versus released)."""

    code = "reservation_already_resolved"


class OrderNotCredited(Conflict):
    """A refund or dispute names an order whose coins this account never received."""

    code = "order_not_credited"
