"""Metrics: judged samples in, the benchmark's figures out. Pure numpy, no gRPC.

- `scored_samples`: the input, judged samples in columns (`ScoredSampleColumns`);
  `official_csv`, `jsonl` (the export the client SDK writes) and `files` read them;
  `dataset_labels` joins risk categories from the official dataset.
- `sample_checks`: reading and checking each row (every problem names its row and field);
  `tally`: grouping per (model, item), per-item consistency, and the counts.
- `compute`: the figures (`metrics_for`), `bootstrap`: their intervals, `report`: the result.
- `records`, `terminal`, `plot`: CSV/JSON under the official column names, rich tables, PNG.
"""
