"""Per-user data keys for crypto-shredding: one random 256-bit key per user, wrapped at rest.

Personal fields in events are sealed with their owner's data key (`personal_fields.py`). The keys
live in `user_data_keys` (schema/009_forget.sql), a plain table and not an event, each wrapped
(AES-256-GCM, bound to the user id) by a key derived from `CONTENT_KEY` through HKDF with its own
purpose: one master secret to guard and rotate, and production already refuses the development
one. Erasure (`destroy`) deletes the wrapped key and leaves a tombstone, so nobody, not even a
later write, can bring the key back: the personal fields sealed under it are gone for good.

Keys are cached unwrapped in process memory for `CACHE_TTL_S`, so decoding a projection batch
costs no query per event; a destroyed key is forgotten at once by the process that destroyed
it, and by every other process within the TTL (they only read an erased user's events during a
rebuild or an audit, well after the grace period). A cache miss is one primary-key lookup on a
connection borrowed from the event store's pool (no extra connection per process); the
projector reads the keys a batch needs on its own asyncpg connection (`fetch_wrapped`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.rows import tuple_row

from relivchats.adapters.crypto import KEY_BYTES, NONCE_BYTES, master_key_from, subkey
from relivchats.settings import Settings

_WRAPPING_PURPOSE = b"relivchats/data-key-wrapping/v1"
ConnectionSource = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
CACHE_TTL_S = 60.0


class DataKeyDestroyed(Exception):
    """The user's data key was destroyed at erasure: nothing personal can be sealed for them."""


class KeyRing(Protocol):
    """What sealing needs of a key store: `DataKeys` (PostgreSQL) or `InMemoryDataKeys`."""

    def for_reading(self, user_id: UUID) -> bytes | None: ...

    def for_writing(self, user_id: UUID) -> bytes: ...

    def destroy(self, user_id: UUID) -> None: ...


class InMemoryDataKeys:
    """Data keys in a dict, for the in-memory event store (command tests without PostgreSQL)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    def for_reading(self, user_id: UUID) -> bytes | None:
        return self._keys.get(user_id)

    def for_writing(self, user_id: UUID) -> bytes:
        if user_id in self._keys and self._keys[user_id] is None:
            raise DataKeyDestroyed(f"the data key of user {user_id} was destroyed")
        key = self._keys.setdefault(user_id, os.urandom(KEY_BYTES))
        assert key is not None
        return key

    def destroy(self, user_id: UUID) -> None:
        self._keys[user_id] = None


class DataKeys:
    """Get, create and destroy users' data keys; thread-safe, one connection per process."""

    def __init__(
        self,
        database_url: str,
        master_key: bytes,
        cache_ttl_s: float = CACHE_TTL_S,
        *,
        keep_connection: bool = True,
    ):
        self._url = database_url
        self._keep_connection = keep_connection
        self._borrowed: ConnectionSource | None = None
        self._wrap = AESGCM(subkey(master_key, _WRAPPING_PURPOSE))
        self._ttl = cache_ttl_s
        self._cache: dict[UUID, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._pid = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> DataKeys:
        return cls(settings.database_url, master_key_from(settings))

    def for_reading(self, user_id: UUID) -> bytes | None:
        """The user's key, or None once it has been destroyed (or was never made)."""
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        row = self._fetch("SELECT wrapped_key FROM user_data_keys WHERE user_id = %s", user_id)
        wrapped = row[0] if row else None
        key = self._unwrap(user_id, wrapped) if isinstance(wrapped, bytes) else None
        self._remember(user_id, key)
        return key

    def missing(self, user_ids: Iterable[UUID]) -> list[UUID]:
        """Which of these users' keys are not in the cache (or are stale there)."""
        now = time.monotonic()
        return [u for u in set(user_ids) if (c := self._cache.get(u)) is None or c[0] <= now]

    def accept(self, wanted: Iterable[UUID], wrapped: Mapping[UUID, bytes | None]) -> None:
        """Cache keys read by someone else (`fetch_wrapped`, on the projector's connection);
        a wanted user without a wrapped key has none (destroyed, or never made)."""
        for user_id in wanted:
            found = wrapped.get(user_id)
            self._remember(user_id, self._unwrap(user_id, found) if found else None)

    def for_writing(self, user_id: UUID) -> bytes:
        """The user's key, made on first use; refused once destroyed."""
        key = self.for_reading(user_id)
        if key is not None:
            return key
        self._fetch(
            "INSERT INTO user_data_keys (user_id, wrapped_key) VALUES (%s, %s)"
            " ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
            user_id,
            self._wrapped(user_id, os.urandom(KEY_BYTES)),
        )
        self._cache.pop(user_id, None)
        key = self.for_reading(user_id)
        if key is None:
            raise DataKeyDestroyed(f"the data key of user {user_id} was destroyed")
        return key

    def destroy(self, user_id: UUID) -> None:
        """Crypto-shred: drop the wrapped key, keep a tombstone so it is never made again."""
        self._fetch(
            "INSERT INTO user_data_keys (user_id, wrapped_key, destroyed_at)"
            " VALUES (%s, NULL, now()) ON CONFLICT (user_id) DO UPDATE"
            " SET wrapped_key = NULL, destroyed_at = coalesce(user_data_keys.destroyed_at, now())"
            " RETURNING user_id",
            user_id,
        )
        self._remember(user_id, None)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _remember(self, user_id: UUID, key: bytes | None) -> None:
        self._cache[user_id] = (time.monotonic() + self._ttl, key)

    def _wrapped(self, user_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrap.encrypt(nonce, key, user_id.bytes)

    def _unwrap(self, user_id: UUID, wrapped: bytes) -> bytes:
        try:
            return self._wrap.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], user_id.bytes)
        except InvalidTag:
            raise ValueError(f"the data key of user {user_id} does not unwrap") from None

    def borrow_connections(self, source: ConnectionSource) -> None:
        """Take a pooled connection for each lookup (the event store's own pool) instead of
        keeping one more connection open per process."""
        self._borrowed = source

    def _fetch(self, query: str, *args: object) -> tuple[object, ...] | None:
        if self._borrowed is not None:
            with self._borrowed() as conn, conn.transaction():
                return conn.cursor(row_factory=tuple_row).execute(query, args).fetchone()
        with self._lock:
            conn = self._connection()
            try:
                return conn.execute(query, args).fetchone()
            except psycopg.OperationalError:
                self._drop_connection()
                raise
            finally:
                if not self._keep_connection:
                    self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed or self._pid != os.getpid():
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            self._pid = os.getpid()
        return self._conn


async def fetch_wrapped(conn: asyncpg.Connection, user_ids: list[UUID]) -> dict[UUID, bytes | None]:
    """The wrapped keys of these users, on an asyncpg connection (the projector's own)."""
    rows = await conn.fetch(
        "SELECT user_id, wrapped_key FROM user_data_keys WHERE user_id = ANY($1::uuid[])",
        user_ids,
    )
    return {row["user_id"]: row["wrapped_key"] for row in rows}
