"""`POST /api/users/store` and `GET /api/users/me` through the HTTP API."""

from __future__ import annotations

import asyncpg

from relivchats.domain.users import user_id_for
from tests.helpers import auth


async def test_storing_the_same_user_twice_makes_one_user(
    client, projector, token_for, subject, database_url
):
    headers = auth(token_for(subject, email="a@example.com"))
    first = await client.post("/api/users/store", headers=headers)
    second = await client.post("/api/users/store", headers=headers)

    assert first.status_code == 201 and first.json()["created"] is True
    assert second.status_code == 200 and second.json()["created"] is False
    assert first.json()["user_id"] == second.json()["user_id"] == str(user_id_for(subject))

    position = second.json()["position"]
    me = await client.get(f"/api/users/me?min_position={position}", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "a@example.com"
    assert "x-consistency" not in me.headers

    conn = await asyncpg.connect(database_url)
    try:
        events = await conn.fetchval(
            "SELECT count(*) FROM relivchats_events WHERE originator_id = $1", user_id_for(subject)
        )
    finally:
        await conn.close()
    assert events == 1


async def test_me_before_registering_is_404_in_the_envelope(client, token_for, subject):
    response = await client.get("/api/users/me", headers=auth(token_for(subject)))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_min_position_out_of_reach_answers_with_what_it_has_and_says_stale(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    stored = await client.post("/api/users/store", headers=headers)
    await client.get(f"/api/users/me?min_position={stored.json()['position']}", headers=headers)

    response = await client.get("/api/users/me", headers={**headers, "X-Min-Position": "999999999"})
    assert response.status_code == 200
    assert response.headers["x-consistency"] == "stale"


async def test_the_user_id_comes_from_the_token_not_the_body(client, token_for, subject):
    response = await client.post(
        "/api/users/store", headers=auth(token_for(subject)), json={"user_id": "someone-else"}
    )
    assert response.json()["user_id"] == str(user_id_for(subject))
