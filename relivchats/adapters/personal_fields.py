"""Sealing events' personal fields with their owner's data key (crypto-shredding).

For an event class that declares `PERSONAL` (domain/personal.py), each personal field is stored
as `sealed:v1:<owner id>:<base64 of nonce | AES-256-GCM ciphertext>`, the plaintext being the
field's JSON. The associated data binds it to the event's aggregate id, version and field name:
a sealed value copied into another event or field fails to open. Ids, amounts, counts, times and
types stay in clear. The owner's id rides along, so any reader can find the key without knowing
what the event means.

Reading accepts both forms: events written before migration 009 hold their personal fields in
clear and are read as they are (README, "Leave and be forgotten"). Once the owner's key is
destroyed, a sealed field reads as the class's erased value.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from relivchats.adapters.crypto import NONCE_BYTES, ContentTampered
from relivchats.adapters.data_keys import KeyRing
from relivchats.domain.personal import PersonalFields

PREFIX = "sealed:v1:"
_OWNERS_IN_STATE = re.compile(rb'"sealed:v1:([0-9a-f-]{36}):')


class DataKeysMissing(Exception):
    """A sealed field was met by a reader that was given no data keys."""


def owners_sealed_in(states: Iterable[bytes]) -> set[UUID]:
    """The owners whose keys these stored states' sealed fields need."""
    return {UUID(m.decode()) for state in states for m in _OWNERS_IN_STATE.findall(state)}


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def personal_fields_of(event_class: type) -> PersonalFields | None:
    personal: PersonalFields | None = getattr(event_class, "PERSONAL", None)
    return personal


def _context(originator_id: UUID, version: int, name: str) -> bytes:
    return f"{originator_id}/{version}/{name}".encode()


class FieldSealer:
    def __init__(self, keys: KeyRing | None):
        self.keys = keys

    def seal(
        self, event_class: type, state: dict[str, Any], originator_id: UUID, version: int
    ) -> dict[str, Any]:
        """`state` with its personal fields sealed (a copy; None values stay None)."""
        personal = personal_fields_of(event_class)
        owner = state.get(personal.owner) if personal else None
        if personal is None or owner is None:
            return state
        key = self._keys().for_writing(owner)
        sealed = dict(state)
        for name in personal.erased:
            if sealed.get(name) is not None:
                plain = orjson.dumps(sealed[name])
                nonce = os.urandom(NONCE_BYTES)
                box = nonce + AESGCM(key).encrypt(
                    nonce, plain, _context(originator_id, version, name)
                )
                sealed[name] = f"{PREFIX}{owner}:{base64.b64encode(box).decode()}"
        return sealed

    def open(
        self, event_class: type, state: dict[str, Any], originator_id: UUID, version: int
    ) -> None:
        """Open the sealed fields of `state` in place; erased ones get the class's marker."""
        personal = personal_fields_of(event_class)
        if personal is None:
            return
        for name, erased in personal.erased.items():
            value = state.get(name)
            if isinstance(value, str) and value.startswith(PREFIX):
                state[name] = self._opened(value, erased, _context(originator_id, version, name))

    def _opened(self, sealed: str, erased: object, context: bytes) -> object:
        owner, _, box_text = sealed[len(PREFIX) :].partition(":")
        key = self._keys().for_reading(UUID(owner))
        if key is None:
            return erased
        box = base64.b64decode(box_text)
        try:
            plain = AESGCM(key).decrypt(box[:NONCE_BYTES], box[NONCE_BYTES:], context)
        except InvalidTag:
            raise ContentTampered("a sealed event field failed authentication") from None
        value = orjson.loads(plain)
        return tuple(value) if isinstance(erased, tuple) else value

    def _keys(self) -> KeyRing:
        if self.keys is None:
            raise DataKeysMissing("this reader was built without data keys (DataKeys)")
        return self.keys
