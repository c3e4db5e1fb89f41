"""R8: the OpenAPI document is a true contract, checked by schemathesis against the real API.

The real app (uvicorn, PostgreSQL, Redis, the projector) serves on a free port in a thread of
its own; schemathesis reads `/openapi.json` and runs every phase (examples, coverage, fuzzing,
stateful) with every check, a fixed seed and a bounded number of examples per operation, as an
authenticated auditor (so it gets past 401 everywhere). Ids of a real user, chat, share, order
and job are offered as dictionary values, so success bodies are validated too, not only 404s.

The settings below relax one check (a schema-valid request must be accepted) on a few
operations, each for a reason a JSON schema cannot express; everything else must pass as is: no
5xx, no body outside its schema, no status the document does not declare.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from relivchats.adapters.payments.base import EventKind
from relivchats.api.app import create_app
from relivchats.projections.projector import Projector
from relivchats.projections.registry import all_projections
from relivchats.settings import Settings
from tests.chat_uploads import small_export
from tests.helpers import AUDITOR_CLAIMS, free_port
from tests.payment_flows import delivery

pytestmark = pytest.mark.slow

SEED = 20261207
EXAMPLES_PER_OPERATION = 12
RUN_TIMEOUT_S = 600

# Reasons, not tolerance: a schema cannot tell these requests from good ones.
CHECK_EXCEPTIONS = """
[[operations]]
# An HMAC signature is just a string to the schema; only the webhook secret makes it valid.
include-path-regex = "^/api/payments/webhooks/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "503"]

[[operations]]
# Any bytes are a "binary" file to the schema; only a WhatsApp export parses.
include-path = "/api/chats/upload"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "409", "413", "422", "429", "503"
]

[[operations]]
# Which names are the chat's participants (me_participant) differs from chat to chat.
include-path = "/api/chats/{chat_id}/display-name"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "422", "503"]
"""


@pytest.fixture
def fuzzed_settings(settings: Settings, private_database_url: str) -> Settings:
    return settings.model_copy(
        update={
            "database_url": private_database_url,
            "log_level": "ERROR",
            "data_dir": os.path.join(
                tempfile.gettempdir(), f"relivchats-contract-{uuid.uuid4().hex}"
            ),
            # The limits have their own tests; here they would hide the routes behind 429s.
            "rate_limit_upload": "10000/minute",
            "rate_limit_unlock": "10000/minute",
            "rate_limit_order": "10000/minute",
            "rate_limit_rag": "10000/minute",
            # Fuzzed min_position values name positions never written: do not wait 2 s for each.
            "min_position_timeout_s": 0.2,
        }
    )


async def _serve(server: uvicorn.Server, settings: Settings) -> None:
    projector = Projector(settings.database_url, all_projections(), poll_interval=0.05)
    following = asyncio.create_task(projector.run())
    try:
        await server.serve()
    finally:
        following.cancel()


@pytest.fixture
def api_url(fuzzed_settings: Settings) -> Iterator[str]:
    """The real app and projector, on their own event loop in a thread, as a server on a port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(fuzzed_settings), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=asyncio.run, args=(_serve(server, fuzzed_settings),))
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def done(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def known_ids(api_url: str, token: str) -> dict[str, str]:
    """A paying user with a chat, a share link and an insight job: real ids for the fuzzer."""
    headers = {"Authorization": f"Bearer {token}"}
    export = {"file": ("chat.txt", small_export(40), "text/plain")}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as http:
        user = done(http.post("/api/users/store"))
        chat = done(http.post("/api/chats/upload", files=export))["chat"]
        share = done(http.post(f"/api/chats/{chat['chat_id']}/share"))
        order = done(
            http.post(
                "/api/payments/orders",
                headers={"Idempotency-Key": "contract-order"},
                json={"package_id": "popular", "provider": "razorpay"},
            )
        )
        paid = delivery(order, EventKind.CAPTURED)
        done(http.post("/api/payments/webhooks/razorpay", content=paid.body, headers=paid.headers))
        unlock = {"chat_id": chat["chat_id"], "category_id": "friendship"}
        job = done(http.post("/api/insights/unlock", json=unlock))
    return {
        "user_id": user["user_id"],
        "chat_id": chat["chat_id"],
        "share_token": share["share_token"],
        "order_id": order["order_id"],
        "job_id": job["job_id"],
        "category_id": "friendship",
    }


def schemathesis_config(ids: dict[str, str]) -> str:
    """Each known id is offered half the time for every path parameter of that name."""
    lines = [CHECK_EXCEPTIONS]
    for name, value in ids.items():
        lines.append(f'[dictionaries.{name}]\nvalues = ["{value}"]\n')
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    return "\n".join(lines) + "\n"


def run_schemathesis(api_url: str, token: str, config: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color"]
    options = [
        *("--phases", "examples,coverage,fuzzing,stateful"),
        *("--checks", "all"),
        *("--seed", str(SEED)),
        *("--max-examples", str(EXAMPLES_PER_OPERATION)),
        *("--workers", "1"),
        *("--generation-database", "none"),
        *("--request-timeout", "10"),
        *("--header", f"Authorization: Bearer {token}"),
    ]
    return subprocess.run(
        [*command, "run", f"{api_url}/openapi.json", *options],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=config.parent,
    )


def test_the_api_keeps_its_openapi_contract_under_fuzzing(api_url, token_for, tmp_path):
    token = token_for(f"fuzzer-{uuid.uuid4().hex}", extra_claims=AUDITOR_CLAIMS)
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(known_ids(api_url, token)))

    run = run_schemathesis(api_url, token, config)

    (tmp_path / "schemathesis.out").write_text(run.stdout + run.stderr)
    generated = re.search(r"(\d+) generated", run.stdout)
    print(f"schemathesis: seed {SEED}, {generated and generated.group(0)} test cases")
    assert generated is not None, run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"{run.stdout[-12000:]}\n(all of it: {tmp_path}/schemathesis.out)"
