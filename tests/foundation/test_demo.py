"""`make demo` (python -m bsa_judge.demo) shows a live server and stops it cleanly."""

import subprocess
import sys


def test_the_demo_prints_a_live_health_check_and_a_clean_exit() -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "bsa_judge.demo"], capture_output=True, text=True, timeout=120
    )
    lines = [line.strip() for line in demo.stdout.splitlines()]
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "health      bsa.judge.v1.JudgeService: SERVING" in lines
    assert "reflection  bsa.judge.v1.JudgeService" in lines
    assert "bad input   JudgeTrace -> INVALID_ARGUMENT" in lines
    assert lines[-1] == "server      stopped by SIGTERM, exit code 0"
