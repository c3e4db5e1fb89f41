"""Event state as JSON through orjson, in exactly the format the library's transcoder writes.

Why: the library's `JSONTranscoder` runs Python's `json` with a `default` hook and an
`object_hook` for every dict; that was 60% of decoding a stored event (rebuilds, catching up an
account) and a third of mapping one for a save. orjson does the parsing and printing in C; the
registered types (UUID, datetime, Decimal) are tagged and untagged here in one pass over the
event's fields, as `{"_type_": name, "_data_": value}` like the library does, so stored events
stay readable by either transcoder, both ways.

Anything orjson would treat differently from `json` is handed to the library's code instead:
non-finite floats, integers beyond 64 bits, dict keys that are not strings, and every type that
is neither plain JSON nor registered (the library raises for those, as before).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex

# orjson reads an integer literal beyond 64 bits as a float (json keeps the int): such floats
# send the document to the library's decoder.
_INT64_EDGE = 2.0**63
_new_uuid = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = SafeUUID.unknown
_UUID_LIMIT = 1 << 128


class _NotOrjsonSafe(Exception):
    """The value needs the library's own (slower, exact) path."""


class UUIDFromHex(UUIDAsHex):
    """The library's `uuid_hex` transcoding, decoded without `UUID.__init__`'s string parsing.

    `UUID(hex)` strips prefixes, braces and dashes before `int(hex, 16)`; stored values are
    always 32 plain hex digits (`UUID.hex`), anything else goes the long way.
    """

    def decode(self, data: str) -> UUID:
        if type(data) is str and len(data) == 32:
            number = int(data, 16)
            if 0 <= number < _UUID_LIMIT:
                value = _new_uuid(UUID)
                _set_slot(value, "int", number)
                _set_slot(value, "is_safe", _UNKNOWN_SAFETY)
                return value
        return super().decode(data)


class OrjsonTranscoder(JSONTranscoder):
    """`JSONTranscoder`'s format and registry, with orjson doing the parsing and printing."""

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[str], Any]] = {}

    def register(self, transcoding: Any) -> None:
        if type(transcoding) is UUIDAsHex:
            transcoding = UUIDFromHex()
        super().register(transcoding)
        # What decodes a tagged string; the library's datetime transcoding is fromisoformat.
        exact = type(transcoding) is DatetimeAsISO
        self._decoders[transcoding.name] = datetime.fromisoformat if exact else transcoding.decode

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tagged(obj))
        except (_NotOrjsonSafe, orjson.JSONEncodeError):
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            return self._untagged(orjson.loads(data))
        except (_NotOrjsonSafe, orjson.JSONDecodeError):
            return super().decode(data)

    def tag_decoders(self) -> dict[str, Callable[[str], Any]]:
        """What decodes each registered tag's string data, as `decode` applies it."""
        return dict(self._decoders)

    def _tagged(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN or obj is None:
            return obj
        if kind is dict:
            return self._tagged_dict(obj)
        if kind is list or kind is tuple:
            return [value if type(value) in _PLAIN else self._tagged(value) for value in obj]
        if kind is float and math.isfinite(obj):
            return obj
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _NotOrjsonSafe
        data = transcoding.encode(obj)
        return {
            "_type_": transcoding.name,
            "_data_": data if type(data) is str else self._tagged(data),
        }

    def _tagged_dict(self, obj: dict[Any, Any]) -> dict[str, Any]:
        """An event's fields are mostly strings and numbers: those are taken as they are."""
        tagged = {}
        for key, value in obj.items():
            if type(key) is not str:
                raise _NotOrjsonSafe
            tagged[key] = value if type(value) in _PLAIN else self._tagged(value)
        return tagged

    def _untagged(self, obj: Any) -> Any:
        """The library's `object_hook`, applied inner dicts first, as `json` applies it."""
        kind = type(obj)
        if kind is dict:
            return self._untagged_dict(obj)
        if kind is list:
            return [self._untagged(value) if type(value) in _WALKED else value for value in obj]
        if kind is float and abs(obj) >= _INT64_EDGE:
            raise _NotOrjsonSafe
        return obj

    def _untagged_dict(self, obj: dict[str, Any]) -> Any:
        decoders = self._decoders
        for key, value in obj.items():
            kind = type(value)
            if kind is dict and len(value) == 2:
                # The usual case, a tagged scalar such as {"_type_": "uuid_hex", "_data_": "..."}.
                name, data = value.get("_type_"), value.get("_data_")
                if type(data) is str and type(name) is str and name in decoders:
                    obj[key] = decoders[name](data)
                    continue
            if kind in _WALKED:
                obj[key] = self._untagged(value)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._decode_obj(obj)
        return obj


# Values printed as they are (None too; bool before int: orjson prints both as json does).
_PLAIN = frozenset((str, int, bool))
# Values `_untagged` must look into: containers, and floats that may be misread integers.
_WALKED = frozenset((dict, list, float))
