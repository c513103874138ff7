"""Runs, their samples and verdicts, and the judgment cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Ids sort by code point on PostgreSQL too, as on SQLite (see bsa_judge.runs.schema).
_ID = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _key_columns() -> list[sa.Column[str | int]]:
    return [
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("sample_index", sa.Integer(), nullable=False),
    ]


def _key_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=f"fk_{table}_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "item_id", "sample_index", name=f"pk_{table}"),
    ]


def _stored_at() -> sa.Column[object]:
    return sa.Column(
        "stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("decoding", sa.JSON(), nullable=False),
        sa.Column("safety_rules", sa.Boolean(), nullable=False),
        sa.Column("judge", sa.String(), nullable=False),
        sa.Column("judge_model", sa.String(), nullable=False),
        sa.Column("template_versions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_table(
        "run_samples",
        *_key_columns(),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=False),
        _stored_at(),
        *_key_constraints("run_samples"),
    )
    op.create_index("ix_run_samples_run_id_status", "run_samples", ["run_id", "status"])
    op.create_table(
        "run_verdicts",
        *_key_columns(),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("safety_label", sa.String(32), nullable=True),
        sa.Column("thinking_label", sa.String(32), nullable=True),
        sa.Column("thinking_correct", sa.Boolean(), nullable=False),
        sa.Column("scenario", sa.String(32), nullable=True),
        sa.Column("verdict", sa.JSON(), nullable=False),
        _stored_at(),
        *_key_constraints("run_verdicts"),
    )
    op.create_index("ix_run_verdicts_run_id_status", "run_verdicts", ["run_id", "status"])
    op.create_table(
        "judgment_cache",
        sa.Column("cache_key", sa.String(128), nullable=False),
        sa.Column("judgment", sa.JSON(), nullable=False),
        _stored_at(),
        sa.PrimaryKeyConstraint("cache_key", name="pk_judgment_cache"),
    )


def downgrade() -> None:
    op.drop_table("judgment_cache")
    op.drop_index("ix_run_verdicts_run_id_status", table_name="run_verdicts")
    op.drop_table("run_verdicts")
    op.drop_index("ix_run_samples_run_id_status", table_name="run_samples")
    op.drop_table("run_samples")
    op.drop_table("runs")
