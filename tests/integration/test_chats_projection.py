"""The chats read model after live application equals a rebuild from the first event."""

from __future__ import annotations

from relivchats.projections.chats import ChatsProjection
from relivchats.projections.rebuild import differences
from tests.chat_uploads import HAND_COUNTED_NAME, fixture_bytes, uploaded
from tests.helpers import auth


async def test_live_chats_tables_equal_a_rebuild(client, projector, settings, token_for, subject):
    headers = auth(token_for(subject))
    kept = (await uploaded(client, headers, fixture_bytes(HAND_COUNTED_NAME)))["chat"]["chat_id"]
    gone = (await uploaded(client, headers, fixture_bytes(HAND_COUNTED_NAME)))["chat"]["chat_id"]
    await client.put(f"/api/chats/{kept}/display-name", json={"title": "Kept"}, headers=headers)
    await client.post(f"/api/chats/{kept}/share", headers=headers)
    await client.post(f"/api/chats/{gone}/share", headers=headers)
    deleted = await client.delete(f"/api/chats/{gone}", headers=headers)
    await client.get(f"/api/chats?min_position={deleted.json()['position']}", headers=headers)

    assert await differences(settings.database_url, ChatsProjection()) == {
        "chats": 0,
        "chats_pending_purge": 0,
    }
