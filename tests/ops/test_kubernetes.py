"""The Kubernetes manifests render, validate offline against the Kubernetes schemas, and say
what the service needs: native gRPC probes, a locked-down pod, a headless Service, settings
the server accepts, and an autoscaler on a metric the service exports."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import bsa_judge.telemetry  # noqa: F401 - registers every metric of the service
import jsonschema
import kubernetes_validate
import pytest
import yaml
from bsa_judge.generation.backends import parse_backends
from bsa_judge.settings import Settings
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "deploy" / "kubernetes" / "overlays").iterdir())
# The oldest Kubernetes we support (native gRPC probes are GA since 1.27) and the newest.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

# The Prometheus Operator's CRD schema is not among the built-in Kubernetes schemas, so the
# ServiceMonitor is checked against the part of that CRD these manifests use.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                        },
                    },
                },
            },
        },
    },
}


def render(overlay: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` (or a standalone `kustomize build`) of one overlay."""
    path = ROOT / "deploy" / "kubernetes" / "overlays" / overlay
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(path)]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", str(path)]
    else:
        pytest.fail("rendering the manifests needs kubectl or kustomize on PATH")
    rendered = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [document for document in yaml.safe_load_all(rendered) if document]


def one(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [m for m in manifests if m["kind"] == kind]
    return found


@pytest.fixture(scope="module", params=OVERLAYS)
def manifests(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_there_are_production_overlays_with_and_without_tls() -> None:
    assert {"production", "production-tls"} <= set(OVERLAYS)


def test_every_resource_validates_against_the_kubernetes_schemas(
    manifests: list[dict[str, Any]],
) -> None:
    for manifest in manifests:
        if manifest["kind"] == "ServiceMonitor":
            jsonschema.validate(manifest, SERVICE_MONITOR_SCHEMA)
            continue
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)


def test_the_overlay_holds_every_kind_the_service_needs(manifests: list[dict[str, Any]]) -> None:
    assert {m["kind"] for m in manifests} >= {
        "Deployment",
        "Service",
        "ConfigMap",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "ServiceAccount",
    }


def test_probes_are_native_grpc_health_checks_unless_tls_is_on(
    manifests: list[dict[str, Any]],
) -> None:
    [container] = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    probes = [container[p] for p in ("startupProbe", "readinessProbe", "livenessProbe")]
    if not any(e["name"] == "BSA_JUDGE_TLS_CERT" for e in container["env"]):
        assert [p["grpc"] for p in probes] == [
            {"port": 50051},
            {"port": 50051, "service": "bsa.judge.v1.JudgeService"},
            {"port": 50051},
        ]
        return
    # Native gRPC probes cannot speak TLS: the image's health command does, with the CA
    # from a mounted volume.
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    for probe in probes:
        assert "grpc" not in probe
        command = probe["exec"]["command"]
        assert command[:2] == ["bsa-judge", "health"]
        [ca] = [arg.removeprefix("--tls-ca=") for arg in command if arg.startswith("--tls-ca=")]
        assert any(ca.startswith(f"{mount}/") for mount in mounts)
    assert "--service=bsa.judge.v1.JudgeService" in probes[1]["exec"]["command"]


def test_the_pod_runs_locked_down_with_a_writable_tmp_only(
    manifests: list[dict[str, Any]],
) -> None:
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    assert (
        set(container["resources"]["requests"])
        == set(container["resources"]["limits"])
        == {
            "cpu",
            "memory",
        }
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = [m for m in container["volumeMounts"] if not m.get("readOnly")]
    assert writable == [{"name": "tmp", "mountPath": "/tmp"}]
    assert "emptyDir" in volumes["tmp"]


def test_the_pod_outlives_the_servers_grace_period(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = deployed_settings(manifests, monkeypatch, tmp_path)
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > settings.grace_period_s + 5


def test_the_service_is_headless_and_selects_the_pods(manifests: list[dict[str, Any]]) -> None:
    service = one(manifests, "Service")
    pod_labels = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {(p["name"], p["port"]) for p in service["spec"]["ports"]} == {
        ("grpc", 50051),
        ("metrics", 9464),
    }


def test_the_disruption_budget_and_the_service_monitor_select_what_they_should(
    manifests: list[dict[str, Any]],
) -> None:
    pod_labels = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    service = one(manifests, "Service")
    budget = one(manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]
    monitor = one(manifests, "ServiceMonitor")["spec"]
    assert budget.items() <= pod_labels.items()
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["endpoints"]] == ["metrics"]


def test_the_autoscaler_uses_cpu_and_an_exported_traces_in_flight_metric(
    manifests: list[dict[str, Any]],
) -> None:
    metrics = one(manifests, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 70}}} in metrics  # fmt: skip
    [pods] = [m["pods"] for m in metrics if m["type"] == "Pods"]
    assert REGISTRY.get_sample_value(pods["metric"]["name"]) is not None


