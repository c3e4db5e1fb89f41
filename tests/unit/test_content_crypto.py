"""Sealing chat content: round trips, bound to its chat and row, keys checked at start-up."""

from __future__ import annotations

import os
import uuid

import pytest

from relivchats.adapters.chat_content import message_context, statistics_context
from relivchats.adapters.crypto import ContentCipher, ContentKeyInvalid, ContentTampered
from relivchats.settings import Settings

CIPHER = ContentCipher(os.urandom(32))
CHAT = uuid.uuid4()


def test_a_sealed_message_opens_only_in_its_own_chat_and_row() -> None:
    sealed = CIPHER.seal("Hi 👋🏽".encode(), message_context(CHAT, 3))

    assert CIPHER.open(sealed, message_context(CHAT, 3)).decode() == "Hi 👋🏽"
    for wrong in (
        message_context(uuid.uuid4(), 3),
        message_context(CHAT, 4),
        statistics_context(CHAT),
    ):
        with pytest.raises(ContentTampered):
            CIPHER.open(sealed, wrong)


def test_altered_bytes_or_another_key_do_not_open() -> None:
    sealed = CIPHER.seal(b"secret", statistics_context(CHAT))
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])

    with pytest.raises(ContentTampered):
        CIPHER.open(altered, statistics_context(CHAT))
    with pytest.raises(ContentTampered):
        ContentCipher(os.urandom(32)).open(sealed, statistics_context(CHAT))


def test_every_value_gets_its_own_nonce_and_no_plaintext_shows() -> None:
    texts = [b"same text"] * 50
    sealed = CIPHER.seal_many(texts, [message_context(CHAT, i) for i in range(50)])

    assert len({value[1:13] for value in sealed}) == 50
    assert all(b"same text" not in value for value in sealed)
    assert [CIPHER.open(v, message_context(CHAT, i)) for i, v in enumerate(sealed)] == texts


def test_upload_digests_are_keyed() -> None:
    assert CIPHER.digest(b"file") == CIPHER.digest(b"file")
    assert CIPHER.digest(b"file") != ContentCipher(os.urandom(32)).digest(b"file")


@pytest.mark.parametrize("key", ["zz" * 32, "ab" * 16, ""])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ContentKeyInvalid):
        ContentCipher.from_settings(Settings(content_key=key))
