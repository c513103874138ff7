"""Driving a benchmark run against a server: the `bsa-judge run` use case.

Load and select the items, read the traces (when the samples were generated elsewhere),
create or resume the run, evaluate the items through EvaluateItems, write the outputs and
print the figures: `bsa_judge.driver`, through the client SDK's JudgeClient. A dns:///
target names every pod of a headless Service and the items are spread over them.
"""

from __future__ import annotations

from dataclasses import replace

from bsa_judge.app.remote import bearer_token
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.driver.command import RunInputError, RunOptions, drive

__all__ = ["RunInputError", "RunOptions", "Scenario", "drive_run"]


def drive_run(options: RunOptions) -> int:
    """Run (or resume) the run of `options`; the token, when none is given, is read from
    TOKEN_ENV. Returns the exit code: 0 when every item has k samples each with its
    verdict, 1 otherwise. Raises RunInputError naming the file and row of bad input."""
    return drive(replace(options, token=bearer_token(options.token)))
