"""Service identity, liveness, readiness, pool health, metrics, and the error envelope."""

from __future__ import annotations


async def test_root_names_the_service_and_links_the_docs(client):
    body = (await client.get("/")).json()
    assert body["name"] == "RelivChats"
    assert body["links"]["docs"] == "/docs"


async def test_liveness_answers_with_a_request_id(client):
    response = await client.get("/health")
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32


async def test_a_safe_incoming_request_id_is_echoed(client):
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_readiness_checks_database_broker_and_projections(client, projector):
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["projections"]["ok"]


async def test_db_pool_reports_the_real_pool(client, settings):
    stats = (await client.get("/health/db-pool")).json()
    assert stats["max_size"] == settings.api_db_pool_max
    assert 0 <= stats["in_use"] <= stats["size"] <= stats["max_size"]
    assert stats["waiting"] == 0
    assert 0 <= stats["utilisation_percent"] <= 100


async def test_metrics_expose_latency_pool_and_projection_lag(client):
    await client.get("/health")
    text = (await client.get("/metrics")).text
    assert (
        'relivchats_http_request_duration_seconds_bucket{le="0.002",method="GET",route="/health"'
        in text
    )
    assert 'relivchats_db_pool{measure="max_size"}' in text
    assert 'relivchats_projection_lag_events{projection="users"}' in text


async def test_unknown_route_is_404_in_the_envelope(client):
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405_in_the_envelope(client):
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_invalid_query_is_422_without_echoing_input(client, token_for, subject):
    response = await client.get(
        "/api/users/me?min_position=-5", headers={"Authorization": f"Bearer {token_for(subject)}"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["problems"][0]["location"] == ["query", "min_position"]
    assert "-5" not in response.text


async def test_openapi_and_docs_are_served(client):
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "RelivChats"
    assert (await client.get("/docs")).status_code == 200


async def test_an_unexpected_failure_is_a_500_envelope_without_internals(settings):
    import httpx

    from relivchats.api.app import create_app

    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM internals")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


async def test_readiness_asks_a_configured_qdrant_server_and_fails_when_it_is_down(settings):
    import httpx

    from relivchats.api.app import create_app

    app = create_app(settings.model_copy(update={"qdrant_url": "http://127.0.0.1:9"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["vector_store"] == {
        "ok": False,
        "error": "ConnectError",
        "mode": "server",
    }
