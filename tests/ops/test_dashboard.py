"""The Grafana dashboard queries only metrics the service exports, in valid PromQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import bsa_judge.telemetry  # noqa: F401 - registers every metric of the service
import pytest
import yaml
from prometheus_client import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "bsa-judge.json"

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
             "and", "or", "unless", "inf", "nan"}  # fmt: skip
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panel_queries() -> list[str]:
    """Every PromQL expression of every panel (rows included)."""
    panels = dashboard()["panels"]
    nested = [p for row in panels for p in row.get("panels", [])]
    return [t["expr"] for p in panels + nested for t in p.get("targets", [])]


def variable_metrics() -> list[str]:
    """Metric names the template variables read (Grafana's label_values(metric, label))."""
    found = []
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["definition"])
            assert match, variable["definition"]
            found.append(match.group(1))
    return found


def as_promql(expr: str) -> str:
    """The expression Prometheus would get once Grafana filled in its variables."""
    expr = re.sub(r"\$__(rate_interval|interval|range)", "1m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers that are not functions, keywords,
    label names or values."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", as_promql(expr))  # label values, strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range and subquery windows
    expr = _LABEL_LISTS.sub("", expr)  # grouping label lists
    return {
        name
        for name, call in _IDENTIFIER.findall(expr)
        if not call and name.lower() not in _KEYWORDS
    }


def exported_metrics() -> set[str]:
    """The series names the service exposes, as PromQL would name them."""
    names = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {family.name, *(f"{family.name}_{s}" for s in ("bucket", "sum", "count"))}
        else:
            names.add(family.name)
    return names


def test_the_name_extraction_reads_what_a_query_reads() -> None:
    expr = (
        'sum by (le, judge_model) (rate(bsa_judge_judge_call_seconds_bucket{job=~"$job"}'
        "[$__rate_interval])) / on (pod) group_left sum(up offset 5m)"
    )
    assert metric_names(expr) == {"bsa_judge_judge_call_seconds_bucket", "up"}


def test_every_metric_the_dashboard_queries_is_exported_by_the_service() -> None:
    used = set(variable_metrics()).union(*(metric_names(q) for q in panel_queries()))
    assert used, "the dashboard queries nothing"
    assert used - exported_metrics() == set()


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run `make prometheus` (Debian's package)")
    rules = [
        {"record": f"dashboard:query{n}", "expr": as_promql(query)}
        for n, query in enumerate(panel_queries())
    ]
    rules_file = tmp_path / "dashboard-rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_shows_what_operators_watch() -> None:
    queries = panel_queries()
    used = set().union(*(metric_names(q) for q in queries))
    assert used >= {
        "grpc_server_handled_total",  # request rate and error ratio per method
        "bsa_judge_judge_call_seconds_bucket",  # judge latency
        "bsa_judge_generation_seconds_bucket",  # generation latency
        "bsa_judge_upstream_errors_total",
        "bsa_judge_upstream_retries_total",
        "bsa_judge_upstream_tokens_total",  # tokens per second
        "bsa_judge_traces_in_flight",
        "bsa_judge_judge_unparseable_total",
    }
    judge_latency = [q for q in queries if "bsa_judge_judge_call_seconds_bucket" in q]
    quantiles = {re.findall(r"histogram_quantile\(([\d.]+),", q)[0] for q in judge_latency}
    assert quantiles == {"0.5", "0.95", "0.99"}
    assert all("by (le, judge_model)" in q for q in judge_latency)
