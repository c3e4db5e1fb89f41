"""The dashboard and the alert rules name only metrics the processes really export, and every
alert names a runbook that exists.

The exported names are collected from the registries of the processes as they are built: the
modules each process imports (API app, projector, Celery app and its task modules) register
their metrics in prometheus-client's registry, and the broker's queue collector describes its
own; nothing here lists metric names by hand.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "relivchats.json"
OUR_METRIC = re.compile(r"\brelivchats_[a-z0-9_]+")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def _process_registries() -> list[Any]:
    """Import what each process imports, so that its metrics register; then collect."""
    from relivchats.settings import Settings

    importlib.import_module("relivchats.api.app")  # api
    importlib.import_module("relivchats.cli.processes")  # projector
    workers = importlib.import_module("relivchats.workers.app")  # worker, indexer, beat
    for module in workers.TASK_MODULES:
        importlib.import_module(module)
    queues = workers.queue_depth(Settings(environment="test"))
    return [*REGISTRY.collect(), *queues.describe()]


def exported_names() -> set[str]:
    names = set()
    for family in _process_registries():
        names.update(f"{family.name}{suffix}" for suffix in SUFFIXES[family.type])
    return names


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_processes_export_the_metrics_the_issue_asks_for() -> None:
    names = exported_names()
    assert {
        "relivchats_tasks_total",
        "relivchats_task_duration_seconds_bucket",
        "relivchats_task_queue_wait_seconds_bucket",
        "relivchats_queue_depth",
        "relivchats_llm_tokens_total",
        "relivchats_llm_latency_seconds_bucket",
        "relivchats_embedded_chunks_total",
        "relivchats_sweeper_released_total",
        "relivchats_purged_total",
        "relivchats_projection_lag_events",
        "relivchats_projection_lag_seconds",
        "relivchats_projection_batch_events_bucket",
        "relivchats_projection_apply_seconds_bucket",
    } <= names


@pytest.mark.parametrize(
    ("source", "expressions"),
    [
        ("alerts.yml", [rule["expr"] for rule in alert_rules()]),
        ("relivchats.json", dashboard_expressions()),
    ],
)
def test_every_metric_named_is_one_the_code_exports(source: str, expressions: list[str]) -> None:
    named = {name for expr in expressions for name in OUR_METRIC.findall(expr)}
    assert named, f"{source} names no metric of ours"
    assert named - exported_names() == set(), f"{source} names metrics nothing exports"


def test_the_dashboard_shows_what_an_operator_on_call_looks_at() -> None:
    everything = " ".join(dashboard_expressions())
    for metric in (
        "relivchats_http_request_duration_seconds_bucket",  # latency by route
        "relivchats_db_pool",  # pool use
        "relivchats_projection_lag_seconds",
        "relivchats_queue_depth",
        "relivchats_tasks_total",
        "payments.OrderFlagged.v1",  # payments credited vs flagged
        "credits.Reservation(Captured|Released)",  # job settlement
    ):
        assert metric in everything, metric


def test_every_alert_names_a_runbook_that_exists() -> None:
    for rule in alert_rules():
        runbook = rule["annotations"]["runbook"]
        assert (ROOT / runbook).is_file(), f"{rule['alert']}: {runbook} is missing"


def test_the_compose_file_provisions_prometheus_and_grafana_with_these_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounted = " ".join([*compose["prometheus"]["volumes"], *compose["grafana"]["volumes"]])
    for path in ("deploy/prometheus/alerts.yml", "deploy/prometheus/prometheus.yml"):
        assert f"./{path}:" in mounted
    assert "./deploy/grafana/dashboards:" in mounted
    scraped = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in scraped["scrape_configs"]}
    assert jobs == {"api", "projector", "worker", "indexer", "beat"}
