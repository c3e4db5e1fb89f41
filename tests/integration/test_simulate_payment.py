"""`relivchats simulate-payment` against a real uvicorn API: an offline purchase, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from relivchats.settings import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import free_port
from tests.payment_flows import balance

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def api_url(api_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "relivchats.api.app:create_app", "--factory"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"], env=api_env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "API did not start"
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def simulate(api_env: dict[str, str], api_url: str, order_id: str, *options: str):
    command = [sys.executable, "-m", "relivchats", "simulate-payment", "--order", order_id]
    return subprocess.run(
        [*command, "--api", api_url, *options],
        env=api_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_simulated_capture_buys_the_coins_once(api_env, api_url, store, token_for):
    headers = {"Authorization": f"Bearer {token_for(f'cli-{uuid.uuid4().hex}')}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=10) as http:
        user_id = uuid.UUID(http.post("/api/users/store").json()["user_id"])
        order = http.post(
            "/api/payments/orders",
            json={"package_id": "starter", "provider": "razorpay"},
            headers={"Idempotency-Key": "cli-1"},
        ).json()

    paid = simulate(api_env, api_url, order["order_id"], "--duplicates", "2")

    assert paid.returncode == 0, paid.stderr
    outcomes = [line for line in paid.stdout.splitlines() if line.startswith("200 ")]
    assert len(outcomes) == 3
    assert '"applied"' in outcomes[0] and all('"duplicate"' in line for line in outcomes[1:])
    assert balance(store, user_id) == 50 + 400

    refunded = simulate(api_env, api_url, order["order_id"], "--event", "refunded")
    assert refunded.returncode == 0, refunded.stderr
    assert balance(store, user_id) == 50


def test_simulating_an_unknown_order_says_so(api_env, api_url):
    result = simulate(api_env, api_url, str(uuid.uuid4()))
    assert result.returncode == 2
    assert "no order" in result.stderr
