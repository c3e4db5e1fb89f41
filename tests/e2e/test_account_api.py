"""`DELETE /api/users/delete-account` and `GET /api/users/me/export` through the HTTP API, quickly
(the whole journey with workers and erasure: test_account_deletion.py)."""

from __future__ import annotations

import asyncio

from tests.helpers import auth


async def test_deleting_an_account_that_was_never_registered_is_404(client, token_for, subject):
    response = await client.delete("/api/users/delete-account", headers=auth(token_for(subject)))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_after_deleting_the_token_is_refused_and_a_second_delete_too(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    await client.post("/api/users/store", headers=headers)

    deleted = await client.delete("/api/users/delete-account", headers=headers)
    again = await client.delete("/api/users/delete-account", headers=headers)
    me = await client.get("/api/users/me", headers=headers)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] is True and "x-consistency" not in deleted.headers
    for refused in (again, me):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "account_deleted"
        assert refused.headers["www-authenticate"] == "Bearer"


async def test_a_token_issued_after_the_deletion_registers_a_new_empty_account(
    client, projector, token_for, subject
):
    old = auth(token_for(subject))
    first = (await client.post("/api/users/store", headers=old)).json()
    await client.delete("/api/users/delete-account", headers=old)
    await asyncio.sleep(1.1)  # `iat` has whole seconds
    new = auth(token_for(subject))

    before = await client.get("/api/users/me", headers=new)
    stored = await client.post("/api/users/store", headers=new)
    me = await client.get(f"/api/users/me?min_position={stored.json()['position']}", headers=new)

    assert before.status_code == 404  # the next account exists once registered
    assert stored.status_code == 201 and stored.json()["user_id"] != first["user_id"]
    assert (stored.json()["welcome_bonus"], me.json()["balance"]) == (0, 0)


async def test_the_export_is_everything_held_about_the_caller(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    stored = (await client.post("/api/users/store", headers=headers)).json()

    response = await client.get(
        f"/api/users/me/export?min_position={stored['position']}", headers=headers
    )

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    body = response.json()
    assert body["profile"]["user_id"] == stored["user_id"]
    assert (body["chats"], body["conversations"], body["payment_orders"]) == ([], [], [])
    assert [entry["kind"] for entry in body["ledger"]] == ["welcome_bonus"]
