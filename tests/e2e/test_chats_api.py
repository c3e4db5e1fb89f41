"""Chats through the HTTP API: upload, list, statistics, messages, rename, share, delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
import pytest

from relivchats.adapters.ratelimit import KEY_PREFIX
from relivchats.adapters.whatsapp import parse_upload
from relivchats.commands.unit_of_work import UnitOfWork, dispatch
from relivchats.domain import chats, chats_rules
from relivchats.domain.statistics import compute_statistics
from tests.chat_uploads import fixture_bytes, small_export, upload, uploaded, zipped
from tests.helpers import auth

HAND_COUNTED = fixture_bytes("hand_counted_android.txt")


def record_indexed(uow: UnitOfWork, chat_id: uuid.UUID, chunks: int) -> int:
    """What the indexing worker's generation request records about the chat."""
    uow.record(*chats_rules.record_indexed(uow.load(chat_id, chats.evolve), chunks))
    return uow.save().position


def as_json(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


async def test_text_export_becomes_a_chat_with_every_statistic(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))

    response = await upload(client, headers, HAND_COUNTED)

    assert response.status_code == 201
    written = response.json()
    assert written["created"] is True
    chat = written["chat"]
    assert (chat["title"], chat["participants"], chat["is_group"]) == (
        "Asha & Ben",
        ["Asha", "Ben"],
        False,
    )
    assert chat["message_count"] == len(parse_upload(HAND_COUNTED))
    detail = await client.get(
        f"/api/chats/{chat['chat_id']}?min_position={written['position']}", headers=headers
    )
    assert detail.status_code == 200
    assert detail.json()["statistics"] == as_json(compute_statistics(parse_upload(HAND_COUNTED)))
    assert detail.json()["title"] == "Asha & Ben"


async def test_zip_export_is_read_from_its_chat_member(client, projector, token_for, subject):
    headers = auth(token_for(subject))
    group = fixture_bytes("ios_group.txt")
    archive = zipped(("IMG-0001.jpg", b"\xff\xd8\xff" + bytes(500)), ("_chat.txt", group))

    response = await upload(client, headers, archive, filename="../../etc/passwd")

    assert response.status_code == 201
    chat = response.json()["chat"]
    assert (chat["title"], chat["is_group"]) == ("Group chat (4)", True)
    assert chat["message_count"] == len(parse_upload(group))


