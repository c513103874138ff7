"""The committed stubs are exactly what `make proto` generates from the contract today."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "client" / "src"


def test_regenerated_stubs_equal_the_committed_ones(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "protogen.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    assert [str(path) for path in generated] == [
        "bsa/judge/v1/judge_pb2.py",
        "bsa/judge/v1/judge_pb2.pyi",
        "bsa/judge/v1/judge_pb2_grpc.py",
        "bsa/judge/v1/judge_pb2_grpc.pyi",
    ]
    drifted = [
        str(path)
        for path in generated
        if (tmp_path / path).read_bytes() != (COMMITTED / path).read_bytes()
    ]
    assert drifted == [], "stubs differ from protos/: run `make proto` and commit the result"
