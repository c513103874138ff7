"""`bsa-judge metrics` imports what scoring needs, not the server's settings or gRPC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Modules of other subcommands (serve's flags, calibrate's client) and of no use to metrics.
NOT_FOR_METRICS = (
    "bsa_judge.commands.serve",
    "bsa_judge.settings",
    "pydantic_settings",
    "structlog",
    "grpc",
    "pyarrow.compute",
)

SCRIPT = """
import json, sys
from bsa_judge.cli import main
code = main(["metrics", sys.argv[1], "--bootstrap", "0", "--format", "csv", "--output",
             sys.argv[2]])
print(json.dumps({"code": code, "loaded": [m for m in sys.argv[3:] if m in sys.modules]}))
"""


def test_metrics_command_leaves_other_subcommands_unimported(tmp_path: Path) -> None:
    verdicts = tmp_path / "v.csv"
    verdicts.write_text(
        "model_name,id,dataset_name,Safe_Ans_Check,Thk_Acc_Judge\n"
        + "m,a,Risk Omission,Safe,True\n" * 5
    )
    output = tmp_path / "figures.csv"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(verdicts), str(output), *NOT_FOR_METRICS],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(result.stdout) == {"code": 0, "loaded": []}
    assert output.read_text().startswith("model,")


def test_serve_help_still_lists_the_settings_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bsa_judge.cli", "serve", "--help"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "--metrics-port INT|none" in result.stdout
    assert "[BSA_JUDGE_METRICS_PORT; default 9464]" in result.stdout
