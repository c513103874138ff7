"""The client SDK installs alone: grpcio and protobuf, nothing of the server."""

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run inside the fresh environment.
PROBE = """
import importlib.metadata, importlib.util, json, pathlib
import bsa_judge_client
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge_client import JudgeClient
JudgeClient("127.0.0.1:1").close()
site = pathlib.Path(judge_pb2.__file__).parents[3]
print(json.dumps({
    "distributions": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()),
    "server_modules": [m for m in ("bsa_judge", "openai", "structlog", "pydantic", "grpc_health",
                                   "grpc_status", "grpc_tools") if importlib.util.find_spec(m)],
    "typed": sorted(str(p.relative_to(site)) for top in ("bsa", "bsa_judge_client")
                    for p in (site / top).rglob("*") if p.suffix == ".pyi" or p.name == "py.typed"),
    "message": judge_pb2.Trace(answer="ok").answer,
}))
"""


def test_the_client_installs_into_a_fresh_virtualenv_without_any_server_dependency(
    tmp_path: Path,
) -> None:
    # A copy, so that building leaves nothing behind in the repository.
    source = tmp_path / "client"
    shutil.copytree(
        ROOT / "client", source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    # This test run's pip installs into the new environment (`--python`), exactly as a
    # pip inside it would: isolated build, dependencies from the configured indexes.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "-c", str(ROOT / "requirements" / "constraints.txt"), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip

    probe = subprocess.run(
        [str(python), "-c", PROBE], check=True, capture_output=True, text=True, cwd=tmp_path
    )

    assert json.loads(probe.stdout) == {
        "distributions": ["bsa-judge-client", "grpcio", "protobuf", "typing_extensions"],
        "server_modules": [],
        "typed": [  # PEP 561: a caller's mypy reads the stubs' types
            "bsa/judge/v1/judge_pb2.pyi",
            "bsa/judge/v1/judge_pb2_grpc.pyi",
            "bsa/py.typed",
            "bsa_judge_client/py.typed",
        ],
        "message": "ok",
    }
