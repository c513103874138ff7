"""Runs: the benchmark on one model as one durable, resumable job, and the store that keeps it.

`run` holds the domain values (RunSpec, Run, RunProgress, the sample and verdict keys),
`store` the port (a unit of work around a repository), `memory` and `sql` its adapters,
`codec` the explicit mapping of samples, verdicts and judgments to stored JSON, and
`migrations` the Alembic schema history (`schema.upgrade_to_head`).
"""
