"""The production topology, without containers (issue 9): `migrate`, then `api`, `projector`,
`worker`, `indexer` and `beat` as separate OS processes with ENVIRONMENT=production, generated
secrets, RS256 tokens from a local JWKS server, Razorpay and Stripe through their real SDKs
against the local fake servers (not the sandbox), Gemini (insights and embeddings) against the fake
Gemini server; a private database and a private broker namespace. The whole journey runs over
HTTP, as a client and an auditor would; tokens the deployment must not trust are refused."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SimulatedPayment, signed_webhook
from relivchats.settings import Settings
from tests.fakes.gemini_server import GeminiServer
from tests.fakes.jwks_server import JwksServer, SigningKey
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import free_port
from tests.services import REDIS_URL
from tests.worker_platform import TERMINAL, forget_broker_keys, stop_process_groups

PROCESSES = {
    "api": ["api"],
    "projector": ["projector"],
    "worker": ["worker", "--concurrency", "2"],
    "indexer": ["indexer"],
    "beat": ["beat"],
}
ISSUER = "https://identity.smoke.test/"
AUDIENCE = "relivchats-smoke"
AUDITOR_CLAIM = ("https://relivchats.test/roles", "ledger-auditor")
WAIT_S = 60


@dataclass
class Deployment:
    url: str
    env: dict[str, str]
    key: SigningKey
    secrets: dict[str, str]
    gemini: GeminiServer
    running: dict[str, subprocess.Popen[bytes]]

    def stopped(self) -> list[str]:
        return [name for name, process in self.running.items() if process.poll() is not None]

    def token(self, subject: str, **claims: Any) -> str:
        now = int(time.time())
        standard = {"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
        return self.key.sign({**standard, **claims})

    def headers(self, subject: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, **claims)}"}


def generated_secrets() -> dict[str, str]:
    return {
        "CONTENT_KEY": secrets.token_hex(32),
        "SANDBOX_WEBHOOK_SECRET": secrets.token_hex(32),
        "RAZORPAY_KEY_ID": f"rzp_live_{secrets.token_hex(6)}",
        "RAZORPAY_KEY_SECRET": secrets.token_hex(16),
        "RAZORPAY_WEBHOOK_SECRET": secrets.token_hex(16),
        "STRIPE_SECRET_KEY": f"sk_live_{secrets.token_hex(12)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(16)}",
        "GEMINI_API_KEY": secrets.token_hex(16),
    }


def production_env(database_url: str, folder: Path, port: int, fakes: dict[str, Any]) -> dict:
    inherited = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    return {
        **inherited,
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CELERY_KEY_PREFIX": f"smoke-{uuid.uuid4().hex}:",
        "DATA_DIR": str(folder / "data"),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "JWT_JWKS_URL": fakes["jwks"].url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "AUDITOR_CLAIM": AUDITOR_CLAIM[0],
        "AUDITOR_CLAIM_VALUE": AUDITOR_CLAIM[1],
        "RAZORPAY_BASE_URL": fakes["razorpay"].url,
        "STRIPE_BASE_URL": fakes["stripe"].url,
        "GEMINI_BASE_URL": fakes["gemini"].base_url,
        "PROJECTOR_POLL_INTERVAL_S": "0.2",
        "INSIGHT_RETRY_BACKOFF_S": "0.2",
    }


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from tests.conftest import throwaway_database

    folder = tmp_path_factory.mktemp("production")
    made = generated_secrets()
    with (
        throwaway_database() as database_url,
        JwksServer() as jwks,
        FakeRazorpay(key_id=made["RAZORPAY_KEY_ID"], key_secret=made["RAZORPAY_KEY_SECRET"]) as rzp,
        FakeStripe(secret_key=made["STRIPE_SECRET_KEY"]) as stripe,
        GeminiServer(answer_schemas=True) as gemini,
    ):
        jwks.keys.append(SigningKey("smoke-key-1"))
        fakes = {"jwks": jwks, "razorpay": rzp, "stripe": stripe, "gemini": gemini}
        port = free_port()
        env = {**production_env(database_url, folder, port, fakes), **made}
        migrated = subprocess.run(
            [sys.executable, "-m", "relivchats", "migrate"], env=env, capture_output=True
        )
        assert migrated.returncode == 0, migrated.stderr.decode()
        running = {
            name: _start(name, arguments, env, folder) for name, arguments in PROCESSES.items()
        }
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, running, folder)
            yield Deployment(url, env, jwks.keys[0], made, gemini, running)
        finally:
            stop_process_groups(list(running.values()))
            forget_broker_keys(env["REDIS_URL"], env["CELERY_KEY_PREFIX"])


def _start(name: str, arguments: list[str], env: dict, folder: Path) -> subprocess.Popen[bytes]:
    with (folder / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "relivchats", *arguments],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a stop takes the Celery pool processes too
        )


def _wait_ready(url: str, running: dict[str, subprocess.Popen[bytes]], folder: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        stopped = [name for name, process in running.items() if process.poll() is not None]
        assert not stopped, {name: (folder / f"{name}.log").read_text()[-2000:] for name in stopped}
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the API was not ready within {WAIT_S} s")


# --- the journey --------------------------------------------------------------------------------


def call(http: httpx.Client, method: str, path: str, **options: Any) -> Any:
    response = http.request(method, path, **options)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def paid(http: httpx.Client, deployment: Deployment, order: dict[str, Any]) -> dict[str, Any]:
    """The provider's signed `captured` webhook for `order`, signed with its real secret."""
    provider = order["provider"]
    payment = SimulatedPayment(
        order["provider_order_id"], order["amount_minor"], order["currency"], order["order_id"]
    )
    secret = deployment.secrets[f"{provider.upper()}_WEBHOOK_SECRET"]
    webhook = signed_webhook(provider, EventKind.CAPTURED, payment, secret=secret)
    return call(
        http,
        "POST",
        f"/api/payments/webhooks/{provider}",
        content=webhook.body,
        headers=webhook.headers,
    )


