"""The Celery app's reliability settings (architecture.md section 5), checked without a broker."""

from __future__ import annotations

import pytest

from relivchats.settings import Settings
from relivchats.workers.app import SWEEP_TASK, broker_url, create_celery


def test_tasks_are_acknowledged_late_one_at_a_time_and_requeued_when_a_worker_dies():
    conf = create_celery(Settings()).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit


def test_an_unacknowledged_task_comes_back_within_seconds_not_minutes():
    options = create_celery(Settings()).conf.broker_transport_options
    assert options["visibility_timeout"] == 60
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 1


def test_time_limits_must_stay_under_the_visibility_timeout():
    with pytest.raises(ValueError, match="VISIBILITY_TIMEOUT"):
        create_celery(Settings(celery_task_time_limit_s=60, celery_visibility_timeout_s=60))


def test_tasks_are_routed_to_the_queue_their_name_starts_with():
    conf = create_celery(Settings()).conf
    assert conf.task_routes["maintenance.*"] == {"queue": "maintenance"}
    assert set(conf.task_routes) == {"indexing.*", "generation.*", "maintenance.*"}
    assert conf.beat_schedule["sweep-expired-reservations"]["task"] == SWEEP_TASK


def test_a_key_prefix_namespaces_every_broker_key():
    conf = create_celery(Settings(celery_key_prefix="run-7:")).conf
    assert conf.broker_transport_options["global_keyprefix"] == "run-7:"


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("redis://cache.internal:6379/15", "redis://cache.internal:6379/15"),
        ("unix:///srv/data/redis.sock?db=2", "redis+socket:///srv/data/redis.sock?virtual_host=2"),
    ],
)
def test_broker_url_speaks_kombus_dialect(redis_url, expected):
    assert broker_url(redis_url) == expected
