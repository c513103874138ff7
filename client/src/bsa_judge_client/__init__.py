"""Client SDK of bsa-judge, the Beyond Safe Answers judging service (bsa.judge.v1).

`JudgeClient` (blocking) and `AsyncJudgeClient` (asyncio) offer one method per RPC:
`generate`, `judge_trace`, `judge_traces`, `compute_metrics`, and for runs `create_run`,
`get_run`, `list_runs`, `export_run` and `evaluate_items`. Requests are the generated
messages of `bsa.judge.v1.judge_pb2` or plain dicts with the same field names; responses
are the generated messages, and `to_dict` turns one into plain Python values.
`write_verdicts_jsonl` writes verdicts as the JSONL export that `bsa-judge metrics` scores.
Depends on grpcio and protobuf only.
"""

from bsa.judge.v1 import judge_pb2

from bsa_judge_client.aio import AsyncJudgeClient
from bsa_judge_client.client import JudgeClient
from bsa_judge_client.connection import RetryPolicy, Tls
from bsa_judge_client.evaluation import PendingItems
from bsa_judge_client.export import to_dict, verdict_row, write_verdicts_jsonl

__all__ = [
    "AsyncJudgeClient",
    "JudgeClient",
    "PendingItems",
    "RetryPolicy",
    "Tls",
    "judge_pb2",
    "to_dict",
    "verdict_row",
    "write_verdicts_jsonl",
]