def test_the_whole_journey_runs_on_the_production_topology(deployment: Deployment) -> None:
    subject = f"smoke-{uuid.uuid4().hex[:8]}"
    with httpx.Client(
        base_url=deployment.url, headers=deployment.headers(subject), timeout=30
    ) as http:
        user_id = call(http, "POST", "/api/users/store")["user_id"]
        sample = resources.files("relivchats.samples").joinpath("asha_and_rahul.txt").read_bytes()
        chat = call(
            http, "POST", "/api/chats/upload", files={"file": ("chat.txt", sample, "text/plain")}
        )["chat"]["chat_id"]

        coins = 50
        for provider in ("razorpay", "stripe"):
            order = call(
                http,
                "POST",
                "/api/payments/orders",
                json={"package_id": "popular", "provider": provider},
                headers={"Idempotency-Key": f"smoke-{provider}"},
            )
            assert not order["provider_order_id"].startswith("order_sbx")  # not the sandbox
            applied = paid(http, deployment, order)
            assert applied["outcome"] == "applied"
            coins += order["coins"]
        balance = call(http, "GET", f"/api/credits/balance?min_position={applied['position']}")
        assert balance["balance"] == coins

        job = call(
            http, "POST", "/api/insights/unlock", json={"chat_id": chat, "category_id": "romantic"}
        )
        final = _followed(http, f"{job['poll_url']}?min_position={job['position']}")
        assert final["status"] == "captured", final

        insights = call(http, "GET", f"/api/insights/chats/{chat}")["insights"]
        assert insights and all(not i["generation"]["offline"] for i in insights)
        after = call(http, "GET", "/api/credits/balance")
        assert after == {**after, "balance": coins - job["reservation"]["amount"], "held": 0}

    auditor = deployment.headers("smoke-auditor", **{AUDITOR_CLAIM[0]: AUDITOR_CLAIM[1]})
    report = call(
        httpx.Client(base_url=deployment.url),
        "GET",
        f"/api/audit/users/{user_id}/verify",
        headers=auditor,
    )
    assert report["ok"] and report["balance"] == after["balance"]
    assert deployment.gemini.calls_to(":generateContent")  # Gemini wrote the insights
    assert deployment.gemini.calls_to(":batchEmbedContents") or deployment.gemini.calls_to(
        ":embedContent"
    )  # and embedded the chat: nothing ran offline
    assert deployment.stopped() == []  # every process (beat included) is still up


def _followed(http: httpx.Client, poll_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status: dict[str, Any] = call(http, "GET", poll_url)
        if status["status"] in TERMINAL:
            return status
        time.sleep(0.3)
    pytest.fail(f"the job did not finish within {WAIT_S} s")


def test_a_token_from_relivchats_token_is_refused(deployment: Deployment) -> None:
    """An attacker mints with the public development secret, our issuer and audience, and the
    auditor claim itself: the production API verifies RS256 against the provider's keys only."""
    development = {
        **{k: v for k, v in deployment.env.items() if k not in ("ENVIRONMENT", "JWT_JWKS_URL")},
        "ENVIRONMENT": "development",
    }
    minted = subprocess.run(
        [sys.executable, "-m", "relivchats", "token", "--sub", "attacker", "--role", "auditor"],
        env=development,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    forged = {"Authorization": f"Bearer {minted}"}

    me = httpx.get(f"{deployment.url}/api/users/me", headers=forged)
    audit = httpx.get(f"{deployment.url}/api/audit/users/{uuid.uuid4()}/verify", headers=forged)

    assert (me.status_code, audit.status_code) == (401, 401)


def test_a_generic_roles_claim_does_not_open_the_audit_routes(deployment: Deployment) -> None:
    headers = deployment.headers("not-an-auditor", roles=["auditor"], role="auditor")
    httpx.post(f"{deployment.url}/api/users/store", headers=headers).raise_for_status()

    response = httpx.get(f"{deployment.url}/api/audit/users/{uuid.uuid4()}/verify", headers=headers)

    assert response.status_code in (403, 404)
    assert response.json()["error"]["code"] in ("forbidden", "not_found")


def test_the_compose_health_checks_pass_on_the_running_processes(deployment: Deployment) -> None:
    """The commands docker-compose.yml runs as health checks, against these processes (the
    worker's name carries its PID, which is 1 in a container)."""

    def succeeds(*arguments: str) -> bool:
        command = [sys.executable, "-m", *arguments]
        done = subprocess.run(command, env=deployment.env, capture_output=True, timeout=60)
        return done.returncode == 0

    def ping(worker: str) -> bool:
        return succeeds(
            "celery", "-A", "relivchats.workers.app:celery_app", "inspect", "ping", "-d", worker
        )

    worker = f"relivchats-{deployment.running['worker'].pid}@{socket.gethostname()}"
    beat_files = Path(deployment.env["DATA_DIR"]).glob("celerybeat-schedule*")

    assert httpx.get(f"{deployment.url}/health/ready").status_code == 200
    assert succeeds("relivchats", "projections", "status", "--max-lag", "1000")
    assert ping(worker)
    assert not ping("nobody@nowhere")  # the check can fail
    assert any(time.time() - found.stat().st_mtime < 600 for found in beat_files)
