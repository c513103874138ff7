"""Calibration in process: how a judge of the settings agrees with a gold file's labels.

The `bsa-judge calibrate` use case when no server is named. Every component comes from the
composition root (`bootstrap.build_for_calibration`: the settings' judges over a run store in
memory); judging the gold traces on running servers instead is a client-side use case,
`app.remote.calibration`.
"""

from __future__ import annotations

from pathlib import Path

from bsa_judge.app import bootstrap
from bsa_judge.backends.endpoint_settings import Connect
from bsa_judge.calibration.agreement import Agreement
from bsa_judge.calibration.gold import GoldFileError, read_gold
from bsa_judge.calibration.report import CalibrationReport
from bsa_judge.errors import NotFound
from bsa_judge.settings import Settings

__all__ = ["Agreement", "CalibrationReport", "GoldFileError", "NotFound", "calibrate_gold_file"]


async def calibrate_gold_file(
    settings: Settings, gold: Path, *, judge: str = "", connect: Connect | None = None
) -> CalibrationReport:
    """The agreement of the judge `judge` (default: the default judge of `settings`) with the
    labels of the gold file `gold`, every trace judged in this process (`connect` as for
    `bootstrap.build`: the real endpoint by default).

    Raises GoldFileError naming the line and field of a bad gold file, NotFound for an unknown
    judge, ValueError for a default or cascade judge that is not configured.
    """
    traces = read_gold(gold)
    app = bootstrap.build_for_calibration(settings, connect=connect)
    try:
        return await app.calibrate(traces, judge=judge)
    finally:
        await app.aclose()