async def test_chats_are_listed_newest_first_page_by_page_in_one_query_each(
    client,
    projector,
    token_for,
    subject,
    count_queries,
):
    headers = auth(token_for(subject))
    ids = [
        (await uploaded(client, headers, small_export(seed=seed)))["chat"]["chat_id"]
        for seed in range(3)
    ]

    count_queries.clear()
    first = (await client.get("/api/chats?limit=2", headers=headers)).json()
    second = (
        await client.get(f"/api/chats?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).json()

    assert len(count_queries) == 2  # one statement per page; the token's account is remembered
    assert [c["chat_id"] for c in first["items"]] == [ids[2], ids[1]]
    assert [c["chat_id"] for c in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    assert "statistics" not in first["items"][0]


# Not base64, or not a cursor's length, or bytes that are not even UTF-8 once decoded.
@pytest.mark.parametrize(
    "cursor", ["bm9wZQ", "cDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "%%%", "%01%0C%C2%8F"]
)
async def test_a_malformed_cursor_is_refused_in_the_envelope(
    client, projector, token_for, subject, cursor
):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]

    for path in ("/api/chats", f"/api/chats/{chat_id}/messages"):
        response = await client.get(f"{path}?cursor={cursor}", headers=headers)
        assert response.status_code == 422
        problems = response.json()["error"]["details"]["problems"]
        assert [problem["location"] for problem in problems] == [["query", "cursor"]]


async def test_messages_come_in_time_order_page_by_page(client, projector, token_for, subject):
    headers = auth(token_for(subject))
    export = small_export(count=25, seed=4)
    chat_id = (await uploaded(client, headers, export))["chat"]["chat_id"]

    pages, cursor = [], None
    while True:
        query = f"?limit=10&cursor={cursor}" if cursor else "?limit=10"
        page = (await client.get(f"/api/chats/{chat_id}/messages{query}", headers=headers)).json()
        pages.append(page["items"])
        if (cursor := page["next_cursor"]) is None:
            break

    assert [len(page) for page in pages] == [10, 10, 5]
    got = [
        (m["seq"], datetime.fromisoformat(m["sent_at"]), m["sender"], m["text"])
        for page in pages
        for m in page
    ]
    expected = [
        (i, m.timestamp, m.sender, m.text) for i, m in enumerate(parse_upload(export).messages())
    ]
    assert got == expected


async def test_display_name_sets_who_i_am_and_the_title(client, projector, token_for, subject):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]

    named = await client.put(
        f"/api/chats/{chat_id}/display-name",
        json={"me_participant": "Ben", "title": "Beach days"},
        headers=headers,
    )
    wrong = await client.put(
        f"/api/chats/{chat_id}/display-name", json={"me_participant": "Zed"}, headers=headers
    )

    assert named.status_code == 200
    assert (named.json()["chat"]["me_participant"], named.json()["chat"]["title"]) == (
        "Ben",
        "Beach days",
    )
    assert wrong.status_code == 422
    listed = (
        await client.get(f"/api/chats?min_position={named.json()['position']}", headers=headers)
    ).json()
    assert (listed["items"][0]["title"], listed["items"][0]["me_participant"]) == (
        "Beach days",
        "Ben",
    )


async def test_vector_status_follows_indexing(app, client, projector, token_for, subject):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]
    before = (await client.get(f"/api/chats/{chat_id}/vector-status", headers=headers)).json()

    indexed = await dispatch(app.state.event_store, record_indexed, uuid.UUID(chat_id), 7)
    after = await client.get(
        f"/api/chats/{chat_id}/vector-status?min_position={indexed}", headers=headers
    )

    assert (before["status"], before["searchable"]) == ("not_indexed", False)
    assert (after.json()["status"], after.json()["chunk_count"], after.json()["searchable"]) == (
        "indexed",
        7,
        True,
    )


async def test_shared_statistics_are_public_until_the_share_is_revoked(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]

    shared = await client.post(f"/api/chats/{chat_id}/share", headers=headers)
    public_path = shared.json()["public_stats_path"]
    public = await client.get(f"{public_path}?min_position={shared.json()['position']}")
    revoked = await client.delete(f"/api/chats/{chat_id}/share", headers=headers)
    after = await client.get(f"{public_path}?min_position={revoked.json()['position']}")

    assert shared.status_code == 201
    assert public.status_code == 200
    assert public.json()["statistics"] == as_json(compute_statistics(parse_upload(HAND_COUNTED)))
    assert after.status_code == 404


async def test_a_deleted_chat_vanishes_from_every_read_at_once(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]
    public_path = (await client.post(f"/api/chats/{chat_id}/share", headers=headers)).json()[
        "public_stats_path"
    ]

    deleted = await client.delete(f"/api/chats/{chat_id}", headers=headers)

    assert deleted.status_code == 200
    assert deleted.headers.get("X-Consistency") != "stale"
    for path in ("", "/messages", "/vector-status"):  # no min_position: at once, not eventually
        assert (await client.get(f"/api/chats/{chat_id}{path}", headers=headers)).status_code == 404
    assert (await client.get(public_path)).status_code == 404
    assert (await client.get("/api/chats", headers=headers)).json()["items"] == []
    assert (await client.delete(f"/api/chats/{chat_id}", headers=headers)).status_code == 404


async def test_another_users_chat_is_not_found_on_every_route(
    client, projector, token_for, subject
):
    owner = auth(token_for(subject))
    chat_id = (await uploaded(client, owner, HAND_COUNTED))["chat"]["chat_id"]
    stranger = auth(token_for(f"stranger-{uuid.uuid4().hex}"))

    responses = [
        await client.get(f"/api/chats/{chat_id}", headers=stranger),
        await client.get(f"/api/chats/{chat_id}/messages", headers=stranger),
        await client.get(f"/api/chats/{chat_id}/vector-status", headers=stranger),
        await client.put(
            f"/api/chats/{chat_id}/display-name", json={"title": "mine"}, headers=stranger
        ),
        await client.post(f"/api/chats/{chat_id}/share", headers=stranger),
        await client.delete(f"/api/chats/{chat_id}/share", headers=stranger),
        await client.delete(f"/api/chats/{chat_id}", headers=stranger),
    ]

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert (await client.get("/api/chats", headers=stranger)).json()["items"] == []
    assert (await client.get(f"/api/chats/{chat_id}", headers=owner)).status_code == 200


async def test_same_idempotency_key_and_file_give_the_same_chat(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))

    first = await upload(client, headers, HAND_COUNTED, key="upload-1")
    again = await upload(client, headers, HAND_COUNTED, key="upload-1")
    other_file = await upload(client, headers, small_export(), key="upload-1")
    no_key = [await upload(client, headers, HAND_COUNTED) for _ in range(2)]

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["chat"]["chat_id"] == first.json()["chat"]["chat_id"]
    assert again.json()["created"] is False
    assert other_file.status_code == 409
    assert no_key[0].json()["chat"]["chat_id"] != no_key[1].json()["chat"]["chat_id"]


async def test_the_same_key_from_another_user_is_another_chat(
    client, projector, token_for, subject
):
    mine = await upload(client, auth(token_for(subject)), HAND_COUNTED, key="shared-key")
    theirs = await upload(
        client, auth(token_for(f"other-{uuid.uuid4().hex}")), HAND_COUNTED, key="shared-key"
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["chat"]["chat_id"] != theirs.json()["chat"]["chat_id"]


async def test_uploads_past_the_hourly_limit_are_refused_with_retry_after(
    app, client, token_for, subject
):
    headers = auth(token_for(subject))
    user_id = (await client.post("/api/users/store", headers=headers)).json()["user_id"]
    await app.state.redis.set(f"{KEY_PREFIX}:upload:3600:{user_id}", 20, ex=3600)

    response = await upload(client, headers, HAND_COUNTED)

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert "20" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": "x" * 121}])
async def test_display_name_needs_a_sensible_field(client, projector, token_for, subject, body):
    headers = auth(token_for(subject))
    chat_id = (await uploaded(client, headers, HAND_COUNTED))["chat"]["chat_id"]

    response = await client.put(f"/api/chats/{chat_id}/display-name", json=body, headers=headers)

    assert response.status_code == 422


async def test_a_method_the_path_lacks_is_405_naming_every_method_it_has(
    client, token_for, subject
):
    headers = auth(token_for(subject))
    chat_path = f"/api/chats/{uuid.uuid4()}"

    wrong_method = await client.put(chat_path, headers=headers)
    read_of_the_upload_action = await client.get("/api/chats/upload", headers=headers)

    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "DELETE, GET"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert read_of_the_upload_action.status_code == 405
    assert read_of_the_upload_action.headers["Allow"] == "POST"
