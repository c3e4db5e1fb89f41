"""Telling the identity provider to forget a deleted account: the adapter against a local fake
admin API, and the whole path (deletion -> dispatcher -> retried Celery task in a real worker)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from relivchats.adapters.identity_admin import (
    IdentityAdmin,
    IdentityAdminRefused,
    IdentityAdminUnavailable,
    identity_admin_from,
)
from relivchats.settings import Settings
from tests.fakes.identity_admin_server import IdentityAdminServer
from tests.helpers import auth, eventually
from tests.worker_platform import (
    api_and_projector,
    forget_broker_keys,
    platform_settings,
    stop_process_groups,
    worker_env,
)

KEY = "identity-admin-key"


def test_the_provider_is_told_to_forget_the_subject_with_the_admin_key() -> None:
    with IdentityAdminServer(KEY) as server:
        admin = IdentityAdmin(server.url, KEY, timeout_s=5)
        admin.forget("auth0|some one/with slashes")
        admin.forget("auth0|some one/with slashes")  # already forgotten: 404 counts as done

    assert server.forgotten == ["auth0|some one/with slashes"]
    assert [auth for _, auth in server.requests] == [f"Bearer {KEY}"] * 2


def test_an_outage_is_worth_retrying_and_a_wrong_key_is_not() -> None:
    with IdentityAdminServer(KEY, failures=1) as server:
        with pytest.raises(IdentityAdminUnavailable):
            IdentityAdmin(server.url, KEY, timeout_s=5).forget("someone")
        with pytest.raises(IdentityAdminRefused):
            IdentityAdmin(server.url, "wrong-key", timeout_s=5).forget("someone")
    with pytest.raises(IdentityAdminUnavailable):
        IdentityAdmin(server.url, KEY, timeout_s=1).forget("someone")  # nobody listens now


def test_without_an_address_nobody_is_told() -> None:
    assert identity_admin_from(Settings()) is None


def maintenance_worker(settings: Settings, admin_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**worker_env(settings), "IDENTITY_ADMIN_URL": admin_url, "IDENTITY_ADMIN_KEY": KEY}
    command = [sys.executable, "-m", "relivchats", "worker", "--queues", "maintenance"]
    with log.open("wb") as output:
        return subprocess.Popen(
            command, env=env, stdout=output, stderr=output, start_new_session=True
        )


async def test_deleting_an_account_tells_the_provider_through_a_retried_task(
    private_database_url: str, tmp_path: Path, token_for
) -> None:
    settings = platform_settings(private_database_url, tmp_path)
    subject = f"told-{uuid.uuid4().hex}"
    with IdentityAdminServer(KEY, failures=2) as server:
        worker = maintenance_worker(settings, server.url, tmp_path / "worker.log")
        try:
            async with api_and_projector(settings) as client:
                headers = auth(token_for(subject))
                assert (await client.post("/api/users/store", headers=headers)).status_code == 201
                deleted = await client.delete("/api/users/delete-account", headers=headers)
                assert deleted.status_code == 200, deleted.text

                async def told() -> bool:
                    return server.forgotten == [subject]

                await eventually(told, within=90)
        finally:
            stop_process_groups([worker])
            forget_broker_keys(settings.redis_url, settings.celery_key_prefix)
    assert len(server.requests) == 3  # two outages ridden out, then done
    assert subject.encode() not in (tmp_path / "worker.log").read_bytes()
