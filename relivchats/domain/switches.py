"""Kill switches and gradual rollout: which features exist, and who a switch lets through.

A switch is a percentage: 100 is on (the default: a switch nobody set is on), 0 is off, and
anything between lets that share of users through. Who is in the share is decided by a hash of
the switch's name and the user id, so a user stays in (or out) while the share stays put, a
larger share keeps everyone the smaller one let in, and different switches pick different users.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

from relivchats.domain.catalogue.categories import CATEGORIES
from relivchats.domain.errors import DomainError

ON = 100
OFF = 0
PAYMENT_PROVIDERS = ("razorpay", "stripe")

SWITCHES: dict[str, str] = {
    "unlocks": "new insight unlocks and retries (POST /api/insights/unlock, .../retry)",
    "rag_questions": "questions about a chat (POST /api/rag/query)",
    "uploads": "chat uploads (POST /api/chats/upload)",
    **{
        f"orders.{provider}": f"new payment orders through {provider} (POST /api/payments/orders)"
        for provider in PAYMENT_PROVIDERS
    },
    **{
        f"insights.{category.slug}": f"unlocks of the {category.display_name} category"
        for category in CATEGORIES
    },
}


class UnknownSwitch(DomainError):
    """A switch name nobody reads: refused, so a typo never looks like a working kill switch."""


class InvalidSwitchSetting(DomainError):
    """Not on, off, or a whole percentage from 0 to 100."""


def known_switch(name: str) -> str:
    if name not in SWITCHES:
        raise UnknownSwitch(f"no switch {name!r}; known: {', '.join(SWITCHES)}", switch=name)
    return name


def parse_setting(text: str) -> int:
    """`on` -> 100, `off` -> 0, `25` or `25%` -> 25."""
    word = text.strip().lower()
    if word == "on":
        return ON
    if word == "off":
        return OFF
    digits = word.removesuffix("%")
    if not digits.isdigit() or not OFF <= int(digits) <= ON:
        raise InvalidSwitchSetting(f"{text!r} is not on, off or a percentage 0-100", value=text)
    return int(digits)


def describe(percent: int) -> str:
    return {ON: "on", OFF: "off"}.get(percent, f"{percent}%")


def lets_through(name: str, percent: int, user_id: UUID | None) -> bool:
    """Whether the switch, set to `percent`, lets this user use the feature."""
    if percent >= ON:
        return True
    if percent <= OFF or user_id is None:
        return False
    return _bucket(name, user_id) < percent


def _bucket(name: str, user_id: UUID) -> int:
    digest = hashlib.sha256(f"{name}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100
