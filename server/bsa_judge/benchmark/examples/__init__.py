"""A small illustrative dataset written for this project (not benchmark items): two items
per scenario in the official CSV format, for the demo and for trying `bsa-judge run`.
The real benchmark is the ModelScope dataset OpenStellarTeam/BeyongSafeAnswer_Benchmark."""

from __future__ import annotations

from pathlib import Path

#: The illustrative dataset, official CSV format.
ILLUSTRATIVE_DATASET = Path(__file__).with_name("illustrative.csv")