def test_the_config_map_holds_settings_and_a_backends_file_the_server_accepts(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = deployed_settings(manifests, monkeypatch, tmp_path)
    config = one(manifests, "ConfigMap")["data"]
    backends = parse_backends(yaml.safe_load(config["backends.yaml"]))
    assert settings.backends == Path("/etc/bsa-judge/config/backends.yaml")
    assert settings.default_judge in {judge.name for judge in settings.judges}
    # Every API key the settings name comes from a Secret, never from a literal value.
    secret_env = {
        e["name"] for e in deployment_env(manifests) if "secretKeyRef" in e.get("valueFrom", {})
    }
    key_names = {j.api_key_env for j in settings.judges} | {
        b.api_key_env for b in backends.values()
    }
    assert key_names - {None} <= secret_env


def test_every_server_variable_names_a_setting(manifests: list[dict[str, Any]]) -> None:
    variables = {e["name"] for e in deployment_env(manifests) if e["name"].startswith("BSA_JUDGE_")}
    fields = {f"BSA_JUDGE_{name.upper()}" for name in Settings.model_fields} | {"BSA_JUDGE_CONFIG"}
    assert variables - fields == set()


def test_the_run_store_url_comes_from_the_secret(manifests: list[dict[str, Any]]) -> None:
    [database_url] = [e for e in deployment_env(manifests) if e["name"] == "BSA_JUDGE_DATABASE_URL"]
    assert database_url["valueFrom"] == {
        "secretKeyRef": {"name": "bsa-judge-secrets", "key": "database-url"}
    }


def deployment_env(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [container] = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    env: list[dict[str, Any]] = container["env"]
    return env


def deployed_settings(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """The Settings the server builds from the ConfigMap's settings.yaml (plain env only)."""
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(one(manifests, "ConfigMap")["data"]["settings.yaml"])
    monkeypatch.setenv("BSA_JUDGE_CONFIG", str(settings_file))
    for variable in deployment_env(manifests):
        if "value" in variable and variable["name"] != "BSA_JUDGE_CONFIG":
            monkeypatch.setenv(variable["name"], variable["value"])
    return Settings()


def test_a_benchmark_run_is_an_indexed_job_of_drivers_one_shard_each() -> None:
    import argparse

    from bsa_judge.commands import run as run_command
    from bsa_judge.driver.selection import Shard

    manifests = render("production-benchmark")
    job = one(manifests, "Job")
    spec = job["spec"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert spec["completionMode"] == "Indexed"
    assert job["metadata"]["namespace"] == one(manifests, "Deployment")["metadata"]["namespace"]
    # The shard flag takes the pod's index; its N is the Job's size.
    [shard] = [a.removeprefix("--shard=") for a in container["args"] if a.startswith("--shard=")]
    index, count = shard.split("/")
    assert index == "$(JOB_COMPLETION_INDEX)"
    assert spec["completions"] == spec["parallelism"] == int(count)
    [variable] = [e for e in container["env"] if e["name"] == "JOB_COMPLETION_INDEX"]
    assert variable["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    )
    # The arguments are ones `bsa-judge run` accepts, for every index, and name a model
    # backend the server is configured with.
    parser = argparse.ArgumentParser()
    run_command.register(parser.add_subparsers())
    backends = parse_backends(yaml.safe_load(one(manifests, "ConfigMap")["data"]["backends.yaml"]))
    for pod_index in range(int(count)):
        args = parser.parse_args(
            [a.replace("$(JOB_COMPLETION_INDEX)", str(pod_index)) for a in container["args"]]
        )
        assert Shard.parse(args.shard) == Shard(pod_index, int(count))
        assert args.model in backends
        assert args.run_id
    assert args.server.startswith("dns:///bsa-judge.")
    # Locked down like the server's pod, the token from a Secret.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert [m for m in container["volumeMounts"] if not m.get("readOnly")] == [
        {"name": "tmp", "mountPath": "/tmp"}
    ]
    [token] = [e for e in container["env"] if e["name"] == run_command.TOKEN_ENV]
    assert "secretKeyRef" in token["valueFrom"]
