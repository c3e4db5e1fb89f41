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
    code = "user_deleted"


class Busy(DomainError):
    """Too many concurrent changes to one aggregate: the caller may try again."""

    code = "busy"
