"""HTTP caching: reference data (catalogue, packages) and a shared chat's public statistics carry
an ETag and answer 304 to a current If-None-Match; personal data says no-store."""

from __future__ import annotations

import pytest

from tests.helpers import auth
from tests.insight_flows import chat_of


@pytest.mark.parametrize("path", ["/api/categories", "/api/categories/romantic/insights"])
async def test_reference_data_is_cacheable_and_revalidates_to_304(client, path):
    first = await client.get(path)
    etag = first.headers["ETag"]

    again = await client.get(path, headers={"If-None-Match": etag})
    stale = await client.get(path, headers={"If-None-Match": '"something-older"'})

    assert first.status_code == 200 and first.json()
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    assert stale.status_code == 200 and stale.json() == first.json()


async def test_packages_are_cacheable_and_serialised_as_before(client):
    first = await client.get("/api/credits/packages")
    again = await client.get(
        "/api/credits/packages", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert first.headers["Cache-Control"] == "public, max-age=300"
    popular = next(p for p in first.json() if p["package_id"] == "popular")
    assert isinstance(popular["price_inr"], str)  # Decimal as FastAPI's model serialisation
    assert again.status_code == 304


async def test_public_statistics_revalidate_every_time_and_vanish_when_unshared(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    await client.post("/api/users/store", headers=headers)
    chat_id = await chat_of(client, headers)
    shared = (await client.post(f"/api/chats/{chat_id}/share", headers=headers)).json()
    path = f"{shared['public_stats_path']}?min_position={shared['position']}"

    first = await client.get(path)
    again = await client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    unshared = await client.delete(f"/api/chats/{chat_id}/share", headers=headers)
    gone = await client.get(
        f"{shared['public_stats_path']}?min_position={unshared.json()['position']}",
        headers={"If-None-Match": first.headers["ETag"]},
    )

    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, no-cache"
    assert again.status_code == 304
    assert gone.status_code == 404
    assert gone.headers["Cache-Control"] == "no-store"


async def test_personal_data_is_never_stored_by_a_cache(client, token_for, subject):
    headers = auth(token_for(subject))
    await client.post("/api/users/store", headers=headers)

    balance = await client.get("/api/credits/balance", headers=headers)
    refused = await client.get("/api/credits/balance")

    assert balance.headers["Cache-Control"] == "no-store"
    assert refused.headers["Cache-Control"] == "no-store"
    assert "ETag" not in balance.headers
