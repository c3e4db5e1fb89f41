"""Which event fields are personal data, whose they are, and what they read as once erased.

An event class that records something about a person (a chat's title, its participants' names,
which of them the user is) declares `PERSONAL`. The event store seals those fields with the
owner's data key before writing (adapters/personal_fields.py) and opens them when reading; after
erasure the key is gone and each field reads as its `erased` value. The domain only declares:
it never sees a sealed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ERASED = "[erased]"


@dataclass(frozen=True)
class PersonalFields:
    owner: str  # the field holding the owning user's id
    erased: Mapping[str, object]  # personal field -> what it reads as after erasure
