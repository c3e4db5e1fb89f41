"""Pure domain model: aggregates, events, rules and errors. Imports nothing of ours but `domain`."""

from relivchats.domain import users

__all__ = ["users"]
