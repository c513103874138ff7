"""Metrics: judged samples in, the benchmark's figures out. Pure numpy, no gRPC.

- `verdicts`: the input rows (`ScoredVerdict`) and columns (`VerdictColumns`);
  `official_csv`, `jsonl` and `files` read them (and `jsonl` writes the export);
  `dataset_labels` joins risk categories from the official dataset.
- `tally`: validation (every problem names its row and field) and per-(model, item) counts.
- `compute`: the figures (`metrics_for`), `bootstrap`: their intervals, `report`: the result.
- `records`, `terminal`, `plot`: CSV/JSON under the official column names, rich tables, PNG.
"""
