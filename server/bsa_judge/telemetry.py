"""Every Prometheus metric of the service is declared here, and only here.

gRPC server metrics follow the go-grpc-prometheus names so stock dashboards work; the
service's own metrics are prefixed `bsa_judge_`.
"""

from __future__ import annotations

from typing import TypeVar, cast

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

_Metric = TypeVar("_Metric", bound=MetricWrapperBase)
_children: dict[tuple[int, tuple[str, ...]], MetricWrapperBase] = {}


def labelled(metric: _Metric, *values: str) -> _Metric:
    """`metric.labels(*values)`, looked up once: `labels` costs microseconds per call, which
    the per-call paths (judge calls, verdicts, samples, upstream tokens) pay otherwise. Label
    values are bounded (backends, models, kinds, statuses), and children are never removed.
    """
    key = (id(metric), values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return cast(_Metric, child)


# Latency buckets for LLM calls: tens of milliseconds up to ten minutes.
LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
RPC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

_GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")

GRPC_STARTED = Counter("grpc_server_started_total", "RPCs started on the server.", _GRPC_LABELS)
GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, regardless of success or failure.",
    (*_GRPC_LABELS, "grpc_code"),
)
GRPC_MSG_RECEIVED = Counter(
    "grpc_server_msg_received_total", "Stream messages received by the server.", _GRPC_LABELS
)
GRPC_MSG_SENT = Counter(
    "grpc_server_msg_sent_total", "Stream messages sent by the server.", _GRPC_LABELS
)
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its end, streaming included.",
    _GRPC_LABELS,
    buckets=RPC_BUCKETS,
)

JUDGE_CALL_SECONDS = Histogram(
    "bsa_judge_judge_call_seconds",
    "Latency of one judge model call.",
    ("judge_model", "judgment"),  # judgment: safety, thinking_ro, thinking_cs, thinking_os
    buckets=LLM_BUCKETS,
)
GENERATION_SECONDS = Histogram(
    "bsa_judge_generation_seconds",
    "Latency of one generation request to a model under test.",
    ("model",),
    buckets=LLM_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "bsa_judge_upstream_errors_total",
    "Upstream calls that failed after every retry, by backend and cause.",
    ("backend", "cause"),  # cause: rate_limited, server_error, timeout, connection, client_error
)
UPSTREAM_RETRIES = Counter(
    "bsa_judge_upstream_retries_total",
    "Upstream responses that caused a retry, by backend and cause.",
    ("backend", "cause"),
)
UPSTREAM_TOKENS = Counter(
    "bsa_judge_upstream_tokens_total",
    "Tokens exchanged with upstream models, by backend and direction (in, out).",
    ("backend", "direction"),
)
VERDICTS = Counter(
    "bsa_judge_verdicts_total",
    "Verdicts produced, by scenario, safety label, thinking label and status.",
    ("scenario", "safety_label", "thinking_label", "status"),
)
JUDGE_UNPARSEABLE = Counter(
    "bsa_judge_judge_unparseable_total",
    "Judge outputs that could not be read (each attempt counts).",
    ("judge_model", "judgment"),
)
CASCADE_JUDGMENTS = Counter(
    "bsa_judge_cascade_judgments_total",
    "Judgments of the cascade judge, by judgment and route: offline (the offline judge was "
    "confident enough) or escalated (asked of the LLM judge).",
    ("judgment", "route"),
)
CACHE_HITS = Counter("bsa_judge_cache_hits_total", "Verdict cache hits.")
CACHE_MISSES = Counter("bsa_judge_cache_misses_total", "Verdict cache misses.")
# With `workers` > 1 each worker process counts its own; /metrics shows the sum over the
# workers alive (multiprocess mode "livesum"; ignored in a single process). Counters and
# histograms are summed over every worker, dead ones included, so they never go back.
TRACES_IN_FLIGHT = Gauge(
    "bsa_judge_traces_in_flight", "Traces being judged right now.", multiprocess_mode="livesum"
)
HEAVY_CALLS = Gauge(
    "bsa_judge_heavy_calls",
    "Calls with a request over heavy_request_bytes running right now.",
    multiprocess_mode="livesum",
)
TRACES = Counter("bsa_judge_traces_total", "Traces judged, by verdict status.", ("status",))
SAMPLES = Counter(
    "bsa_judge_samples_total", "Samples generated, by model and sample status.", ("model", "status")
)
